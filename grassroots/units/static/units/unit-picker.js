// The console's one unit picker (units/widgets/unit_picker.html): a tree of units, searched
// without diacritics ("pho hien" finds "Phường Phố Hiến"); a parent ticks its whole subtree.
(function () {
  function fold(s) {
    return (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase().replace(/\s+/g, " ").trim();
  }
  function register() {
    window.Alpine.data("unitPicker", function () {
      return {
        q: "", rows: [], byCode: {}, children: {}, open: {}, selected: [], multiple: true,
        init() {
          const el = this.$el;
          this.multiple = el.dataset.multiple === "1";
          this.name = el.dataset.name;
          this.rows = JSON.parse(document.getElementById(el.id + "-data").textContent);
          for (const r of this.rows) { this.byCode[r.code] = r; this.children[r.code] = []; }
          for (const r of this.rows) { if (r.parent && this.children[r.parent]) this.children[r.parent].push(r.code); }
          const level = (r) => (r.parent && this.byCode[r.parent] ? level(this.byCode[r.parent]) + 1 : 0);
          for (const r of this.rows) {
            r.level = level(r);
            r.hasChildren = this.children[r.code].length > 0;
            r.parentName = r.parent && this.byCode[r.parent] ? this.byCode[r.parent].name : "";
            if (r.level === 0) this.open[r.code] = true;
          }
          this.selected = Array.from(this.$refs.inputs.querySelectorAll("input")).map((i) => i.value);
          this.$el.querySelector("noscript")?.remove();
          this.sync(false);
        },
        visible() {
          const q = fold(this.q);
          if (q) {
            return this.rows.filter((r) => r.folded.includes(q) || r.code.startsWith(q)).slice(0, 200);
          }
          const out = [];
          const walk = (code) => {
            const r = this.byCode[code];
            out.push(r);
            if (this.open[code]) for (const c of this.children[code]) walk(c);
          };
          for (const r of this.rows) if (r.level === 0) walk(r.code);
          return out;
        },
        isOpen(code) { return !!this.open[code]; },
        toggle(code) { this.open[code] = !this.open[code]; },
        coveredBy(code) {
          if (!this.multiple) return "";
          let r = this.byCode[code];
          while (r && r.parent && this.byCode[r.parent]) {
            if (this.selected.includes(r.parent)) return r.parent;
            r = this.byCode[r.parent];
          }
          return "";
        },
        isChecked(code) { return this.selected.includes(code) || this.coveredBy(code) !== ""; },
        pick(code, on) {
          if (!this.multiple) {
            this.selected = on ? [code] : [];
          } else if (on) {
            // a parent covers its subtree: drop descendants already chosen
            const under = (c) => { let r = this.byCode[c]; while (r && r.parent) { if (r.parent === code) return true; r = this.byCode[r.parent]; } return false; };
            this.selected = this.selected.filter((c) => !under(c)).concat([code]);
          } else {
            this.selected = this.selected.filter((c) => c !== code);
          }
          this.sync(true);
        },
        clear() { this.selected = []; this.sync(true); },
        sync(changed) {
          const box = this.$refs.inputs;
          box.replaceChildren(...this.selected.map((c) => {
            const i = document.createElement("input");
            i.type = "hidden"; i.name = this.name; i.value = c; return i;
          }));
          const chips = this.$refs.chips;
          chips.replaceChildren(...this.selected.map((c) => {
            const r = this.byCode[c] || { name: c, code: c };
            const b = document.createElement("button");
            b.type = "button"; b.className = "badge text-bg-light border unit-chip";
            b.title = (chips.dataset.unpick || "") + " " + r.name;
            b.append(r.name + " ");
            const s = document.createElement("small"); s.className = "text-muted"; s.textContent = r.code;
            b.append(s, " ✕");
            b.addEventListener("click", () => this.pick(c, false));
            return b;
          }));
          if (!this.selected.length) {
            const s = document.createElement("span");
            s.className = "text-muted small unit-picker-empty";
            s.textContent = chips.dataset.empty || "";
            chips.append(s);
          }
          if (changed) box.dispatchEvent(new Event("change", { bubbles: true }));
        },
      };
    });
  }
  if (window.Alpine) register(); else document.addEventListener("alpine:init", register);
})();
