// The import page: runs the dry run chunk by chunk with a progress bar, and shows that the
// import is under way once it is submitted. Without this script the buttons still work
// (the whole check, or the import, in one request).
(function () {
  "use strict";
  var box = document.getElementById("checking");
  if (box) {
    var form = document.getElementById("check-form");
    var bar = document.getElementById("check-progress");
    var count = document.getElementById("check-count");
    var status = document.getElementById("check-status");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var failures = 0;
    var step = function () {
      fetch(box.dataset.checkUrl, {
        method: "POST",
        headers: { "Accept": "application/json", "X-CSRFToken": token },
        credentials: "same-origin",
      })
        .then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status);
          return r.json();
        })
        .then(function (data) {
          failures = 0;
          bar.value = data.checked;
          count.textContent = data.checked.toLocaleString();
          status.textContent = data.percent + "% checked" + (data.rejected ? ", " + data.rejected + " rejected so far" : "");
          if (data.done) {
            status.textContent = "Checked. Loading the results…";
            window.location.reload();
          } else {
            step();
          }
        })
        .catch(function (err) {
          // A dropped connection or a restarted server: the run keeps its place, so retry.
          failures += 1;
          if (failures > 5) {
            status.textContent = "The check stopped (" + err.message + "). Reload the page to go on where it stopped.";
            form.hidden = false;
            return;
          }
          status.textContent = "Connection trouble; retrying…";
          window.setTimeout(step, 1000 * failures);
        });
    };
    form.hidden = true;
    status.textContent = "Checking…";
    step();
  }

  var apply = document.getElementById("apply-form");
  if (apply) {
    apply.addEventListener("submit", function () {
      var button = apply.querySelector("button");
      var status = document.getElementById("apply-status");
      var started = Date.now();
      var indicator = document.createElement("progress");
      indicator.setAttribute("aria-label", "Importing");
      apply.insertBefore(indicator, status);
      button.disabled = true;
      var tick = function () {
        status.textContent = "Importing… " + Math.round((Date.now() - started) / 1000) + " s";
      };
      tick();
      window.setInterval(tick, 1000);
    });
  }
})();
