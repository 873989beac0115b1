// Nghe đang phát (listen-in): ask the API what a cluster airs now and play it here: a live
// mount or a radio stream as it is, a scheduled file from the position the device is at
// (offset given by the server, plus the time the answer took to arrive). The player sits outside
// the list the page refreshes every 5 s, so it keeps playing. Text is set as text, never HTML.
(function () {
  "use strict";
  const panel = document.getElementById("listen-panel");
  if (!panel) return;
  const audio = document.getElementById("listen-audio");
  const message = document.getElementById("listen-message");
  const $ = (id) => document.getElementById(id);

  function say(text) {
    message.textContent = text || "";
    message.hidden = !text;
  }

  function stop() {
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    audio.hidden = false;
  }

  // from the click until sound comes (a live mount takes seconds to start): "Đang kết nối…";
  // once it plays, what the player shows; when what it plays is over, say so and show no
  // finished player with the old title
  let heard = "";
  audio.addEventListener("playing", () => {
    say(heard);
  });
  function over() {
    if (!audio.getAttribute("src")) return;
    const live = panel.dataset.state === "live";
    stop();
    audio.hidden = true;
    $("listen-title").textContent = "";
    say(live ? panel.dataset.ended : panel.dataset.done);
  }
  audio.addEventListener("ended", over);
  audio.addEventListener("error", () => {
    // a live mount closed when its session ended (the stream stops or fails mid-way)
    if (panel.dataset.state === "live" && audio.currentTime > 0) over();
  });

  function clock(seconds) {
    const s = Math.floor(seconds);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  async function listen(button) {
    stop();
    panel.hidden = false;
    $("listen-device").textContent = button.dataset.name;
    $("listen-title").textContent = "";
    say("");
    const asked = performance.now();
    let answer;
    try {
      const response = await fetch(button.dataset.url, { credentials: "same-origin" });
      answer = await response.json();
      if (!response.ok) throw new Error(answer.detail || response.statusText);
    } catch (err) {
      say(`${panel.dataset.failed} ${err.message || ""}`.trim());
      return;
    }
    $("listen-title").textContent = answer.title || "";
    panel.dataset.state = answer.state;
    if (!answer.url) {
      say(answer.message);
      return;
    }
    if (answer.state === "file") {
      const offset = (answer.offset_seconds || 0) + (performance.now() - asked) / 1000;
      audio.dataset.offset = String(offset);
      audio.addEventListener(
        "loadedmetadata",
        () => {
          audio.currentTime = Math.min(offset, audio.duration || offset);
        },
        { once: true },
      );
      heard = `${panel.dataset.at} ${clock(offset)}`;
    } else {
      heard = "";
    }
    say(panel.dataset.connecting);
    audio.preload = "auto";
    audio.src = answer.url;
    try {
      await audio.play();
    } catch (err) {
      say(`${panel.dataset.failed} ${err.message || ""}`.trim());
    }
  }

  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.listen-in");
    if (button) listen(button);
  });
  $("listen-close").addEventListener("click", () => {
    stop();
    panel.hidden = true;
  });
})();
