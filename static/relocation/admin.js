/* Behaviour the admin templates used to carry inline (onchange=, onclick=), which
   the Content Security Policy blocks: elements ask for it with data- attributes.
     <select data-submit-on-change>   submits its form when changed (language menu)
     <select data-navigate-on-change> goes to the chosen option's URL (drop-down filters)
     <button data-print>              prints the page (dashboards)                      */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLSelectElement)) return;
    if (target.hasAttribute("data-submit-on-change") && target.form) {
      target.form.submit();
    } else if (target.hasAttribute("data-navigate-on-change")) {
      window.location.href = target.value;
    }
  });
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (button) window.print();
  });
})();
