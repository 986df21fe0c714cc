// Import upload: a file over the limit is refused here, before minutes of uploading, with the same
// message the server gives. Without this script the server still says it on the field.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
    var file = input.files && input.files[0];
    var tooLarge = file && file.size > Number(input.getAttribute("data-max-bytes"));
    var message = tooLarge ? input.getAttribute("data-too-large") : "";
    input.setCustomValidity(message);
    input.toggleAttribute("data-refused", !!tooLarge);
    var box = document.getElementById(input.id + "-client-error");
    if (!box && message) {
      box = document.createElement("p");
      box.className = "error";
      box.id = input.id + "-client-error";
      input.insertAdjacentElement("afterend", box);
    }
    if (box) box.textContent = message;
    input.setAttribute("aria-invalid", tooLarge ? "true" : "false");
    if (message) input.setAttribute("aria-describedby", box.id);
  });
  document.addEventListener("submit", function (event) {
    var input = event.target.querySelector && event.target.querySelector("input[type=file][data-max-bytes]");
    if (input && input.hasAttribute("data-refused")) {
      event.preventDefault();
      input.focus();
    }
  });
})();

// Import progress: htmx polls the page every second. Should htmx not have loaded (a blocked CDN), the
// page reloads itself every two seconds instead, as it does with JavaScript off (<noscript> refresh).
window.addEventListener("load", function () {
  "use strict";
  var poller = document.querySelector("[data-import-progress]");
  if (poller && typeof window.htmx === "undefined") {
    window.setTimeout(function () { window.location.reload(); }, 2000);
  }
});
