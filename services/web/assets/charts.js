// Draws every `[data-chart]` with the vendored uPlot: years on x, one line per series, null for
// a year without a value (the table under the chart has the same numbers, so the page reads
// without this script).
(function () {
  "use strict";
  function number(v) {
    return v == null ? "—" : String(Math.round(v * 100) / 100).replace(".", ",");
  }
  function draw(el) {
    var spec;
    try { spec = JSON.parse(el.getAttribute("data-chart")); } catch (e) { return; }
    if (!spec.years || spec.years.length === 0 || typeof uPlot === "undefined") return;
    var colours = ["#0b5cad", "#b3261e", "#1e7b34"];
    var data = [spec.years];
    var series = [{ label: "Год", value: function (u, v) { return v == null ? "—" : String(v); } }];
    spec.series.forEach(function (s, i) {
      data.push(s.values);
      series.push({
        label: s.label, stroke: colours[i % colours.length], width: 2, spanGaps: true,
        points: { show: true, size: 7 },
        value: function (u, v) { return number(v) + (spec.unit ? "\u00a0" + spec.unit : ""); }
      });
    });
    var width = Math.max(320, Math.min(900, el.clientWidth || 720));
    el.setAttribute("role", "img");
    el.setAttribute("aria-label", spec.title);
    new uPlot({
      title: spec.title, width: width, height: 300, series: series,
      scales: { x: { time: false } },
      axes: [
        { values: function (u, vals) { return vals.map(function (v) { return Number.isInteger(v) ? String(v) : ""; }); } },
        { values: function (u, vals) { return vals.map(number); } }
      ]
    }, data, el);
  }
  function start() {
    var charts = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < charts.length; i++) draw(charts[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
