// The exchange page: a key field takes the whole JSON `grassroots exchange key` prints
// ({"source", "kid", "public_key"}); the key id (and, when adding a peer, its code if still
// empty) are filled from it. The JSON itself is sent: the server checks it again (source,
// key id against the key) whatever this script did.
(function () {
  "use strict";
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
      if (code && !code.value && typeof data.source === "string") code.value = data.source;
      var note = form.querySelector("[data-key-note]");
      if (note) note.classList.remove("d-none");
    };
    input.addEventListener("input", fill);
    input.addEventListener("change", fill);
  });
})();
