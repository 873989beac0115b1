/* The e-board player (/board/) and the console preview of it.
 *
 * Security: everything that comes from a bulletin is put on screen with textContent or as a
 * blob: URL of a hash-checked file, never as HTML. Commands and manifests are verified with
 * Ed25519 (WebCrypto) against the keys pinned at pairing; where the browser lacks Ed25519 only
 * the key id is checked (reported as "verify": "kid" in the heartbeat).
 */
(function () {
  "use strict";

  const body = document.body;
  const MODE = body.dataset.mode || "board";
  const PREVIEW = MODE === "preview" || MODE === "item"; // "item": one bulletin, before publishing
  const VERSION = body.dataset.version || "";
  const STORE = PREVIEW ? sessionStorage : localStorage;
  const K = {
    cred: "gr.board.cred",
    manifest: "gr.board.manifest",
    emergency: "gr.board.emergency",
    proofs: "gr.board.proofs",
    seen: "gr.board.seen",
    pairing: "gr.board.pairing",
    clock: "gr.board.clock",
    maxseq: "gr.board.maxseq",
  };
  const SKEW_MS = 120 * 1000;
  const $ = (id) => document.getElementById(id);

  const state = {
    cred: null,
    manifest: null,
    etag: null,
    items: [],
    index: -1,
    current: null,
    currentStart: null,
    timer: null,
    urls: new Map(), // sha256 -> blob: URL
    emergency: null,
    mqtt: null,
    mqttConnected: false,
    verify: "none",
    keys: new Map(),
  };
  window.__board = state; // for monitoring from devtools and tests (no secrets read from it)

  // ---------------------------------------------------------------- storage helpers
  function load(key) {
    try { return JSON.parse(STORE.getItem(key)); } catch (e) { return null; }
  }
  function save(key, value) {
    try { STORE.setItem(key, JSON.stringify(value)); } catch (e) { /* full: keep running */ }
  }

  // ---------------------------------------------------------------- crypto
  function b64bytes(b64) {
    const bin = atob(b64);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function hex(buffer) {
    return Array.from(new Uint8Array(buffer)).map((b) => b.toString(16).padStart(2, "0")).join("");
  }
  /* The server's canonical JSON: sorted keys, no spaces, UTF-8 as is. */
  function canonical(v) {
    if (v === null || typeof v !== "object") return JSON.stringify(v);
    if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
    return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
  }
  async function importKeys(list) {
    state.keys.clear();
    for (const k of list || []) {
      if (k.alg !== "Ed25519") continue;
      let key = null;
      try {
        key = await crypto.subtle.importKey("raw", b64bytes(k.public_key), { name: "Ed25519" }, false, ["verify"]);
        state.verify = "ed25519";
      } catch (e) {
        state.verify = "kid";
      }
      state.keys.set(k.kid, key);
    }
  }
  /* True when `sig` is a valid signature of `text` (the signed bytes) by key `kid`. */
  async function verified(text, sig, kid) {
    if (!state.keys.has(kid)) return false;
    const key = state.keys.get(kid);
    if (!key) return true; // no Ed25519 in this browser: the pinned kid is all we can check
    try {
      return await crypto.subtle.verify({ name: "Ed25519" }, key, b64bytes(sig), new TextEncoder().encode(text));
    } catch (e) {
      return false;
    }
  }

  // ---------------------------------------------------------------- server time
  /* Board PCs often have wrong clocks (no RTC battery, no NTP through a 4G SIM), so everything
   * time-related goes through serverNow(): the local clock plus an offset learned from the
   * server (offset = server − local, as the protocol's ClockInfo.offset_s).
   * - Each fresh HTTP answer bounds the offset: the server wrote its `Date` (whole seconds)
   *   between our sending and receiving, so offset ∈ [Date − received, Date + 1 s − sent]
   *   (the middle is Date + 0.5 s + half the round trip). The bounds of successive answers are
   *   intersected (widened by 100 ppm of drift), which narrows them below a second; answers
   *   that contradict them (the local clock was set) start again. An answer the service worker
   *   took from its cache (X-Board-Cache) says nothing about now and is ignored.
   * - A `server_time` in the answer (pairing) is the same with millisecond resolution.
   * - A verified command whose seq is newer than any seen from its key says the server's time
   *   is at least its issued_at; until an HTTP Date has been seen, a clock more than 60 s ahead
   *   of it is also set back to it.
   * Elapsed times (heartbeat spacing, back-off) use performance.now(), not any wall clock. */
  const CLOCK_FAULT_MS = 60 * 1000;
  const DRIFT = 1e-4;
  const clock = { lo: -Infinity, hi: Infinity, at: 0, offset: 0, source: "none", syncedAt: null,
    http: false, reported: null, faultSent: null, pendingFault: null };
  state.clock = clock;
  (function restoreClock() {
    // Kept across restarts so a board that starts offline still shows the server's time; not
    // when the local clock went back meanwhile (a PC without RTC battery restarts in the past).
    const c = load(K.clock);
    if (!c || !Number.isFinite(c.offset) || !(Date.now() >= c.local)) return;
    clock.offset = c.offset;
    clock.source = c.source || "none";
    clock.syncedAt = c.synced_at || null;
    clock.faultSent = Number.isFinite(c.fault_sent) ? c.fault_sent : null;
  })();

  function serverNow() { return Date.now() + clock.offset; }
  function serverDate() { return new Date(serverNow()); }

  function bound(lo, hi) {
    const local = Date.now();
    const widen = Math.abs(local - clock.at) * DRIFT;
    let a = Math.max(clock.lo - widen, lo), b = Math.min(clock.hi + widen, hi);
    if (a > b) { a = lo; b = hi; } // the local clock was set (or jumped): start from this answer
    clock.lo = a; clock.hi = b; clock.at = local;
    if (Number.isFinite(a) && Number.isFinite(b)) return (a + b) / 2;
    return Math.min(Math.max(clock.offset, a), b);
  }
  function learnFromHttp(response, sent, received) {
    if (!response || response.headers.get("X-Board-Cache")) return;
    const date = Date.parse(response.headers.get("Date") || "");
    if (!Number.isFinite(date)) return;
    clock.http = true;
    setOffset(bound(date - received, date + 1000 - sent), "http", true);
  }
  function learnFromServerTime(text, sent, received) {
    const t = Date.parse(text || "");
    if (!Number.isFinite(t)) return;
    clock.http = true;
    setOffset(bound(t - received, t - sent), "http", true);
  }
  function learnFromCommand(kid, seq, issuedAt) {
    const issued = Date.parse(issuedAt || "");
    if (!Number.isInteger(seq) || !Number.isFinite(issued)) return;
    const max = load(K.maxseq) || {};
    if (max[kid] != null && seq <= max[kid]) return; // an old command (or a replay) proves nothing
    max[kid] = seq;
    save(K.maxseq, max);
    const lo = issued - Date.now();
    let offset = bound(lo, Infinity);
    if (!clock.http && offset - lo > CLOCK_FAULT_MS) offset = lo;
    if (offset !== clock.offset) setOffset(offset, "command", false);
  }
  function setOffset(offset, source, synced) {
    const change = Math.abs(offset - clock.offset);
    clock.offset = offset;
    if (synced || change > 0) { clock.source = source; clock.syncedAt = serverNow(); }
    save(K.clock, { offset, source: clock.source, synced_at: clock.syncedAt, local: Date.now(),
      fault_sent: clock.faultSent });
    if (change > 1000) clockChanged();
    clockReport();
  }
  function clockChanged() {
    // Windows, dayparts, the clock and the overlay's countdown all move with the server's time.
    if (state.manifest) refreshItems(false);
    if (state.cred && !$("screen").hidden) tickClock();
  }
  function clockInfo() {
    const info = { offset_s: Math.round(clock.offset / 100) / 10, source: clock.source };
    if (clock.syncedAt) info.synced_at = new Date(clock.syncedAt).toISOString();
    return info;
  }
  function span(ms) {
    // "7 giờ 5 phút", "20 phút", "45 giây": how far off, in words a technician reads.
    let s = Math.round(Math.abs(ms) / 1000);
    if (s >= 300) s = Math.round(s / 60) * 60; // beyond 5 minutes, whole minutes
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h) return h + " giờ" + (m ? " " + m + " phút" : "");
    if (m) return m + " phút" + (sec ? " " + sec + " giây" : "");
    return sec + " giây";
  }
  function clockProblem() {
    if (Math.abs(clock.offset) <= CLOCK_FAULT_MS) return "";
    return "Đồng hồ của máy này " + (clock.offset < 0 ? "nhanh" : "chậm") + " " + span(clock.offset) +
      " so với máy chủ; bảng tin dùng giờ của máy chủ. Hãy chỉnh lại đồng hồ của máy.";
  }
  /* The state report carries the clock, sent again when it changes (by a second or more); a clock
   * more than a minute off is a `clock` fault, sent again only when the offset moves by another
   * minute. */
  function clockReport() {
    const info = clockInfo();
    const last = clock.reported;
    if (!last || last.source !== info.source || Math.abs(last.offset_s - info.offset_s) >= 1) {
      clock.reported = info;
      publishState();
    }
    if (!$("pairing").hidden) setText($("pair-clock"), clockProblem());
    $("net").title = clockProblem() || "Trạng thái kết nối";
    if (Math.abs(clock.offset) <= CLOCK_FAULT_MS) {
      if (clock.faultSent !== null) { clock.faultSent = null; saveFaultSent(); }
      return;
    }
    if (clock.faultSent !== null && Math.abs(clock.offset - clock.faultSent) < CLOCK_FAULT_MS) return;
    clock.pendingFault = { code: "clock", offset_s: info.offset_s, detail: clockProblem() };
    sendClockFault();
  }
  function sendClockFault() {
    if (!clock.pendingFault || !event("fault", clock.pendingFault)) return;
    clock.faultSent = clock.offset;
    clock.pendingFault = null;
    saveFaultSent();
  }
  function saveFaultSent() {
    const c = load(K.clock);
    if (c) { c.fault_sent = clock.faultSent; save(K.clock, c); }
  }

  // ---------------------------------------------------------------- HTTP
  /* fetch, learning the server's time from an answer that did not come from a cache. */
  async function timedFetch(path, opts) {
    const sent = Date.now();
    const response = await fetch(path, opts);
    if (opts && opts.cache === "no-store") learnFromHttp(response, sent, Date.now());
    return response;
  }
  function api(path, options) {
    const opts = Object.assign({ cache: "no-store" }, options || {});
    opts.headers = Object.assign({}, opts.headers || {});
    if (!PREVIEW && state.cred) opts.headers.Authorization = "Bearer " + state.cred.token;
    if (PREVIEW) opts.credentials = "same-origin";
    return timedFetch(path, opts);
  }
  function base() { return "/api/v1/boards/" + deviceId(); }
  function deviceId() { return PREVIEW ? body.dataset.device : state.cred && state.cred.device; }

  function unpaired() {
    // The server no longer knows this board (revoked or reset): start pairing again.
    STORE.removeItem(K.cred);
    STORE.removeItem(K.manifest);
    location.reload();
  }

  // ---------------------------------------------------------------- time
  function vnParts(date) {
    const offset = (state.manifest && state.manifest.tz_offset_minutes) || 420;
    const d = new Date(date.getTime() + offset * 60000);
    return { weekday: (d.getUTCDay() + 6) % 7, minutes: d.getUTCHours() * 60 + d.getUTCMinutes(), d };
  }
  function hm(text) {
    const [h, m] = String(text).split(":").map(Number);
    return h * 60 + m;
  }
  function eligible(item, now) {
    if (item.go_live_at && new Date(item.go_live_at) > now) return false;
    if (item.expire_at && new Date(item.expire_at) <= now) return false;
    const w = item.window || {};
    if (w.from && new Date(w.from) > now) return false;
    if (w.until && new Date(w.until) <= now) return false;
    const p = vnParts(now);
    if (Array.isArray(w.weekdays) && w.weekdays.length && !w.weekdays.includes(p.weekday)) return false;
    if (w.start && w.end) {
      const s = hm(w.start), e = hm(w.end);
      const inside = s <= e ? p.minutes >= s && p.minutes < e : p.minutes >= s || p.minutes < e;
      if (!inside) return false;
    } else if (w.start && p.minutes < hm(w.start)) {
      return false;
    } else if (w.end && p.minutes >= hm(w.end)) {
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- media
  async function mediaUrl(m) {
    if (state.urls.has(m.sha256)) return state.urls.get(m.sha256);
    const response = await api(m.url, { cache: "default" });
    if (!response.ok) throw new Error("media " + response.status);
    const buffer = await response.arrayBuffer();
    const digest = hex(await crypto.subtle.digest("SHA-256", buffer));
    if (digest !== m.sha256) throw new Error("media hash mismatch");
    const url = URL.createObjectURL(new Blob([buffer], { type: m.mime || "application/octet-stream" }));
    state.urls.set(m.sha256, url);
    return url;
  }
  async function preload(items) {
    for (const item of items) {
      for (const m of item.media || []) {
        try { await mediaUrl(m); } catch (e) { /* shown without it; retried next manifest */ }
      }
    }
  }

  // ---------------------------------------------------------------- manifest
  async function fetchManifest() {
    if (!deviceId()) return;
    const headers = {};
    if (state.etag) headers["If-None-Match"] = state.etag;
    let response;
    try {
      response = await api(base() + "/manifest", { headers });
    } catch (e) {
      setNet(false);
      return;
    }
    if (response.status === 401) return PREVIEW ? null : unpaired();
    if (response.status === 304 || !response.ok) return;
    const text = await response.text();
    await acceptManifest(text, response.headers.get("ETag"), true);
  }

  async function acceptManifest(text, etag, fresh) {
    // The signed bytes are the payload exactly as the server wrote them.
    const start = text.indexOf('"payload":');
    const end = text.lastIndexOf(',"sig":"');
    if (start < 0 || end < 0) return;
    const raw = text.slice(start + 10, end);
    let envelope;
    try { envelope = JSON.parse(text); } catch (e) { return; }
    if (!PREVIEW && !(await verified(raw, envelope.sig, envelope.kid))) {
      console.warn("board: manifest signature refused");
      return;
    }
    const payload = envelope.payload;
    if (String(payload.device) !== String(deviceId())) return;
    state.manifest = payload;
    state.etag = etag;
    if (fresh && !PREVIEW) save(K.manifest, { text, etag });
    applyLayout(payload);
    await preload(payload.items || []);
    refreshItems(true);
  }

  function applyLayout(m) {
    const layout = m.layout || {};
    const screen = $("screen");
    screen.className = "layout-" + (layout.kind === "full" ? "full" : "split");
    screen.dataset.scale = String(layout.text_scale || 100);
    document.documentElement.style.setProperty("--text-scale", String((layout.text_scale || 100) / 100));
    $("unit-name").textContent = m.unit ? m.unit.name : "";
    $("unit-name").hidden = layout.show_unit_name === false;
    $("clock").hidden = layout.show_clock === false;
  }

  function refreshItems(changed) {
    const now = serverDate();
    const all = (state.manifest && state.manifest.items) || [];
    const items = all.filter((i) => eligible(i, now));
    const ids = items.map((i) => i.id).join("|");
    const before = state.items.map((i) => i.id).join("|");
    state.items = items;
    updateTicker();
    if (!items.length) {
      showItem(null);
      return;
    }
    if (!state.current || !items.some((i) => i.id === state.current.id) || (changed && ids !== before && !state.timer)) {
      next();
    }
  }

  // ---------------------------------------------------------------- rendering
  function setText(el, text) { el.textContent = text == null ? "" : String(text); }

  function clearChildren(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function showItem(item) {
    finishProof();
    state.current = item;
    state.currentStart = serverDate();
    const article = $("item");
    $("empty").hidden = !!item;
    article.hidden = !item;
    if (!item) return publishState();
    article.dataset.id = item.id;
    article.className = "priority-" + (item.priority || "normal") + (item.media && item.media.length ? " has-media" : "");
    const pr = $("item-priority");
    pr.hidden = !(item.must_show || item.priority !== "normal");
    setText(pr, item.priority === "emergency" ? "KHẨN CẤP" : item.priority === "priority" ? "ƯU TIÊN" : "THÔNG BÁO CẦN BIẾT");
    setText($("item-title"), item.title);
    const bodyEl = $("item-body");
    clearChildren(bodyEl);
    for (const para of item.paragraphs || []) {
      const p = document.createElement("p");
      p.textContent = para;
      bodyEl.appendChild(p);
    }
    setText($("item-source"), item.source ? "Nguồn: " + item.source : "");
    startPages(item);
    const mediaEl = $("item-media");
    clearChildren(mediaEl);
    for (const m of (item.media || []).slice(0, 1)) {
      const url = state.urls.get(m.sha256);
      if (!url) continue;
      if (m.kind === "video") {
        const v = document.createElement("video");
        v.src = url;
        v.muted = !item.sound;
        v.autoplay = true;
        v.playsInline = true;
        v.setAttribute("playsinline", "");
        mediaEl.appendChild(v);
        v.play().catch(() => { v.muted = true; v.play().catch(() => {}); });
      } else {
        const img = document.createElement("img");
        img.alt = "";
        img.src = url;
        mediaEl.appendChild(img);
      }
    }
    publishState();
  }

  function next() {
    clearTimeout(state.timer);
    state.timer = null;
    const now = serverDate();
    const all = (state.manifest && state.manifest.items) || [];
    state.items = all.filter((i) => eligible(i, now));
    updateTicker();
    if (!state.items.length) {
      showItem(null);
      state.timer = setTimeout(next, 5000);
      return;
    }
    let i = state.current ? state.items.findIndex((x) => x.id === state.current.id) : -1;
    i = (i + 1) % state.items.length;
    const item = state.items[i];
    showItem(item);
    state.timer = setTimeout(next, itemSeconds(item) * 1000);
  }

  // ---------------------------------------------------------------- paging long content
  // Text taller than the screen is shown page by page: the text box moves up by one screen
  // less a line, each page stays long enough to be read from a distance, and the item stays
  // until its last page has been read (its scheduled duration is a minimum).
  const READ_CHARS_PER_SECOND = 12;
  const MIN_PAGE_SECONDS = 8;
  const pager = { timer: null, pages: 1, perPage: 0, page: 1 };
  window.__boardPages = pager; // read by tests and the console preview

  function pageLabel() {
    let el = $("item-page");
    if (!el) {
      el = document.createElement("div");
      el.id = "item-page";
      el.setAttribute("aria-live", "polite");
      $("main").appendChild(el);
    }
    return el;
  }

  function startPages(item) {
    clearInterval(pager.timer);
    const box = $("item-text");
    box.scrollTop = 0;
    const para = box.querySelector("#item-body p") || box;
    const line = parseFloat(getComputedStyle(para).lineHeight) || 40;
    const step = Math.max(line, box.clientHeight - line);
    const extra = box.scrollHeight - box.clientHeight;
    pager.pages = extra > 2 ? Math.ceil(extra / step) + 1 : 1;
    pager.page = 1;
    const chars = (item.title || "").length + (item.paragraphs || []).join(" ").length;
    pager.perPage = Math.max(MIN_PAGE_SECONDS, Math.ceil(chars / pager.pages / READ_CHARS_PER_SECOND));
    const label = pageLabel();
    label.hidden = pager.pages < 2;
    setText(label, "Trang 1/" + pager.pages);
    if (pager.pages < 2) return;
    pager.timer = setInterval(() => {
      if (pager.page >= pager.pages) return clearInterval(pager.timer);
      pager.page += 1;
      box.scrollTop = Math.min(extra, (pager.page - 1) * step);
      setText(label, "Trang " + pager.page + "/" + pager.pages);
    }, pager.perPage * 1000);
  }

  function itemSeconds(item) {
    const planned = Math.max(2, item.duration || 20);
    return pager.pages > 1 ? Math.max(planned, pager.pages * pager.perPage) : planned;
  }

  // One bulletin as the board will show it, before it is published (console preview).
  function startItemPreview() {
    state.manifest = JSON.parse($("preview-item").textContent);
    $("screen").hidden = false;
    applyLayout(state.manifest);
    setInterval(tickClock, 1000);
    tickClock();
    next();
  }

  function updateTicker() {
    const layout = (state.manifest && state.manifest.layout) || {};
    const parts = state.items.map((i) => i.title);
    if (layout.ticker) parts.unshift(layout.ticker);
    setText($("ticker-text"), parts.join("   •   "));
    $("ticker").hidden = layout.kind === "full";
  }

  function tickClock() {
    const p = vnParts(serverDate()).d;
    const two = (n) => String(n).padStart(2, "0");
    setText($("clock-time"), two(p.getUTCHours()) + ":" + two(p.getUTCMinutes()));
    const days = ["Chủ nhật", "Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy"];
    setText($("clock-date"), days[p.getUTCDay()] + ", " + two(p.getUTCDate()) + "/" + two(p.getUTCMonth() + 1) + "/" + p.getUTCFullYear());
    tickEmergency();
  }

  // ---------------------------------------------------------------- emergency overlay
  function showEmergency(em, fromStore) {
    if (!em || !em.id) return;
    const expires = new Date(em.expires_at);
    if (!(expires > serverDate())) return;
    if (state.emergency && String(state.emergency.id) !== String(em.id)) finishEmergencyProof();
    const same = state.emergency && String(state.emergency.id) === String(em.id);
    state.emergency = fromStore || same
      ? Object.assign({}, em, { shown_at: (same && state.emergency.shown_at) || em.shown_at || serverDate().toISOString() })
      : Object.assign({}, em, { shown_at: serverDate().toISOString() });
    save(K.emergency, state.emergency);
    setText($("em-title"), em.title);
    setText($("em-text"), em.text);
    $("emergency").hidden = false;
    body.classList.add("has-emergency");
    tickEmergency();
    publishState();
  }
  function clearEmergency(id) {
    if (!state.emergency) return;
    if (id != null && String(state.emergency.id) !== String(id)) return;
    finishEmergencyProof();
    state.emergency = null;
    STORE.removeItem(K.emergency);
    $("emergency").hidden = true;
    body.classList.remove("has-emergency");
    publishState();
  }
  function tickEmergency() {
    if (!state.emergency) return;
    const left = Math.floor((new Date(state.emergency.expires_at) - serverNow()) / 1000);
    if (left <= 0) return clearEmergency();
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    const two = (n) => String(n).padStart(2, "0");
    setText($("em-countdown"), (h ? h + ":" : "") + two(m) + ":" + two(s));
  }

  // ---------------------------------------------------------------- proof of display
  function queueProof(entry) {
    if (PREVIEW) return;
    const list = load(K.proofs) || [];
    list.push(entry);
    save(K.proofs, list.slice(-5000));
  }
  function uuid() {
    return crypto.randomUUID ? crypto.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16));
  }
  function finishProof() {
    const item = state.current;
    if (!item || !state.currentStart) return;
    const end = serverDate();
    if (end - state.currentStart >= 1000 && !state.emergency) {
      queueProof({
        id: uuid(), item: item.id, kind: "item", bulletin: item.bulletin, revision_id: item.revision_id,
        started_at: state.currentStart.toISOString(), ended_at: end.toISOString(),
      });
    }
    state.currentStart = null;
  }
  function finishEmergencyProof() {
    const em = state.emergency;
    if (!em) return;
    queueProof({
      id: uuid(), item: "emergency:" + String(em.id).slice(0, 80), kind: "emergency",
      started_at: em.shown_at || serverDate().toISOString(), ended_at: serverDate().toISOString(),
    });
  }
  async function flushProofs() {
    const list = load(K.proofs) || [];
    if (!list.length || !state.cred) return;
    const batch = list.slice(0, 200);
    try {
      const r = await api(base() + "/proofs", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ entries: batch }),
      });
      if (r.status === 401) return unpaired();
      if (!r.ok) return;
      const done = new Set(batch.map((e) => e.id));
      save(K.proofs, (load(K.proofs) || []).filter((e) => !done.has(e.id)));
    } catch (e) { /* offline: kept for later */ }
  }

  // ---------------------------------------------------------------- heartbeat
  function stateBody() {
    return {
      status: "online",
      online: true,
      current: state.current ? { id: state.current.id, title: state.current.title, bulletin: state.current.bulletin } : null,
      emergency: state.emergency ? { id: state.emergency.id, title: state.emergency.title } : null,
      manifest_etag: state.etag ? state.etag.replace(/"/g, "") : null,
      items: state.items.length,
      version: VERSION,
      verify: state.verify,
      clock: clockInfo(),
      at: serverDate().toISOString(),
    };
  }
  let lastHttpBeat = 0;
  function publishState() {
    if (PREVIEW || !state.cred) return;
    if (state.mqtt && state.mqttConnected) {
      state.mqtt.publish(topic("state"), JSON.stringify(stateBody()), { qos: 1, retain: true });
    }
  }
  async function heartbeat() {
    publishState();
    if (state.mqttConnected || (lastHttpBeat && performance.now() - lastHttpBeat < 30000)) return;
    lastHttpBeat = performance.now();
    try {
      const r = await api(base() + "/state", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(stateBody()),
      });
      if (r.status === 401) return unpaired();
      setNet(r.ok);
    } catch (e) { setNet(false); }
  }
  function setNet(ok) { $("net").className = ok ? "ok" : "down"; }

  // ---------------------------------------------------------------- MQTT push
  function topic(kind) { return "grassroots/v1/dev/" + state.cred.device + "/" + kind; }
  function chain() { return (state.cred.chain || (state.manifest && state.manifest.unit && state.manifest.unit.chain) || []).map(String); }

  function connectMqtt() {
    const c = state.cred;
    if (!c || !c.mqtt || !c.mqtt.url || !window.mqtt) return;
    const client = window.mqtt.connect(c.mqtt.url, {
      clientId: c.mqtt.username,
      username: c.mqtt.username,
      password: c.mqtt.password,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 3000,
      connectTimeout: 8000,
      keepalive: 30,
      will: { topic: topic("state"), payload: JSON.stringify({ status: "offline", online: false }), qos: 1, retain: true },
    });
    state.mqtt = client;
    client.on("connect", () => {
      state.mqttConnected = true;
      setNet(true);
      const subs = {};
      subs[topic("cmd")] = { qos: 1 };
      for (const code of chain()) subs["grassroots/v1/unit/" + code + "/cmd"] = { qos: 1 };
      client.subscribe(subs);
      publishState();
      sendClockFault(); // found while MQTT was down (pairing, start)
      fetchManifest(); // anything missed while disconnected
    });
    client.on("close", () => { state.mqttConnected = false; setNet(false); });
    client.on("offline", () => { state.mqttConnected = false; });
    client.on("error", () => { /* reconnects by itself */ });
    client.on("message", (t, message) => { handleCommand(t, message.toString()).catch(() => {}); });
  }

  /* Publish an event (protocol Event: every one has an id); false when MQTT is down. */
  function event(type, fields) {
    if (PREVIEW || !state.cred || !state.mqtt || !state.mqttConnected) return false;
    const e = Object.assign({ type, id: uuid(), device: String(state.cred.device), at: serverDate().toISOString() }, fields);
    state.mqtt.publish(topic("events"), JSON.stringify(e), { qos: 1 });
    return true;
  }

  function targetsMe(target) {
    if (!target || typeof target !== "object") return false;
    const me = String(state.cred.device);
    if (target.device != null && String(target.device) === me) return true;
    if (Array.isArray(target.devices) && target.devices.map(String).includes(me)) return true;
    const units = (target.units || []).concat(target.unit != null ? [target.unit] : []).map(String);
    const mine = chain();
    return units.some((u) => mine.includes(u));
  }

  function seenBefore(kid, seq, expires) {
    const now = serverNow();
    const seen = (load(K.seen) || []).filter((s) => s[2] > now - SKEW_MS);
    const key = kid + ":" + seq;
    if (seen.some((s) => s[0] === key)) return true;
    seen.push([key, 0, new Date(expires).getTime()]);
    save(K.seen, seen.slice(-2000));
    return false;
  }

  async function handleCommand(t, text) {
    let env;
    try { env = JSON.parse(text); } catch (e) { return; }
    if (!env || typeof env.payload !== "object" || !env.sig || !env.kid) return;
    const p = env.payload;
    const about = { cmd_id: typeof p.id === "string" ? p.id : undefined, cmd_seq: Number.isInteger(p.seq) ? p.seq : undefined,
      kid: String(env.kid), cmd_type: typeof p.type === "string" ? p.type : undefined };
    const refuse = (reason, detail) => event("ack", Object.assign({ status: "refused", reason, detail }, about));
    if (!(await verified(canonical(p), env.sig, env.kid))) return refuse("bad_signature");
    learnFromCommand(env.kid, p.seq, p.issued_at);
    if (!targetsMe(p.target)) return refuse("wrong_target");
    // The window is judged by the server's time (the local clock may be hours off).
    const now = serverNow();
    const late = "Giờ máy chủ theo bảng tin: " + serverDate().toISOString() + " (" + (clockProblem() || "đồng hồ của máy đúng giờ") + ")";
    if (p.not_before && new Date(p.not_before).getTime() - SKEW_MS > now) return refuse("not_yet_valid", late);
    if (!p.expires_at || !(new Date(p.expires_at).getTime() + SKEW_MS >= now)) return refuse("expired", late);
    if (!Number.isInteger(p.seq) || seenBefore(env.kid, p.seq, p.expires_at)) return refuse("replay");
    switch (p.type) {
      case "manifest.updated":
        fetchManifest();
        break;
      case "resync":
      case "config.updated":
        state.etag = null;
        fetchManifest();
        break;
      case "play.now":
        if (p.priority === "emergency" && p.emergency) showEmergency(p.emergency, false);
        break;
      case "stop":
        clearEmergency(p.emergency_id != null ? p.emergency_id : null);
        break;
      case "screenshot":
        screenshot(p.request);
        break;
      default:
        return refuse("unsupported_type");
    }
    event("ack", Object.assign({ status: "ok" }, about));
  }

  // ---------------------------------------------------------------- screenshot
  function wrap(ctx, text, x, y, width, lineHeight, maxY) {
    const words = String(text || "").split(/\s+/);
    let line = "";
    for (const w of words) {
      const test = line ? line + " " + w : w;
      if (ctx.measureText(test).width > width && line) {
        ctx.fillText(line, x, y);
        y += lineHeight;
        line = w;
        if (y > maxY) return y;
      } else {
        line = test;
      }
    }
    if (line) { ctx.fillText(line, x, y); y += lineHeight; }
    return y;
  }
  async function screenshot(requestId) {
    const W = 1280, H = 720;
    const canvas = document.createElement("canvas");
    canvas.width = W; canvas.height = H;
    const ctx = canvas.getContext("2d");
    ctx.fillStyle = "#0b2545"; ctx.fillRect(0, 0, W, H);
    ctx.fillStyle = "#ffffff"; ctx.textBaseline = "top";
    ctx.font = "bold 28px sans-serif";
    ctx.fillText($("unit-name").textContent || "", 24, 16);
    ctx.fillText(($("clock-time").textContent || "") + "  " + ($("clock-date").textContent || ""), W - 520, 16);
    let y = 80;
    const img = document.querySelector("#item-media img");
    const vid = document.querySelector("#item-media video");
    const visual = img || vid;
    if (visual) {
      try {
        const w = visual.naturalWidth || visual.videoWidth || 16, h = visual.naturalHeight || visual.videoHeight || 9;
        const scale = Math.min(560 / w, 420 / h);
        ctx.drawImage(visual, W - 24 - w * scale, 80, w * scale, h * scale);
      } catch (e) { /* nothing drawn */ }
    }
    const textWidth = visual ? W - 640 : W - 48;
    if (state.current) {
      ctx.font = "bold 44px sans-serif";
      y = wrap(ctx, state.current.title, 24, y, textWidth, 54, 300);
      ctx.font = "30px sans-serif";
      for (const para of state.current.paragraphs || []) {
        y = wrap(ctx, para, 24, y + 10, textWidth, 38, H - 110);
        if (y > H - 110) break;
      }
    } else {
      ctx.font = "36px sans-serif";
      ctx.fillText($("empty").textContent, 24, y);
    }
    ctx.fillStyle = "#13315c"; ctx.fillRect(0, H - 60, W, 60);
    ctx.fillStyle = "#ffd166"; ctx.font = "26px sans-serif";
    ctx.fillText($("ticker-text").textContent.slice(0, 120), 24, H - 45);
    if (state.emergency) {
      ctx.fillStyle = "rgba(170, 0, 0, 0.96)"; ctx.fillRect(0, 0, W, H);
      ctx.fillStyle = "#ffffff"; ctx.font = "bold 56px sans-serif";
      ctx.fillText("CẢNH BÁO KHẨN CẤP", 24, 40);
      ctx.font = "bold 44px sans-serif";
      let ey = wrap(ctx, state.emergency.title, 24, 130, W - 48, 54, 300);
      ctx.font = "32px sans-serif";
      ey = wrap(ctx, state.emergency.text, 24, ey + 16, W - 48, 42, H - 100);
      ctx.fillText("Còn hiệu lực: " + $("em-countdown").textContent, 24, H - 80);
    }
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    if (!blob) return;
    try {
      await api(base() + "/screenshot?request=" + encodeURIComponent(requestId || ""), {
        method: "POST", headers: { "Content-Type": "image/png" }, body: blob,
      });
    } catch (e) { /* offline: the console asks again */ }
  }

  // ---------------------------------------------------------------- pairing
  /* A code is valid for `expires_at − server_time` from when it arrived (by the server's clock,
   * whatever the local one says). Failures back off exponentially with jitter (5 s doubling to
   * 5 min; at least what Retry-After asks), so a fleet never hammers the server; the screen says
   * in Vietnamese what is wrong and when the board tries again. */
  const pair = { code: null, timer: null, failures: 0, retryAt: 0, why: "", ticker: null, offline: null };
  state.pair = pair;
  const BACKOFF_MS = 5000, BACKOFF_CAP_MS = 5 * 60 * 1000;

  function later(fn, ms) {
    clearTimeout(pair.timer);
    pair.timer = setTimeout(fn, ms);
  }
  function retryAfterMs(response) {
    if (!response) return 0;
    const value = response.headers.get("Retry-After") || "";
    if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
    const at = Date.parse(value), date = Date.parse(response.headers.get("Date") || "");
    return Number.isFinite(at) && Number.isFinite(date) ? Math.max(0, at - date) : 0; // by the server's clock
  }
  /* Wait after a failure, then run `fn`; `why` is the Vietnamese text shown meanwhile. */
  function pairFailed(fn, why, response) {
    pair.failures += 1;
    // Without an answer, the board's own network may be down: try again soon after it is back.
    pair.offline = response ? null : fn;
    const exp = Math.min(BACKOFF_CAP_MS, BACKOFF_MS * 2 ** (pair.failures - 1));
    const wait = Math.max(exp / 2 + Math.random() * exp / 2, retryAfterMs(response) * (1 + Math.random() * 0.1));
    pair.retryAt = performance.now() + wait;
    pair.why = why;
    showPairing();
    later(fn, wait);
  }
  function pairOk() { // the server accepted a claim with our code
    pair.failures = 0;
    pair.why = "";
    pair.retryAt = 0;
  }
  function codeLeftMs(p) { return p && Number.isFinite(p.valid_local) ? p.valid_local - Date.now() : -1; }
  function usable(p) {
    // A stored code whose deadline is further away than its lifetime means the local clock went
    // back since: trust it no longer.
    const left = codeLeftMs(p);
    return !!(p && p.code && p.secret && left > 60000 && left <= p.valid_ms);
  }
  function vnTime(ms) {
    const d = vnParts(new Date(ms)).d;
    return String(d.getUTCHours()).padStart(2, "0") + ":" + String(d.getUTCMinutes()).padStart(2, "0");
  }
  function showPairing() {
    const p = pair.code;
    setText($("pair-code"), p ? p.display : "…");
    const left = codeLeftMs(p);
    setText($("pair-expiry"), p && left > 0
      ? "Mã có hiệu lực đến " + vnTime(Date.parse(p.expires_at)) + " (còn " + span(Math.ceil(left / 60000) * 60000) + ")." : "");
    let why = pair.why;
    if (why && pair.retryAt) {
      const s = Math.max(1, Math.ceil((pair.retryAt - performance.now()) / 1000));
      why += " Thử lại sau " + span(s * 1000) + ".";
    }
    setText($("pair-error"), why);
    setText($("pair-clock"), clockProblem());
  }

  async function pairing() {
    $("pairing").hidden = false;
    $("screen").hidden = true;
    if (!pair.ticker) {
      pair.ticker = setInterval(showPairing, 1000);
      window.addEventListener("online", () => {
        if (!pair.offline || $("pairing").hidden) return;
        const fn = pair.offline, wait = 500 + Math.random() * 4500; // a whole commune comes back at once
        pair.offline = null;
        pair.retryAt = performance.now() + wait;
        later(fn, wait);
      });
    }
    let p = load(K.pairing);
    if (!usable(p)) {
      STORE.removeItem(K.pairing);
      pair.code = null;
      showPairing();
      let r;
      const sent = Date.now();
      try {
        r = await timedFetch("/api/v1/boards/pairing", { method: "POST", cache: "no-store" });
      } catch (e) {
        return pairFailed(pairing, "Không kết nối được máy chủ (kiểm tra mạng của bảng tin).");
      }
      if (r.status === 429) {
        return pairFailed(pairing, "Quá nhiều lần xin mã ghép nối từ địa chỉ mạng này.", r);
      }
      if (!r.ok) return pairFailed(pairing, "Máy chủ chưa cấp được mã (lỗi " + r.status + ").", r);
      try { p = await r.json(); } catch (e) { p = null; }
      const received = Date.now();
      const valid = p ? Date.parse(p.expires_at) - Date.parse(p.server_time) : NaN;
      if (!p || !p.code || !(valid > 60000)) {
        return pairFailed(pairing, "Máy chủ trả lời không đúng khi cấp mã ghép nối.");
      }
      learnFromServerTime(p.server_time, sent, received);
      p.valid_ms = valid;
      p.valid_local = sent + valid; // server_time was read after we sent: never later than this
      save(K.pairing, p);
      // The failure count is kept until the server has accepted a claim with this code (202).
      pair.why = "";
      pair.retryAt = 0;
    }
    pair.code = p;
    showPairing();
    pollClaim(p);
  }

  async function pollClaim(p) {
    if (codeLeftMs(p) <= 0) {
      // Expired by the server's clock: a new code (pairing() backs off if the server refuses).
      STORE.removeItem(K.pairing);
      return pairing();
    }
    let r;
    const sent = Date.now();
    try {
      r = await timedFetch("/api/v1/boards/pairing/claim", {
        method: "POST", cache: "no-store", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ code: p.code, secret: p.secret }),
      });
    } catch (e) {
      return pairFailed(() => pollClaim(p), "Không kết nối được máy chủ (kiểm tra mạng của bảng tin).");
    }
    if (r.status === 200 || r.status === 202) {
      let answer = null;
      try { answer = await r.json(); } catch (e) { /* treated as a failure below */ }
      if (answer && answer.server_time) learnFromServerTime(answer.server_time, sent, Date.now());
      if (r.status === 200 && answer && answer.token) {
        save(K.cred, answer);
        STORE.removeItem(K.pairing);
        clearInterval(pair.ticker);
        clearTimeout(pair.timer);
        $("pairing").hidden = true;
        return start(answer);
      }
      if (answer) {
        pairOk();
        showPairing();
        return later(() => pollClaim(p), (p.poll_seconds || 2) * 1000);
      }
    }
    if (r.status === 404 || r.status === 410) {
      // Used, expired or unknown on the server although not by our reckoning: a new code, after
      // the back-off (a server that keeps refusing fresh codes must not get a request storm).
      STORE.removeItem(K.pairing);
      return pairFailed(pairing, "Máy chủ không nhận mã ghép nối này; đang xin mã mới.");
    }
    if (r.status === 429) return pairFailed(() => pollClaim(p), "Quá nhiều yêu cầu tới máy chủ.", r);
    return pairFailed(() => pollClaim(p), "Máy chủ đang gặp lỗi (" + r.status + ").", r);
  }

  // ---------------------------------------------------------------- start
  async function refreshConfig() {
    try {
      const r = await api(base() + "/config");
      if (r.status === 401) return unpaired();
      if (!r.ok) return;
      const cfg = await r.json();
      const c = state.cred;
      c.chain = cfg.chain;
      if (cfg.mqtt_url) c.mqtt.url = cfg.mqtt_url;
      // Keys pinned at pairing are kept; a new key (rotation) is added from the server.
      const known = new Set((c.keys || []).map((k) => k.kid));
      c.keys = (c.keys || []).concat((cfg.keys || []).filter((k) => !known.has(k.kid)));
      save(K.cred, c);
      await importKeys(c.keys);
    } catch (e) { /* offline: keep what we have */ }
  }

  async function start(cred) {
    state.cred = cred;
    $("screen").hidden = false;
    await importKeys(cred.keys || []);
    const stored = load(K.manifest);
    if (stored && stored.text) await acceptManifest(stored.text, stored.etag, false);
    const em = load(K.emergency);
    if (em) showEmergency(em, true);
    setInterval(tickClock, 1000);
    tickClock();
    await refreshConfig();
    await fetchManifest();
    connectMqtt();
    const hb = ((state.manifest && state.manifest.heartbeat_seconds) || 60) * 1000;
    setInterval(heartbeat, Math.min(hb, 30000));
    setInterval(flushProofs, 15000);
    // A missed push is caught up within minutes; without a push channel, poll more often.
    setInterval(fetchManifest, (cred.mqtt && cred.mqtt.url ? 5 * 60 : 30) * 1000);
    setInterval(() => refreshItems(false), 30000); // dayparts begin and end by the clock
    heartbeat();
    window.addEventListener("online", () => { fetchManifest(); flushProofs(); heartbeat(); });
  }

  // Hooks for monitoring and tests: send what is queued now (they only do what timers do).
  state.flush = () => flushProofs();
  state.handle = (t, text) => handleCommand(t, text);
  state.beat = () => { lastHttpBeat = 0; return heartbeat(); };

  async function startPreview() {
    state.cred = null;
    $("screen").hidden = false;
    setInterval(tickClock, 1000);
    tickClock();
    await fetchManifest();
    setInterval(fetchManifest, 10000);
  }

  async function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    try {
      await navigator.serviceWorker.register(body.dataset.sw, { scope: "/board/" });
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        // First visit: wait (briefly) until the worker controls the page so media gets cached.
        await new Promise((resolve) => {
          navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true });
          setTimeout(resolve, 3000);
        });
      }
    } catch (e) { /* no worker: still plays, without offline restart */ }
  }

  async function main() {
    if (MODE === "item") return startItemPreview();
    if (PREVIEW) return startPreview();
    await registerWorker();
    const cred = load(K.cred);
    if (cred && cred.token && cred.device) return start(cred);
    return pairing();
  }

  main();
})();
