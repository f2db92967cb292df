/* Period picker of a dashboard page: changing 月度/季度/年度 shows that kind's
   periods at once (the page renders every kind's periods, grouped; without
   JavaScript the grouped list and the 查看 button still work). */
(function () {
  "use strict";
  var kind = document.getElementById("dash-kind");
  var period = document.getElementById("dash-period");
  if (kind && period) {
    var all = Array.prototype.slice.call(period.querySelectorAll("option"));
    var show = function (chosen, keep) {
      var selected = keep ? period.value : null;
      while (period.firstChild) period.removeChild(period.firstChild);
      var shown = all.filter(function (option) { return option.getAttribute("data-kind") === chosen; });
      shown.forEach(function (option) { period.appendChild(option); });
      // Keep the chosen period if it is of this kind, else the newest one.
      if (selected && shown.some(function (o) { return o.value === selected; })) {
        period.value = selected;
      } else if (shown.length) {
        period.value = shown[0].value;
      }
    };
    show(kind.value, true);
    kind.addEventListener("change", function () { show(kind.value, false); });
  }
})();
