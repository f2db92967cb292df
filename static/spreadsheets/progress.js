// Follows a running import job and reloads the page when it has finished.
(function () {
  "use strict";
  const box = document.querySelector("[data-progress-url]");
  if (!box) return;
  const url = box.dataset.progressUrl;
  const bar = document.getElementById("job-progress");
  const percent = document.getElementById("job-percent");
  const phase = document.getElementById("job-phase");
  const state = document.getElementById("job-state");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => response.json())
      .then((data) => {
        bar.value = data.progress;
        percent.textContent = data.progress + "%";
        phase.textContent = data.phase;
        state.textContent = data.label;
        if (data.running) {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(() => window.setTimeout(poll, 3000));
  }
  window.setTimeout(poll, 500);
})();
