// Draws a report's chart with Chart.js (static/vendor/chartjs) from the JSON the page embeds
// (analytics.results.Chart.as_json): one canvas, its series, the comparison period dashed.
(function () {
  "use strict";
  var PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04",
    "#4f46e5", "#059669", "#db2777", "#64748b", "#84cc16"];

  function draw() {
    var data = document.getElementById("report-chart");
    var canvas = document.getElementById("report-chart-canvas");
    if (!data || !canvas || !window.Chart) { return; }
    var spec = JSON.parse(data.textContent);
    var money = spec.money ? new Intl.NumberFormat(document.documentElement.lang || "en",
      { style: "currency", currency: spec.currency, maximumFractionDigits: 0 }) : null;
    var round = spec.kind === "doughnut";
    var type = { line: "line", bar: "bar", stacked: "bar", hbar: "bar", doughnut: "doughnut" }[spec.kind] || "line";
    var datasets = spec.series.map(function (series, index) {
      var colour = PALETTE[index % PALETTE.length];
      return {
        label: series.label,
        data: series.values,
        borderColor: round ? "#fff" : colour,
        backgroundColor: round ? series.values.map(function (_, i) { return PALETTE[i % PALETTE.length]; }) : colour + (type === "line" ? "22" : "cc"),
        borderDash: series.compare ? [6, 4] : [],
        fill: false,
        tension: 0.2,
        pointRadius: spec.labels.length > 60 ? 0 : 2
      };
    });
    // Counts are whole numbers: no 0.5 ticks on a count axis.
    var axis = money ? { ticks: { callback: function (v) { return money.format(v); } } } : { ticks: { precision: 0 } };
    var options = { responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "index", intersect: false }, plugins: { legend: { position: "bottom" } } };
    if (!round) {
      options.scales = spec.kind === "hbar"
        ? { x: axis, y: {} }
        : { x: { stacked: spec.kind === "stacked" }, y: Object.assign({ stacked: spec.kind === "stacked", beginAtZero: true }, axis) };
      if (spec.kind === "hbar") { options.indexAxis = "y"; }
    }
    if (money) {
      options.plugins.tooltip = { callbacks: { label: function (ctx) {
        var value = round ? ctx.parsed : (spec.kind === "hbar" ? ctx.parsed.x : ctx.parsed.y);
        return ctx.dataset.label + ": " + money.format(value);
      } } };
    }
    canvas.chart = new window.Chart(canvas, { type: type, data: { labels: spec.labels, datasets: datasets }, options: options });
    canvas.setAttribute("data-drawn", "1");
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
