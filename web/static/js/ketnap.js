// Ketnap: small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Open the event form that holds an error, or the one named in the address (#event-...).
  function openTarget() {
    var target = document.querySelector("details.has-errors") ||
      (location.hash ? document.getElementById(location.hash.slice(1)) : null);
    if (target && target.tagName === "DETAILS") {
      target.open = true;
      // an other action sits inside the "Other actions" toggle: open that too
      for (var up = target.parentElement; up; up = up.parentElement) {
        if (up.tagName === "DETAILS") { up.open = true; }
      }
      var focus = target.querySelector(".has-error input, .has-error select, .has-error textarea");
      if (focus) { focus.focus(); }
    }
  }
  // Ask before an other action (closing a case, failing the class, a transfer …) is sent
  // (`root`: the page, or a form fetched when its step was opened).
  function confirmations(root) {
    root.querySelectorAll("form[data-confirm]:not([data-confirm-bound])").forEach(function (form) {
      form.setAttribute("data-confirm-bound", "1");
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }
  // Auto-submit filter selects (the search button stays for keyboards and no-JS).
  function autoFilters() {
    document.querySelectorAll("form.filters select").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    openTarget();
    confirmations(document);
    autoFilters();
  });
  // a step's form fetched when opened (web/static/js/forms.js) asks before it is sent too
  document.addEventListener("ketnap:content", function (event) { confirmations(event.target); });
})();
