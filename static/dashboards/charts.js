/* Charts of a dashboard page, drawn with Apache ECharts from our own static
   files.  The numbers come from the page (json_script); every chart also has a
   table with the same numbers, shown when scripts or ECharts are unavailable. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var charts = [];
  var colors = ["#417690", "#e0a800", "#79aec8", "#b3261e", "#1e6b35", "#7a5195"];

  function draw(name, option) {
    var figure = document.querySelector('.dash-chart[data-chart="' + name + '"]');
    if (!figure) return;
    figure.classList.add("dash-charts-on");
    var chart = window.echarts.init(figure.querySelector(".dash-canvas"), null, { renderer: "canvas" });
    // Tooltips drawn on the canvas: ECharts' HTML tooltips carry style="…"
    // attributes, which the Content Security Policy (style-src 'self') blocks.
    if (option.tooltip) option.tooltip = Object.assign({ renderMode: "richText" }, option.tooltip);
    chart.setOption(Object.assign({ color: colors, animation: false }, option));
    charts.push(chart);
  }

  function label(text) { return String(text); }

  if (data.childRates && data.childRates.length) {
    draw("childRates", {
      grid: { left: 48, right: 16, top: 24, bottom: 64 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      xAxis: { type: "category", data: data.childRates.map(function (r) { return label(r.name); }),
               axisLabel: { interval: 0, rotate: data.childRates.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      series: [{ type: "bar", data: data.childRates.map(function (r) { return r.value; }),
                 label: { show: data.childRates.length <= 12, position: "top", formatter: "{c}%" } }]
    });
  }
  if (data.incomeShares && data.incomeShares.some(function (s) { return s.value > 0; })) {
    draw("incomeShares", {
      tooltip: { trigger: "item", formatter: "{b}：{d}%" },
      series: [{ type: "pie", radius: ["35%", "62%"], data: data.incomeShares,
                 label: { formatter: "{b}\n{d}%" } }]
    });
  }
  if (data.personsByYear && data.personsByYear.length) {
    draw("personsByYear", {
      grid: { left: 56, right: 16, top: 24, bottom: 32 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.personsByYear.map(function (r) { return r.name; }) },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: data.personsByYear.map(function (r) { return r.value; }),
                 label: { show: true, position: "top" } }]
    });
  }
  if (data.trend && data.trend.periods.length) {
    var percent = data.trend.series.filter(function (s) { return s.unit === "%"; });
    var others = data.trend.series.filter(function (s) { return s.unit !== "%"; });
    var series = percent.map(function (s) {
      return { name: s.name, type: "line", yAxisIndex: 0, data: s.values, connectNulls: false };
    }).concat(others.map(function (s, i) {
      var chinese = /^zh/.test(document.documentElement.lang || "zh");
      var unit = chinese ? "（" + s.unit + "）" : " (" + s.unit + ")";
      return { name: s.name + unit, type: "line", yAxisIndex: 1 + Math.min(i, 1),
               data: s.values, lineStyle: { type: "dashed" } };
    }));
    draw("trend", {
      grid: { left: 56, right: 120, top: 40, bottom: 32 },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.trend.periods },
      yAxis: [
        { type: "value", axisLabel: { formatter: "{value}%" }, scale: true,
          // A rate axis stops at 100 % (ECharts would round it up to 102 %).
          max: function (v) { return v.max <= 100 ? 100 : Math.ceil(v.max); } },
        // Each right-hand axis is named by its unit (人, 元 …) so that two axes of
        // similar range are told apart.
        { type: "value", scale: true, position: "right", name: others[0] ? others[0].unit : "" },
        { type: "value", scale: true, position: "right", offset: 60,
          name: others[1] ? others[1].unit : "" }
      ],
      series: series
    });
  }
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { charts.forEach(function (c) { c.resize(); }); });
  window.addEventListener("afterprint", function () { charts.forEach(function (c) { c.resize(); }); });
  if (window.matchMedia) {
    window.matchMedia("print").addEventListener("change", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }
})();
