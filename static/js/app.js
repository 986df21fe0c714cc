// Frontdesk's own script: small keyboard helpers. Everything works without it.
(function () {
  "use strict";

  function typing(t) {
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  // "/" focuses the page's search box from anywhere (but not while typing in a field).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) return;
    var box = document.querySelector("[data-search-box]");
    if (box) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });

  // Arrow keys move between a search box and its results: each result is a link or button marked
  // [data-result] inside the element the box's aria-controls names; Enter then opens or picks it.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var t = event.target;
    var box = t.matches && t.matches("[aria-controls][data-search-box], [aria-controls][data-picker-box]") ? t : null;
    var scope = box ? document.getElementById(box.getAttribute("aria-controls")) : t.closest && t.closest("[data-results-scope]");
    if (!scope) return;
    var items = Array.prototype.slice.call(scope.querySelectorAll("[data-result]"));
    if (!items.length) return;
    var at = items.indexOf(t);
    var next;
    if (box) {
      next = event.key === "ArrowDown" ? items[0] : null;
    } else if (event.key === "ArrowDown") {
      next = items[Math.min(at + 1, items.length - 1)];
    } else if (at <= 0) {
      next = document.querySelector('[aria-controls="' + scope.id + '"]');
    } else {
      next = items[at - 1];
    }
    if (next) {
      event.preventDefault();
      next.focus();
    }
  });

  // A <select data-autosubmit> submits its form when changed (the header's location switcher).
  document.addEventListener("change", function (event) {
    var t = event.target;
    if (t && t.matches && t.matches("select[data-autosubmit]") && t.form) t.form.requestSubmit();
  });
})();

// API keys screen: a "Copy" button copies the text field it names; focusing the field selects it.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy-target]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    if (!field) return;
    field.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(field.value).then(function () { button.textContent = "Copied"; });
    }
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
  });
})();
