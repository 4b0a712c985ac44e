// A second click while the first is on its way does nothing (the server also reuses an open attempt).
(function () {
  "use strict";
  document.querySelectorAll("form.pay-option").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var button = form.querySelector("button");
      button.setAttribute("aria-disabled", "true");
      button.textContent = "Working…";
    });
  });
  // The receipt's Print button (no inline handlers: the Content-Security-Policy forbids them).
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
