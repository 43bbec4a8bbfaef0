// Ketnap forms: sent once, every error in view, members picked by name.
// Progressive enhancement only: without this file every form still works (the server
// resolves a typed member name, and a second identical submit is answered as the first).
(function () {
  "use strict";

  // ── one tap, one submit ─────────────────────────────────────────────
  // The first submit disables the button (and says so); a second one is swallowed.
  // Back/forward cache: a page shown again gets its button back.
  function sendOnce() {
    document.querySelectorAll("form[data-once]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (event.defaultPrevented) { return; }   // e.g. a confirmation declined
        if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
        form.setAttribute("data-sent", "1");
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = true;
          button.setAttribute("aria-disabled", "true");
          if (button.getAttribute("data-busy")) {
            button.setAttribute("data-label", button.textContent);
            button.textContent = button.getAttribute("data-busy");
          }
        });
      });
    });
    window.addEventListener("pageshow", function () {
      document.querySelectorAll("form[data-sent]").forEach(function (form) {
        form.removeAttribute("data-sent");
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          button.disabled = false;
          button.removeAttribute("aria-disabled");
          if (button.getAttribute("data-label")) { button.textContent = button.getAttribute("data-label"); }
        });
      });
    });
  }

  // ── errors and results in view ──────────────────────────────────────
  function focusField(id) {
    var target = document.getElementById(id);
    if (!target) { return false; }
    var details = target.closest("details");
    if (details) { details.open = true; }
    var input = target.matches("input, select, textarea") ? target :
      target.querySelector("[aria-invalid=true], input:not([type=hidden]), select, textarea");
    (input || target).focus();
    return true;
  }
  // A form that came back with problems: its summary is focused (a screen reader reads
  // it out, and it scrolls into view); with a single problem, its field is. A link of
  // the summary moves to its field. Else a result message is brought into view.
  function showOutcome() {
    document.querySelectorAll(".error-summary a[data-focus]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (focusField(link.getAttribute("data-focus"))) { event.preventDefault(); }
      });
    });
    var summary = document.querySelector(".error-summary");
    if (summary) {
      var links = summary.querySelectorAll("a[data-focus]");
      var items = summary.querySelectorAll("li");
      if (items.length === 1 && links.length === 1 && focusField(links[0].getAttribute("data-focus"))) {
        return;
      }
      summary.focus();
      summary.scrollIntoView({block: "start"});
      return;
    }
    var message = document.querySelector(".flashes .flash, .notice[role=alert]");
    if (message && !location.hash) {
      message.setAttribute("tabindex", "-1");
      message.focus();
      message.scrollIntoView({block: "start"});
    }
  }

  // ── members picked by name ──────────────────────────────────────────
  // The visible box holds the name; the hidden one beside it the chosen member's id.
  // Typing clears the id (the server then resolves the name); choosing a suggestion
  // sets both. Suggestions come from /api/v1/members/search (the caller's sight only).
  var pickerCount = 0;
  function picker(wrapper) {
    var input = wrapper.querySelector("input.member-name");
    var hidden = wrapper.querySelector("input.member-id");
    var form = wrapper.closest("form");
    var listId = "member-list-" + (++pickerCount);
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "member-suggestions";
    list.setAttribute("role", "listbox");
    list.hidden = true;
    wrapper.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");
    var timer = null, active = -1, asked = 0;

    function close() {
      list.hidden = true; list.textContent = ""; active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }
    function choose(option) {
      input.value = option.getAttribute("data-name");
      hidden.value = option.getAttribute("data-id");
      close();
    }
    function highlight(index) {
      var options = list.querySelectorAll("li");
      if (!options.length) { return; }
      active = (index + options.length) % options.length;
      options.forEach(function (o, i) { o.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", options[active].id);
    }
    function show(items) {
      list.textContent = "";
      items.forEach(function (item, i) {
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("data-id", item.id);
        option.setAttribute("data-name", item.full_name);
        option.textContent = item.full_name;
        var note = document.createElement("span");
        note.className = "muted small";
        note.textContent = " · " + item.status_label + " · " + item.cell_name;
        option.appendChild(note);
        option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(option); });
        list.appendChild(option);
      });
      list.hidden = !items.length;
      input.setAttribute("aria-expanded", items.length ? "true" : "false");
      active = -1;
    }
    function ask() {
      var q = input.value.trim();
      if (q.length < 2) { close(); return; }
      var url = wrapper.getAttribute("data-search") + "?q=" + encodeURIComponent(q);
      if (form && form.getAttribute("data-cell")) { url += "&cell=" + form.getAttribute("data-cell"); }
      var mine = ++asked;
      fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : {items: []}; })
        .then(function (body) { if (mine === asked) { show(body.items || []); } })
        .catch(function () { close(); });
    }
    input.addEventListener("input", function () {
      hidden.value = "";
      clearTimeout(timer);
      timer = setTimeout(ask, 200);
    });
    input.addEventListener("keydown", function (event) {
      if (list.hidden) { return; }
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active - 1); }
      else if (event.key === "Enter" && active >= 0) {
        event.preventDefault(); choose(list.querySelectorAll("li")[active]);
      } else if (event.key === "Escape") { close(); }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    sendOnce();
    document.querySelectorAll(".member-picker").forEach(picker);
    showOutcome();
  });
})();
