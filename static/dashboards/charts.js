/* Charts of a dashboard page, drawn with Apache ECharts from our own static
   files.  The numbers come from the page (json_script); every chart also has a
   table with the same numbers, shown when scripts or ECharts are unavailable.

   Axes do not mislead: counts and amounts start at zero (each on its own small
   chart in the trend), rates keep a readable range of at least ten points, so
   +3 people never draws a full-height spike. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var charts = [];
  var colors = ["#417690", "#e0a800", "#79aec8", "#b3261e", "#1e6b35", "#7a5195"];
  var chinese = /^zh/.test(document.documentElement.lang || "zh");

  function figureOf(name) {
    return document.querySelector('.dash-chart[data-chart="' + name + '"]');
  }

  function init(element, option) {
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    // Tooltips drawn on the canvas: ECharts' HTML tooltips carry style="…"
    // attributes, which the Content Security Policy (style-src 'self') blocks.
    if (option.tooltip) option.tooltip = Object.assign({ renderMode: "richText" }, option.tooltip);
    chart.setOption(Object.assign({ color: colors, animation: false }, option));
    charts.push(chart);
    return chart;
  }

  function draw(name, option) {
    var figure = figureOf(name);
    if (!figure) return null;
    figure.classList.add("dash-charts-on");
    return init(figure.querySelector(".dash-canvas"), option);
  }

  function withUnit(name, unit) {
    if (!unit) return name;
    return chinese ? name + "（" + unit + "）" : name + " (" + unit + ")";
  }

  function present(values) {
    return values.filter(function (v) { return v !== null && v !== undefined; });
  }

  /* A readable range for percentages: at least `span` points wide, inside 0–100
     when the data are, on multiples of 5. */
  function rateRange(values, span) {
    var known = present(values);
    if (!known.length) return { min: 0, max: 100 };
    var lo = Math.min.apply(null, known), hi = Math.max.apply(null, known);
    var min = Math.floor((lo - 2) / 5) * 5, max = Math.ceil((hi + 2) / 5) * 5;
    while (max - min < span) {
      if (min > 0) min -= 5;
      if (max - min < span) max += 5;
    }
    if (lo >= 0) min = Math.max(0, min);
    if (hi <= 100) max = Math.min(100, max);
    return { min: min, max: max };
  }

  if (data.childRates && data.childRates.length) {
    draw("childRates", {
      grid: { left: 48, right: 16, top: 24, bottom: 64 },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v === null ? "—" : v + "%"; } },
      xAxis: { type: "category", data: data.childRates.map(function (r) { return String(r.name); }),
               axisLabel: { interval: 0, rotate: data.childRates.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
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
      yAxis: { type: "value", min: 0 },
      series: [{ type: "bar", data: data.personsByYear.map(function (r) { return r.value; }),
                 label: { show: true, position: "top" } }]
    });
  }

  /* Ranked comparison: the child areas sorted by the chosen indicator, with a
     line for the area: its own rate (from summed numerators and denominators),
     or for a count its total per child area.  Changing the indicator redraws at
     once; without JavaScript the form asks the server for the sorted table. */
  function rankingOption(key) {
    var ranking = data.ranking;
    var indicator = ranking.indicators.filter(function (i) { return i.key === key; })[0];
    if (!indicator) return null;
    var known = ranking.rows.map(function (r) { return { name: String(r.name), value: r.values[key] }; })
      .filter(function (r) { return r.value !== null; });
    known.sort(function (a, b) { return b.value - a.value; });
    var percent = indicator.unit === "%";
    var suffix = percent ? "%" : "";
    var values = known.map(function (r) { return r.value; });
    var axis = { type: "value", axisLabel: { formatter: "{value}" + suffix } };
    if (percent) {
      // 93 % against 96 % must show: a readable range around the values and the line.
      var range = rateRange(values.concat(indicator.reference === null ? [] : [indicator.reference]), 10);
      axis.min = range.min;
      axis.max = range.max;
    } else {
      axis.min = 0;  // a count or an amount: a bar's length is its value
    }
    var line = indicator.reference === null ? [] : [{
      xAxis: indicator.reference,
      label: { formatter: indicator.referenceLabel + " " + indicator.referenceText, position: "start" }
    }];
    return {
      color: colors,
      animation: false,
      grid: { left: 8, right: 56, top: 28, bottom: 24, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      xAxis: axis,
      // The highest first (at the top).
      yAxis: { type: "category", inverse: true, data: known.map(function (r) { return r.name; }),
               axisLabel: { interval: 0 } },
      series: [{
        name: withUnit(indicator.name, percent ? "" : indicator.unit),
        type: "bar",
        data: values,
        label: { show: known.length <= 30, position: "right", formatter: "{c}" + suffix },
        markLine: { symbol: "none", silent: true, lineStyle: { color: "#b3261e", type: "solid", width: 2 },
                    data: line }
      }]
    };
  }
  if (data.ranking && data.ranking.rows.length) {
    var figure = figureOf("ranking");
    var select = document.getElementById("dash-rank");
    if (figure && select) {
      var canvas = figure.querySelector(".dash-canvas");
      // One bar per area: the chart grows with the number of areas (CSSOM, allowed by the CSP).
      canvas.style.height = (Math.max(4, data.ranking.rows.length) * 26 + 60) + "px";
      var chart = draw("ranking", rankingOption(select.value || data.ranking.selected));
      figure.querySelector(".dash-rank-submit").classList.add("dash-hidden");
      select.addEventListener("change", function () {
        var option = rankingOption(select.value);
        if (option) chart.setOption(option, { notMerge: true });
        figure.setAttribute("data-rank", select.value);
      });
      figure.setAttribute("data-rank", select.value);
    }
  }

  if (data.trend && data.trend.periods.length) {
    var rates = data.trend.series.filter(function (s) { return s.unit === "%"; });
    var amounts = data.trend.series.filter(function (s) { return s.unit !== "%"; });
    var rateValues = [];
    rates.forEach(function (s) { rateValues = rateValues.concat(s.values); });
    var range = rateRange(rateValues, 10);
    draw("trend", {
      grid: { left: 56, right: 24, top: 40, bottom: 32 },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: data.trend.periods },
      yAxis: { type: "value", min: range.min, max: range.max, axisLabel: { formatter: "{value}%" } },
      series: rates.map(function (s) {
        return { name: s.name, type: "line", data: s.values, connectNulls: false };
      })
    });
    var holder = document.querySelector('.dash-chart[data-chart="trend"] [data-part="amounts"]');
    if (holder) {
      amounts.forEach(function (s, i) {
        var box = document.createElement("div");
        box.className = "dash-canvas-small";
        box.setAttribute("data-key", s.key);
        holder.appendChild(box);
        init(box, {
          color: [colors[(rates.length + i) % colors.length]],
          title: { text: withUnit(s.name, s.unit), left: 8, top: 0, textStyle: { fontSize: 12 } },
          grid: { left: 64, right: 16, top: 32, bottom: 28 },
          tooltip: { trigger: "axis" },
          xAxis: { type: "category", data: data.trend.periods },
          // Counts and amounts start at zero: +3 people is a flat line.
          yAxis: { type: "value", min: 0 },
          series: [{ name: s.name, type: "line", data: s.values, connectNulls: false }]
        });
      });
    }
  }
  function resize() { charts.forEach(function (c) { c.resize(); }); }
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
  if (window.matchMedia) window.matchMedia("print").addEventListener("change", resize);
})();
