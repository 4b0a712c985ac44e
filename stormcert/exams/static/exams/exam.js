/* The exam page: save every answer as it is given, keep a local journal of unsent answers and
   resend it when the connection returns, show the server's clock, and submit when time is up.
   The server decides everything; this script only carries answers and displays time. */
(function () {
  "use strict";
  var root = document.getElementById("exam");
  if (!root) return;
  var attemptId = root.dataset.attempt;
  var saveUrl = root.dataset.saveUrl;
  // The attempt's signed key: with it a save needs no session read on the server (see views.save_token).
  var saveToken = root.dataset.saveToken || "";
  var resultUrl = root.dataset.resultUrl;
  var deadline = Date.parse(root.dataset.deadline);
  var offset = Date.parse(root.dataset.serverNow) - Date.now();
  var form = document.getElementById("exam-form");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = document.getElementById("timer");
  var saveState = document.getElementById("save-state");
  var announcer = document.getElementById("announce");
  var key = "stormcert-exam-" + attemptId;
  var journal = load();
  var sending = false;
  var closed = false;
  var timeUp = false;
  var holdUntil = 0;
  var announced = {};

  function load() {
    try {
      var stored = JSON.parse(localStorage.getItem(key) || "null");
      if (stored && stored.pending) return stored;
    } catch (e) { /* a broken journal is replaced */ }
    return { pending: {}, lastSeq: 0 };
  }
  function store() {
    try { localStorage.setItem(key, JSON.stringify(journal)); } catch (e) { /* private mode: memory only */ }
  }
  function nextSeq() {
    journal.lastSeq = Math.max(Date.now(), journal.lastSeq + 1);
    return journal.lastSeq;
  }
  function say(text) {
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }
  function pendingCount() { return Object.keys(journal.pending).length; }
  function state(text, problem) {
    saveState.textContent = text;
    saveState.classList.toggle("save-problem", !!problem);
  }

  function readQuestion(fieldset) {
    var checked = fieldset.querySelector("input[type=radio]:checked");
    return {
      choice: checked ? parseInt(checked.value, 10) : null,
      flagged: fieldset.querySelector("input[data-flag]").checked
    };
  }
  function refreshSummary() {
    document.querySelectorAll(".exam-question").forEach(function (fieldset) {
      var position = fieldset.dataset.position;
      var now = readQuestion(fieldset);
      var link = document.getElementById("nav" + position);
      if (!link) return;
      link.classList.toggle("answered", now.choice !== null);
      link.classList.toggle("flagged", now.flagged);
      link.setAttribute("aria-label", "Question " + position + (now.choice !== null ? ", answered" : ", not answered") + (now.flagged ? ", flagged" : ""));
    });
    document.getElementById("answered-count").textContent = document.querySelectorAll(".question-grid a.answered").length;
    document.getElementById("flagged-count").textContent = document.querySelectorAll(".question-grid a.flagged").length;
  }

  function record(fieldset) {
    if (closed || timeUp) return;
    var entry = readQuestion(fieldset);
    entry.seq = nextSeq();
    journal.pending[fieldset.dataset.position] = entry;
    store();
    refreshSummary();
    if (!saveState.classList.contains("save-problem")) state("Saving…", false);
    flush();
  }

  function flush() {
    if (sending || closed || Date.now() < holdUntil) return;
    var positions = Object.keys(journal.pending);
    if (!positions.length) return;
    sending = true;
    var position = positions[0];
    var entry = journal.pending[position];
    fetch(saveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "X-Exam-Token": saveToken },
      body: JSON.stringify({ position: parseInt(position, 10), choice: entry.choice, flagged: entry.flagged, seq: entry.seq })
    }).then(function (response) {
      // The status decides what happens to the answer; the body (JSON or not) only supplies words.
      return response.text().then(function (text) {
        var body = {};
        try { body = JSON.parse(text) || {}; } catch (e) { body = {}; }
        return { status: response.status, body: body, retryAfter: parseInt(response.headers.get("Retry-After") || "", 10) };
      });
    }).then(function (result) {
      sending = false;
      var status = result.status;
      if (status === 200) {
        var current = journal.pending[position];
        if (current && current.seq <= result.body.seq) delete journal.pending[position];
        store();
        if (saveState.classList.contains("save-problem")) say("Connection back. Your answers are saved.");
        state(pendingCount() ? "Saving…" : "All answers saved at " + result.body.saved_at + ".", false);
        flush();
      } else if (status === 409) {
        // Final: the attempt is closed (submitted, or its time ran out). Nothing more is sent.
        closed = true;
        journal.pending = {};
        store();
        var why = result.body.error || "This attempt is closed; answers can no longer change.";
        state(why + " Taking you to your result…", true);
        say(why);
        window.setTimeout(function () { window.location.href = resultUrl; }, 2500);
      } else if (status === 400 || status === 404 || status === 422) {
        // The server refused this answer as sent: resending it would be refused again.
        delete journal.pending[position];
        store();
        var refused = result.body.error || "the server refused this answer";
        state("Not saved: " + refused.replace(/\.$/, "") + ".", true);
        say("Question " + position + " was not saved: " + refused);
        flush();
      } else {
        // 429, 503 and anything else (a proxy's error page, a signed-out session): keep the answer
        // in the journal and send it again later.
        var wait = result.retryAfter > 0 ? Math.min(result.retryAfter, 60) : 3;
        holdUntil = Date.now() + wait * 1000;
        var firstBusy = !saveState.classList.contains("save-problem");
        if (status === 401 || status === 403) {
          // Signed out (or the session changed): the answers stay here until a sign-in in another tab.
          state("You appear to be signed out: " + pendingCount() + " answer(s) kept on this device. Sign in again in another tab; they will then be sent.", true);
          if (firstBusy) say("You appear to be signed out. Your answers are kept on this device; sign in again in another tab.");
          return;
        }
        state("The server is busy: " + pendingCount() + " answer(s) kept on this device; they will be sent again shortly.", true);
        if (firstBusy) say("The server is busy. Keep answering; your answers are kept and will be sent again.");
      }
    }).catch(function () {
      sending = false;
      var first = !saveState.classList.contains("save-problem");
      state("Offline: " + pendingCount() + " answer(s) kept on this device; they will be sent when the connection returns.", true);
      if (first) say("Connection lost. Keep answering; your answers are kept and will be sent when you are back online.");
    });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var msLeft = deadline - (Date.now() + offset);
    var left = Math.max(0, Math.ceil(msLeft / 1000));
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    timer.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s);
    [30, 10, 5, 1].forEach(function (mins) {
      if (left <= mins * 60 && left > mins * 60 - 5 && !announced[mins]) {
        announced[mins] = true;
        say(mins + (mins === 1 ? " minute" : " minutes") + " left.");
      }
    });
    timer.classList.toggle("timer-low", left <= 300);
    if (msLeft <= 0 && !closed && !timeUp) timeOut();
  }

  // Time is up: stop taking answers, give unsent ones a few seconds (the server's grace) to go,
  // then post the submit. Only the answer inputs are disabled: the CSRF token must go with the post.
  function timeOut() {
    timeUp = true;
    say("Time is up. Your saved answers are being submitted.");
    state("Time is up. Your saved answers are being submitted…", false);
    form.querySelectorAll("input[type=radio], input[type=checkbox]").forEach(function (input) { input.disabled = true; });
    var started = Date.now();
    holdUntil = 0;
    flush();
    (function wait() {
      if (closed) return;  // a 409 is taking the page to the result already
      if ((pendingCount() && Date.now() - started < 8000) || Date.now() - started < 1500) {
        flush();
        window.setTimeout(wait, 250);
        return;
      }
      closed = true;
      form.submit();  // the server sees the deadline has passed and grades the saved answers
    })();
  }

  // Answers given on this page before this script ran (a slow connection, a busy machine: the
  // questions are on screen before the script arrives) were seen by no listener. They differ
  // from what the server rendered (each input's default state) and are the newest of all.
  // The form has autocomplete="off", so the browser restores no stale state that would look
  // the same.
  var early = [];
  document.querySelectorAll(".exam-question").forEach(function (fieldset) {
    var changed = Array.prototype.some.call(fieldset.querySelectorAll("input"), function (input) {
      return input.checked !== input.defaultChecked;
    });
    if (changed) early.push(fieldset);
  });
  // Answers not yet sent from an earlier visit (or from before a reload) win over the page,
  // but not over an answer just given on it.
  Object.keys(journal.pending).forEach(function (position) {
    var fieldset = document.querySelector('.exam-question[data-position="' + position + '"]');
    var entry = journal.pending[position];
    if (!fieldset || early.indexOf(fieldset) !== -1) return;
    if (entry.seq <= parseInt(fieldset.dataset.seq, 10)) { delete journal.pending[position]; return; }
    fieldset.querySelectorAll("input[type=radio]").forEach(function (radio) {
      radio.checked = entry.choice !== null && parseInt(radio.value, 10) === entry.choice;
    });
    fieldset.querySelector("input[data-flag]").checked = entry.flagged;
  });
  store();
  state(pendingCount() ? "Saving…" : "All answers saved.", false);  // the page said "still loading"
  early.forEach(record);

  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest(".exam-question");
    if (fieldset) record(fieldset);
  });
  form.addEventListener("submit", function (event) {
    if (closed) return;
    if (pendingCount()) {
      event.preventDefault();
      flush();
      state("Some answers are not sent yet; wait until they are saved, then submit.", true);
      say("Some answers are not sent yet. Wait until they are saved, then submit.");
      return;
    }
    var unanswered = document.querySelectorAll(".question-grid a:not(.answered)").length;
    var message = unanswered ? "You have " + unanswered + " unanswered question(s). Submit anyway?" : "Submit the exam now?";
    if (!window.confirm(message)) { event.preventDefault(); return; }
    closed = true;
    // Every answer is saved by now: the post carries only the CSRF token. (A page whose script
    // never ran posts its answers, and the server keeps those it never received.)
    form.querySelectorAll("input[type=radio], input[type=checkbox]").forEach(function (input) { input.disabled = true; });
  });
  window.addEventListener("online", flush);
  window.addEventListener("beforeunload", function (event) {
    if (pendingCount() && !closed) { event.preventDefault(); event.returnValue = ""; }
  });
  window.setInterval(flush, 3000);
  window.setInterval(tick, 1000);
  refreshSummary();
  tick();
  flush();
})();
