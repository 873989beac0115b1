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
    if (form && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    // one button of a form may ask too (e.g. "send the report", which freezes its figures)
    var asker = event.submitter && event.submitter.closest("[data-confirm]");
    if (asker && asker !== form && !window.confirm(asker.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    // a form sent once is not sent twice by a second click (e.g. an answer to a citizen)
    var once = event.target.closest("form[data-disable-on-submit]");
    if (once) {
      // after the form data is taken (a disabled submitter would drop its own name=value)
      setTimeout(function () {
        once.querySelectorAll("button[type=submit], button:not([type])").forEach(function (b) {
          b.disabled = true;
        });
      }, 0);
    }
  }, true);
  // A live character count under a long text field: "1 234 / 20 000 kí tự", red when over
  // (the server refuses the text then, and keeps what was typed; nothing is cut silently).
  document.querySelectorAll("textarea[data-max-chars]").forEach(function (area) {
    var max = parseInt(area.getAttribute("data-max-chars"), 10);
    var label = area.getAttribute("data-chars-label") || "";
    var out = document.createElement("div");
    out.className = "form-text text-end char-count";
    out.setAttribute("aria-live", "polite");
    area.insertAdjacentElement("afterend", out);
    var show = function () {
      var n = area.value.length;
      out.textContent = n.toLocaleString("vi-VN") + " / " + max.toLocaleString("vi-VN") + " " + label;
      out.classList.toggle("text-danger", n > max);
      out.classList.toggle("fw-semibold", n > max);
    };
    area.addEventListener("input", show);
    show();
  });
  // Forms rendered by Django without Bootstrap classes get them here.
  document.querySelectorAll("form[data-bs-controls] input, form[data-bs-controls] select")
    .forEach(function (e) {
      if (e.type === "hidden" || e.type === "checkbox" || e.type === "radio") return;
      e.classList.add(e.tagName === "SELECT" ? "form-select" : "form-control");
    });
})();
