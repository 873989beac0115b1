// Console behaviour that used to sit in inline handlers: the Content-Security-Policy allows
// only scripts served from here (script-src 'self'), so none run from attributes or <script>.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target.closest("[data-autosubmit]");
    if (el && el.form) el.form.submit();
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  }, true);
  // Forms rendered by Django without Bootstrap classes get them here.
  document.querySelectorAll("form[data-bs-controls] input, form[data-bs-controls] select")
    .forEach(function (e) {
      if (e.type === "hidden" || e.type === "checkbox" || e.type === "radio") return;
      e.classList.add(e.tagName === "SELECT" ? "form-select" : "form-control");
    });
})();
