/* A lesson page: tell the server how the lesson is being studied, and show what still counts.

   The server decides (training.services.record_activity): it measures time itself, credits video
   stretches no faster than real time and completes the lesson when the program's rule is met.
   This script only reports what it saw:
   - every 15 seconds while the page is visible and in use (or a video plays), a heartbeat;
   - for a video, the 5-second stretches of the timeline played in normal playback. It listens
     to the embedded player's own messages (YouTube's and Vimeo's postMessage protocols), so no
     third-party script runs on this page. A jump in the timeline (seeking) credits nothing;
   - for a reading, that its end came into view.
   Stretches the server has not credited yet are sent again with the next report. */
(function () {
  "use strict";
  var root = document.getElementById("study");
  if (!root) return;
  var BUCKET = 5;
  var HEARTBEAT_MS = 15000;
  var url = root.dataset.progressUrl;
  var form = document.getElementById("complete-form");
  var csrf = form ? form.querySelector("input[name=csrfmiddlewaretoken]").value : "";
  var idleMs = parseInt(root.dataset.idleSeconds || "120", 10) * 1000;
  var statedLength = parseInt(root.dataset.videoSeconds || "0", 10) || 0;
  var done = root.dataset.done === "1";
  var credited = {};
  var pending = {};
  var duration = statedLength;
  var scrolled = false;
  var sending = false;
  var lastSent = 0;
  var lastInput = Date.now();
  var playing = false;
  var last = null; // the previous player position {t: seconds, at: wall-clock ms}

  (root.dataset.watched || "").split(",").forEach(function (b) { if (b !== "") credited[parseInt(b, 10)] = true; });

  ["keydown", "mousemove", "mousedown", "touchstart", "wheel", "scroll"].forEach(function (name) {
    window.addEventListener(name, function () { lastInput = Date.now(); }, { passive: true });
  });

  function inUse() {
    return document.visibilityState === "visible" && (playing || Date.now() - lastInput < idleMs);
  }

  function show(state) {
    var bar = root.querySelector(".progress-fill");
    if (bar) bar.style.width = state.percent + "%";
    var meter = root.querySelector(".progress");
    if (meter) meter.setAttribute("aria-label", state.percent + "% of what this lesson asks");
    document.getElementById("study-progress").textContent = state.progress;
    var needed = document.getElementById("study-needed");
    var text = state.done ? "This lesson is complete." : state.met ? "Done: you can mark this lesson complete." : state.needed;
    if (needed.textContent !== text) needed.textContent = text;
    if (state.done) {
      done = true;
      if (form && form.parentNode) form.parentNode.removeChild(form); // nothing left to click
      var note = document.getElementById("study-done");
      if (note) note.hidden = false;
    }
  }

  function send(force) {
    if (sending || done) return;
    if (!force && !inUse()) return;
    var buckets = Object.keys(pending).map(Number).sort(function (a, b) { return a - b; });
    sending = true;
    lastSent = Date.now();
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ buckets: buckets, duration: Math.round(duration) || null, scrolled_to_end: scrolled })
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      sending = false;
      if (!result.ok) return;
      result.body.watched.forEach(function (b) { credited[b] = true; delete pending[b]; });
      show(result.body);
    }).catch(function () { sending = false; /* the next heartbeat tries again */ });
  }

  window.setInterval(function () { send(false); }, HEARTBEAT_MS);

  // --- Video: positions from the player, credited only in continuous playback ---------------
  function observe(t, isPlaying) {
    var now = Date.now();
    if (last && isPlaying && playing) {
      var dt = t - last.t;
      var dw = (now - last.at) / 1000;
      // Forward, and no faster than double speed plus a moment of jitter: anything else is a seek.
      if (dt > 0 && dt <= dw * 2 + 1.5) {
        var added = false;
        for (var b = Math.floor(last.t / BUCKET); b <= Math.floor(t / BUCKET); b++) {
          if (!credited[b] && !pending[b]) { pending[b] = true; added = true; }
        }
        if (added && now - lastSent >= BUCKET * 1000) send(true);
      }
    }
    playing = isPlaying;
    last = { t: t, at: now };
  }
  function stopped() {
    playing = false;
    last = null;
    if (Object.keys(pending).length) send(true);
  }

  var frame = document.getElementById("lesson-video");
  if (frame) {
    var kind = frame.dataset.player;
    var origin = new URL(frame.src).origin;
    var ytState = -1;
    var listening = null;
    var post = function (message) {
      if (frame.contentWindow) frame.contentWindow.postMessage(JSON.stringify(message), origin);
    };
    var hello = function () {
      if (kind === "youtube") {
        post({ event: "listening", id: "lesson-video", channel: "widget" });
      } else if (kind === "vimeo") {
        ["timeupdate", "play", "pause", "seeked", "ended"].forEach(function (name) {
          post({ method: "addEventListener", value: name });
        });
        post({ method: "getDuration" });
      }
    };
    // The player may not be listening yet when it loads: say hello until it answers.
    var greet = function () {
      hello();
      if (listening) window.clearInterval(listening);
      listening = window.setInterval(hello, 1000);
    };
    frame.addEventListener("load", greet);
    // This script is deferred: on a slow connection the player has loaded before it runs, and
    // that load event is gone. Greeting now too costs nothing (a message to a frame still
    // loading is dropped) and the player then hears us either way.
    greet();
    window.addEventListener("message", function (event) {
      if (event.source !== frame.contentWindow || event.origin !== origin) return;
      var data = event.data;
      if (typeof data === "string") {
        try { data = JSON.parse(data); } catch (e) { return; }
      }
      if (!data || typeof data !== "object") return;
      if (listening && (data.event === "onReady" || data.event === "infoDelivery" || data.event === "ready" || data.event === "timeupdate")) {
        if (data.event !== "ready") { window.clearInterval(listening); listening = null; }
        else hello();
      }
      if (kind === "youtube") {
        var info = data.info;
        if (data.event === "onStateChange" && typeof info === "number") {
          ytState = info;
          if (info !== 1) stopped();
        } else if (data.event === "infoDelivery" && info && typeof info === "object") {
          if (typeof info.playerState === "number") {
            ytState = info.playerState;
            if (ytState !== 1) stopped();
          }
          if (!statedLength && typeof info.duration === "number" && info.duration > 0) duration = info.duration;
          if (typeof info.currentTime === "number") observe(info.currentTime, ytState === 1);
        }
      } else if (kind === "vimeo") {
        var d = data.data || {};
        if (!statedLength && typeof d.duration === "number" && d.duration > 0) duration = d.duration;
        if (data.method === "getDuration" && typeof data.value === "number" && !statedLength) duration = data.value;
        if (data.event === "timeupdate" && typeof d.seconds === "number") observe(d.seconds, true);
        else if (data.event === "pause" || data.event === "ended" || data.event === "seeked") stopped();
      }
    });
  }

  // --- Reading: the end of the lesson came into view ---------------------------------------
  var end = document.getElementById("lesson-end");
  if (end && root.dataset.kind !== "video" && "IntersectionObserver" in window) {
    var seen = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; }) && !scrolled) {
        scrolled = true;
        seen.disconnect();
        send(true);
      }
    });
    seen.observe(end);
  }
})();
