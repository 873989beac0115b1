// Phát trực tiếp: the microphone as Opus (MediaRecorder), sent in quarter-second slices to the
// API in order (each slice says at which byte it starts, so a retry is harmless); a level meter;
// the session's state polled from the API. Every message shown comes from the page (gettext).
(function () {
  "use strict";
  const form = document.getElementById("live-form");
  if (!form) return;
  const d = form.dataset;
  const $ = (id) => document.getElementById(id);
  const errorBox = $("live-error");
  const warningBox = $("live-warning");
  const statusBox = $("live-status");
  const meter = $("live-meter");
  const startBtn = $("live-start");
  const stopBtn = $("live-stop");
  const SLICE_MS = 250;

  let session = null;
  let recorder = null;
  let stream = null;
  let audioCtx = null;
  let offset = 0;
  let queue = Promise.resolve();
  let poller = null;
  let stopping = false;

  function showError(text) {
    errorBox.textContent = text;
    errorBox.classList.remove("d-none");
    errorBox.scrollIntoView({ block: "nearest" }); // the button pressed may be a screen below
  }
  function clearError() {
    errorBox.textContent = "";
    errorBox.classList.add("d-none");
  }
  function showWarning(text) {
    warningBox.textContent = text || "";
    warningBox.classList.toggle("d-none", !text);
  }
  function setStatus(text, onAir) {
    statusBox.textContent = text;
    statusBox.classList.toggle("text-danger", !!onAir);
  }

  // "Đang phát" and "Gần đây": the page's own panels, fetched again (rendered and escaped by the
  // server); a panel is replaced only when its sessions changed, so a listen-in player keeps playing
  function signature(list) {
    return Array.from(list.children)
      .map((li) => `${li.dataset.id || ""}:${li.querySelector(".badge")?.textContent || ""}`)
      .join(",");
  }
  async function refreshPanels() {
    try {
      const response = await fetch(window.location.pathname, { credentials: "same-origin" });
      if (!response.ok) return;
      const html = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const id of ["live-running", "live-recent"]) {
        const fresh = html.getElementById(id);
        const here = $(id);
        if (!fresh || !here || signature(fresh) === signature(here)) continue;
        // a "Dừng phiên …?" being answered stays open across the refresh (a session going from
        // waiting to on air would otherwise take it away under the officer's finger)
        const asking = Array.from(here.querySelectorAll(".live-end-confirm:not(.d-none)")).map(
          (box) => box.closest("li").dataset.id
        );
        here.innerHTML = fresh.innerHTML;
        for (const id of asking) {
          const item = here.querySelector(`li[data-id="${CSS.escape(id)}"]`);
          const button = item && item.querySelector("button.live-end[data-ask]");
          if (button) askToStop(item, button, false);
        }
      }
    } catch (err) {
      /* the next tick tries again */
    }
  }
  setInterval(refreshPanels, 5000);

  // before starting: an area none of whose units has a device plays to nobody
  const equipped = new Set((d.equipped || "").split(" ").filter(Boolean));
  function checkArea() {
    if (session) return;
    const codes = new FormData(form).getAll("units").filter((c) => c.trim());
    showWarning(codes.length && !codes.some((c) => equipped.has(c)) ? d.msgNodevices : "");
  }
  // said from the start and again only when the area changes: a warning shown when another field
  // (the title) loses the focus would move the start button from under the officer's finger
  // between the press and the release, and that first tap would start nothing
  form.addEventListener("change", (event) => {
    if (event.target.closest("#live-area")) checkArea();
  });
  checkArea();

  // the source: this page's microphone, a radio stream relayed, or the clusters' FM receivers
  const sourceSelect = $("live-source");
  const sourceKind = () => {
    const option = sourceSelect ? sourceSelect.selectedOptions[0] : null;
    return option ? option.dataset.kind : "console";
  };
  const micAvailable =
    window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  const mimeType = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/webm"].find(
    (t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t)
  );
  const micProblem = !micAvailable ? d.msgNomic : !mimeType ? d.msgNorecorder : "";
  function checkSource() {
    const kind = sourceKind();
    $("live-fm").classList.toggle("d-none", kind !== "fm");
    meter.closest(".live-mic").classList.toggle("d-none", kind !== "console");
    // how it reaches the loudspeakers, and whether it is recorded, depends on the source
    form.querySelectorAll("[data-help-for]").forEach((p) => {
      p.classList.toggle("d-none", p.dataset.helpFor !== kind);
    });
    if (session) return;
    if (kind === "console" && micProblem) {
      showError(micProblem);
      startBtn.disabled = true;
    } else {
      clearError();
      startBtn.disabled = false;
    }
  }
  if (sourceSelect) sourceSelect.addEventListener("change", checkSource);
  checkSource();

  // "Dừng" beside a running session in the "Đang phát" panel (shown only to who may stop it;
  // the server decides anyway). Another officer's session is stopped only after a confirmation
  // naming it; a refusal is said beside the button, not at the top of the form.
  function askToStop(item, button, focus) {
    // the question takes the button's place, in view (a phone shows the panel below the form)
    const ask = item.querySelector(".live-end-confirm");
    ask.querySelector(".live-end-question").textContent = button.dataset.ask;
    ask.classList.remove("d-none");
    button.classList.add("d-none");
    ask.scrollIntoView({ block: "nearest" });
    if (focus) ask.querySelector("button.live-end-yes").focus({ preventScroll: true });
  }
  $("live-running").addEventListener("click", async (event) => {
    const item = event.target.closest("li");
    if (!item) return;
    const ask = item.querySelector(".live-end-confirm");
    const errorLine = item.querySelector(".live-end-error");
    if (event.target.closest("button.live-end-no")) {
      ask.classList.add("d-none");
      item.querySelector("button.live-end").classList.remove("d-none");
      return;
    }
    let button = event.target.closest("button.live-end");
    if (button && button.dataset.ask) {
      askToStop(item, button, true);
      return;
    }
    button = button || event.target.closest("button.live-end-yes");
    if (!button) return;
    button.disabled = true;
    errorLine.classList.add("d-none");
    try {
      await api("POST", `/${button.dataset.id}/stop`);
    } catch (err) {
      errorLine.textContent = err.message;
      errorLine.classList.remove("d-none");
      button.disabled = false;
      return;
    }
    if (session && String(session.id) === button.dataset.id) finish(d.msgEnded);
    refreshPanels();
  });

  // leaving the page while live ends what the officer says: the browser asks first
  window.addEventListener("beforeunload", (event) => {
    if (!session || stopping) return;
    event.preventDefault();
    event.returnValue = "";
  });

  // the officer's own session still open (the page was reloaded): end it, or follow a relay
  const mine = $("live-mine");
  if (mine) {
    $("live-mine-end").addEventListener("click", async () => {
      $("live-mine-end").disabled = true;
      try {
        await api("POST", `/${mine.dataset.id}/stop`);
        setStatus(d.msgEnded, false);
      } catch (err) {
        showError(err.message);
      }
      mine.remove();
      refreshPanels();
    });
    const resume = $("live-mine-resume");
    if (resume) {
      resume.addEventListener("click", () => {
        session = { id: mine.dataset.id, source: mine.dataset.source };
        mine.remove();
        attach();
        refresh();
      });
    }
  }

  async function api(method, path, body, type) {
    const response = await fetch(d.api + path, {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRFToken": d.csrf, "Content-Type": type || "application/json" },
      body: body,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(problemText(data) || response.statusText);
    return data;
  }

  // a refused field (422, `errors: [{field, message}]`) is said in the officer's words: a
  // sentence of ours as it is, a short one after the field's label; never the technical path
  // (`data.title`) that `detail` carries for API clients
  function problemText(data) {
    if (!Array.isArray(data.errors) || !data.errors.length) return data.detail;
    return data.errors
      .map((e) => {
        const message = String(e.message || "").trim();
        if (/^\p{Lu}/u.test(message)) return message;
        const name = String(e.field || "").split(".").pop();
        const input = name && form.querySelector(`[name="${CSS.escape(name)}"]`);
        const label = input && input.id && form.querySelector(`label[for="${input.id}"]`);
        return label ? `${label.textContent.trim()}: ${message}.` : `${message}.`;
      })
      .join(" ");
  }

  function meterLoop(analyser) {
    const samples = new Float32Array(analyser.fftSize);
    function draw() {
      if (!audioCtx) {
        meter.value = 0;
        return;
      }
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      requestAnimationFrame(draw);
    }
    draw();
  }

  function send(blob) {
    queue = queue.then(async () => {
      if (!session || !blob.size) return;
      const data = await blob.arrayBuffer();
      try {
        await api("POST", `/${session.id}/source?offset=${offset}`, data, "application/octet-stream");
        offset += data.byteLength;
      } catch (err) {
        if (stopping) return;
        // the session may have been ended for us (an emergency took over, an officer stopped
        // it, its time limit): say that, not that the sound could not be sent
        const ended = await api("GET", `/${session.id}`).catch(() => null);
        if (ended && ended.status === "ended") {
          finish(endedText(ended));
          refreshPanels();
          return;
        }
        showError(`${d.msgFailed} ${err.message}`);
        finish();
      }
    });
  }

  function attach() {
    // the page follows `session`: the form is locked, "Kết thúc phiên" shown, its state polled
    stopping = false;
    lockForm(true);
    startBtn.classList.add("d-none");
    stopBtn.classList.remove("d-none");
    poller = setInterval(refresh, 1500);
  }

  function lockForm(locked) {
    // what is on air cannot be edited: title, priority and area are fixed for the session
    form.querySelectorAll("input, select").forEach((el) => {
      el.disabled = locked;
    });
  }

  function release() {
    lockForm(false);
    if (recorder && recorder.state !== "inactive") recorder.stop();
    recorder = null;
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    if (audioCtx) audioCtx.close();
    audioCtx = null;
    if (poller) clearInterval(poller);
    poller = null;
    startBtn.classList.remove("d-none");
    stopBtn.classList.add("d-none");
    startBtn.disabled = false;
  }

  function finish(message) {
    stopping = true;
    release();
    session = null;
    showEmergency(null);
    setStatus(message || "", false);
  }

  function endedText(s) {
    // the speaker's own stop needs no reason; another officer's stop or an emergency session
    // names who and when; the relay's ending says why (no signal, time limit)
    if (s.end_detail) return `${d.msgEnded} ${s.end_detail}`;
    return s.end_reason && s.end_reason !== "stopped" && s.end_reason_label
      ? `${d.msgEnded} ${s.end_reason_label}`
      : d.msgEnded;
  }

  // an emergency message airing over the area: the loudspeakers are not playing the speaker
  const emergencyBox = $("live-emergency");
  function showEmergency(emergency) {
    emergencyBox.textContent = emergency ? emergency.message : "";
    emergencyBox.classList.toggle("d-none", !emergency);
  }

  async function refresh() {
    if (!session) return;
    try {
      const s = await api("GET", `/${session.id}`);
      if (s.status === "ended") {
        finish(endedText(s));
        refreshPanels();
        return;
      }
      const onAir = s.status === "on_air";
      const waiting = s.source === "stream" ? d.msgWaitingRelay : d.msgWaiting;
      setStatus(
        `${onAir ? d.msgOnair : waiting} — ${s.title} · ${s.expected_devices} ${d.msgDevices}`,
        onAir && !s.emergency
      );
      showEmergency(s.emergency);
    } catch (err) {
      /* a missed poll is retried at the next tick */
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    showWarning("");
    const fields = new FormData(form);
    if (!fields.getAll("units").filter((c) => c.trim()).length) {
      showError(d.msgNoarea);
      return;
    }
    const titleLength = Array.from((fields.get("title") || "").trim()).length;
    const titleMax = parseInt($("live-title").dataset.maxlength, 10);
    if (titleLength > titleMax) {
      showError(d.msgTitlelong.replace("%(length)s", titleLength).replace("%(max)s", titleMax));
      checkArea(); // the area's warning stays in place (no jump under the pointer)
      return;
    }
    const kind = sourceKind();
    startBtn.disabled = true;
    if (kind === "console") {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
        });
      } catch (err) {
        showError(d.msgDenied);
        startBtn.disabled = false;
        return;
      }
    }
    const option = sourceSelect ? sourceSelect.selectedOptions[0] : null;
    try {
      session = await api(
        "POST",
        "",
        JSON.stringify({
          units: fields.getAll("units"),
          title: fields.get("title"),
          priority: fields.get("priority"),
          max_minutes: parseInt(fields.get("max_minutes") || "30", 10),
          source: kind,
          relay_source: kind === "stream" ? parseInt(option.dataset.id, 10) : null,
          frequency: kind === "fm" ? parseFloat(fields.get("frequency")) || null : null,
        })
      );
    } catch (err) {
      session = null;
      release();
      showError(err.message);
      checkArea(); // the area's warning stays in place (no jump under the pointer)
      return;
    }
    offset = 0;
    queue = Promise.resolve();
    attach();
    if (!session.expected_devices) showWarning(d.msgNodevices);
    if (kind !== "console") {
      // a relay: the server feeds it (stream) or the clusters tune in (FM); nothing to send
      refresh();
      refreshPanels();
      return;
    }
    recorder = new MediaRecorder(stream, { mimeType: mimeType, audioBitsPerSecond: 32000 });
    recorder.addEventListener("dataavailable", (e) => send(e.data));
    recorder.start(SLICE_MS);
    audioCtx = new AudioContext();
    const analyser = audioCtx.createAnalyser();
    analyser.fftSize = 1024;
    audioCtx.createMediaStreamSource(stream).connect(analyser);
    meterLoop(analyser);
    setStatus(d.msgWaiting, false);
    refreshPanels();
  });

  stopBtn.addEventListener("click", async () => {
    if (!session) return;
    const id = session.id;
    stopping = true;
    stopBtn.disabled = true;
    setStatus(d.msgStopping, false);
    if (recorder && recorder.state !== "inactive") {
      // the recorder hands over its last slice (dataavailable) before it says "stop"
      const stopped = new Promise((resolve) => {
        recorder.addEventListener("stop", resolve, { once: true });
      });
      recorder.stop();
      await stopped;
    }
    await queue; // every slice, the last one included, reached the recording
    try {
      await api("POST", `/${id}/stop`);
      finish(d.msgEnded);
    } catch (err) {
      finish();
      showError(err.message);
    }
    stopBtn.disabled = false;
    refreshPanels();
  });
})();
