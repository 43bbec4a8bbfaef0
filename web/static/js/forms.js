// Ketnap forms: sent once, every error in view, members picked by name.
// Progressive enhancement only: without this file every form still works (the server
// resolves a typed member name, and a second identical submit is answered as the first).
(function () {
  "use strict";

  // ── one tap, one submit ─────────────────────────────────────────────
  // The first submit disables the button (and says so); a second one is swallowed.
  // Back/forward cache: a page shown again gets its button back.
  function sendOnce(root) {
    root.querySelectorAll("form[data-once]:not([data-once-bound])").forEach(function (form) {
      form.setAttribute("data-once-bound", "1");
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
  }
  function sentAgain() {
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

  // ── members (and cells) picked by name ──────────────────────────────
  // The visible box holds the name; the hidden one beside it the chosen member's id.
  // Typing clears the id (the server then resolves the name); choosing a suggestion
  // sets both. Suggestions come from /api/v1/members/search (the caller's sight only);
  // a cell's picker (data-kind="cell": a transfer's receiving cell) asks
  // /api/v1/organisations?q= and shows each cell with the organisation above it.
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
    var kind = wrapper.getAttribute("data-kind");
    // what a suggestion shows and fills in: a member's name (status, cell), or a
    // cell's name with the organisation above it
    function named(item) {
      if (kind) { return {name: item.label, text: item.name, note: item.parent_name ? " · " + item.parent_name : ""}; }
      return {name: item.full_name, text: item.full_name, note: " · " + item.status_label + " · " + item.cell_name};
    }
    function show(items) {
      list.textContent = "";
      items.forEach(function (item, i) {
        var shown = named(item);
        var option = document.createElement("li");
        option.id = listId + "-" + i;
        option.setAttribute("role", "option");
        option.setAttribute("data-id", item.id);
        option.setAttribute("data-name", shown.name);
        option.textContent = shown.text;
        var note = document.createElement("span");
        note.className = "muted small";
        note.textContent = shown.note;
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
      if (kind) { url += "&kind=" + encodeURIComponent(kind); }
      else if (form && form.getAttribute("data-cell")) { url += "&cell=" + form.getAttribute("data-cell"); }
      var mine = ++asked;
      fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.ok ? r.json() : {items: []}; })
        .then(function (body) {
          if (mine === asked) { show(Array.isArray(body) ? body : (body.items || [])); }
        })
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

  // ── a step's form fetched when it is opened ─────────────────────────
  // The case page builds only the form of the reader's next step; another step's
  // <details data-form="…"> holds a link to the page with that form open (?step=, what
  // works without JavaScript). Opened, it fetches the form from the server (the same
  // markup and CSRF token as the page's) and puts it in the link's place.
  function enhance(root) {
    sendOnce(root);
    root.querySelectorAll(".member-picker:not([data-bound])").forEach(function (wrapper) {
      wrapper.setAttribute("data-bound", "1");
      picker(wrapper);
    });
  }
  function formOnDemand(details) {
    var asked = false;
    function load() {
      if (!details.open || asked) { return; }
      asked = true;
      var later = details.querySelector(".form-later");
      fetch(details.getAttribute("data-form"), {credentials: "same-origin", headers: {Accept: "text/html"}})
        .then(function (r) {
          // a step no longer open to the reader (404), or a session expired (redirected
          // to the sign-in page): the link stays, and opens the page as it is now
          if (!r.ok || r.redirected) { throw new Error(String(r.status)); }
          return r.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.className = "form-loaded";
          holder.innerHTML = html;
          if (later) { later.replaceWith(holder); } else { details.appendChild(holder); }
          details.removeAttribute("data-form");
          // ketnap.js binds its confirmation first, as on a page's own forms
          holder.dispatchEvent(new CustomEvent("ketnap:content", {bubbles: true}));
          enhance(holder);
          var first = holder.querySelector("input:not([type=hidden]), select, textarea");
          if (first) { first.focus({preventScroll: true}); }
        })
        .catch(function () { asked = false; });   // the link stays: it opens the form
    }
    details.addEventListener("toggle", load);
    load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    sentAgain();
    enhance(document);
    document.querySelectorAll("details[data-form]").forEach(formOnDemand);
    showOutcome();
  });
})();
