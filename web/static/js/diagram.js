// Draw the process diagram(s) with the vendored Mermaid (no network, no inline script).
(function () {
  "use strict";
  if (!window.mermaid) { return; }
  window.mermaid.initialize({
    startOnLoad: false,
    securityLevel: "strict",
    theme: "neutral",
    fontFamily: "\"Be Vietnam Pro\", \"Segoe UI\", Roboto, Arial, sans-serif",
    state: { useMaxWidth: true }
  });
  document.addEventListener("DOMContentLoaded", function () {
    window.mermaid.run({ querySelector: "pre.mermaid" }).then(function () {
      document.body.setAttribute("data-diagram", "ready");
    }).catch(function (error) {
      document.body.setAttribute("data-diagram", "failed");
      if (window.console) { window.console.error(error); }
    });
  });
})();
