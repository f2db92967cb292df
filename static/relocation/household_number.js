/* 户编号 on the add-household form: suggested from the chosen settlement's county.

   The number input carries data-suggest-url (communities.forms.HouseholdForm).  When
   the settlement changes, the next free number of its county is fetched and put in
   the box, unless the worker has typed a number of their own.  Without JavaScript
   the server numbers a household saved with the box left empty.  No inline script:
   the Content Security Policy forbids it. */
(function () {
  "use strict";
  function start() {
    var input = document.querySelector("input[name='number'][data-suggest-url]");
    var select = document.getElementById("id_settlement");
    if (!input || !select) return;
    // The server's own suggestion, if it filled the box; any other value there (typed
    // by the worker, or sent back with the form after an error) is left alone.
    var suggested = input.dataset.suggested || "";
    if (input.value && input.value !== suggested) input.dataset.typed = "1";

    input.addEventListener("input", function () {
      input.dataset.typed = input.value && input.value !== suggested ? "1" : "";
    });

    function suggest() {
      if (input.dataset.typed || !select.value) return;
      var url = input.dataset.suggestUrl + "?settlement=" + encodeURIComponent(select.value);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data || !data.number || input.dataset.typed) return;
          suggested = data.number;
          input.value = data.number;
          input.dispatchEvent(new Event("change", { bubbles: true }));
        })
        .catch(function () { /* keep the box as it is: the server numbers a blank one */ });
    }

    // The settlement is an autocomplete (select2), which announces changes
    // through jQuery only; jQuery's handlers also see a native change.
    if (window.django && window.django.jQuery) {
      window.django.jQuery(select).on("change", suggest);
    } else {
      select.addEventListener("change", suggest);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
