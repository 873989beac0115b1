// The exchange page: a key field takes the whole JSON `grassroots exchange key` prints
// ({"source", "kid", "public_key"}); the key id (and, when adding a peer, its code if still
// empty) are filled from it. A field this script filled is filled again by the next paste
// (a second JSON replaces the first one's code, key id, name and scope); one the user typed
// is kept. The JSON itself is sent: the server checks it again (source,
// key id against the key) whatever this script did.
// When adding a peer whose source is a province's ("province-<code>") and a unit of that code
// is offered, the scope is set to that province while it is still the default (the country at
// the centre), and an empty name becomes "Hệ thống <province>".
// The approval option is shown only while bulletins are received from the peer.
(function () {
  "use strict";
  var lowerFirst = function (s) { return s.charAt(0).toLowerCase() + s.slice(1); };

  var pickProvince = function (form, source) {
    var m = /^province-(.+)$/.exec(source);
    var picker = form.querySelector(".unit-picker");
    if (!m || !picker || !window.Alpine) return;
    var data = window.Alpine.$data(picker);
    var unit = data && data.byCode ? data.byCode[m[1]] : null;
    if (!unit) return;
    var current = data.selected.length ? data.selected[0] : "";
    var auto = form.dataset.autoUnit || "";
    if (current && current !== form.dataset.defaultUnit && current !== unit.code &&
        current !== auto) return;
    if (current !== unit.code) data.pick(unit.code, true);
    form.dataset.autoUnit = unit.code;
    var name = form.querySelector("input[name=name]");
    if (name) fillField(name, form.dataset.namePrefix + " " + lowerFirst(unit.name));
  };

  // Sets a field to `value` unless the user typed something of their own in it: it is
  // empty, or still holds what this script put there last (data-auto).
  var fillField = function (field, value) {
    var ours = field.dataset.auto !== undefined && field.value === field.dataset.auto;
    if (field.value && !ours) return false;
    field.value = value;
    field.dataset.auto = value;
    return true;
  };

  document.querySelectorAll("input[data-key-json]").forEach(function (input) {
    var form = input.form;
    var fill = function () {
      var text = input.value.trim();
      if (text.charAt(0) !== "{") return;
      var data;
      try { data = JSON.parse(text); } catch (e) { return; }
      if (!data || typeof data.public_key !== "string") return;
      var kid = form.querySelector("input[name=kid]");
      if (kid && typeof data.kid === "string") kid.value = data.kid;
      var code = form.querySelector("input[name=code]");
      if (code && typeof data.source === "string") {
        var name = form.querySelector("input[name=name]");
        // a new source: the name filled for the previous one no longer fits
        if (name && name.dataset.auto !== undefined && name.value === name.dataset.auto &&
            code.value !== data.source) {
          name.value = "";
          name.dataset.auto = "";
        }
        fillField(code, data.source);
        if (code.value === data.source) pickProvince(form, data.source);
      }
      var note = form.querySelector("[data-key-note]");
      if (note) note.classList.remove("d-none");
    };
    input.addEventListener("input", fill);
    input.addEventListener("change", fill);
  });

  document.querySelectorAll("[data-approval]").forEach(function (box) {
    var form = box.closest("form");
    var bulletin = form && form.querySelector("input[name=kinds_in][value=bulletin]");
    if (!bulletin) return;
    var sync = function () { box.hidden = !bulletin.checked; };
    bulletin.addEventListener("change", sync);
    sync();
  });
})();
