// The auditor's ledger page: while a whole-subtree integrity check runs, poll its
// progress (cases checked / total) and move the bar; reload for the kept result.
// Without this script the page refreshes itself every few seconds (meta refresh).
(function () {
  "use strict";
  var panel = document.querySelector("#integrity-progress[data-progress-url]");
  if (!panel || !window.fetch) { return; }
  var bar = panel.querySelector("progress");
  var text = panel.querySelector("[data-progress-text]");
  var url = panel.getAttribute("data-progress-url");
  var refresh = document.querySelector("meta[http-equiv='refresh']");
  if (refresh) { refresh.parentNode.removeChild(refresh); }  // the script takes over
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (check) {
        if (!check) { window.setTimeout(poll, 3000); return; }
        if (check.state === "done" || check.state === "failed") { window.location.reload(); return; }
        bar.max = Math.max(check.total, 1);
        bar.value = check.done;
        bar.textContent = check.percent + "%";
        if (text) { text.textContent = check.done + " / " + (check.total || "…") + " (" + check.percent + "%)"; }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
}());
