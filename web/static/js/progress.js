// A background job's page (an import, the auditor's integrity check): poll its progress
// (done / total) and move the bar; reload for the kept result when it ends.
// Without this script the page refreshes itself every few seconds (meta refresh).
(function () {
  "use strict";
  var panel = document.querySelector("[data-progress-url]");
  if (!panel || !window.fetch) { return; }
  var bar = panel.querySelector("progress");
  var text = panel.querySelector("[data-progress-text]");
  var url = panel.getAttribute("data-progress-url");
  var refresh = document.querySelector("meta[http-equiv='refresh']");
  if (refresh) { refresh.parentNode.removeChild(refresh); }  // the script takes over
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job) { window.setTimeout(poll, 3000); return; }
        if (job.state === "done" || job.state === "failed") { window.location.reload(); return; }
        bar.max = Math.max(job.total, 1);
        bar.value = job.done;
        bar.textContent = job.percent + "%";
        if (text) { text.textContent = job.done + " / " + (job.total || "…") + " (" + job.percent + "%)"; }
        window.setTimeout(poll, 700);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
}());
