/* The KLA dashboard's charts: Chart.js (vendor/chart.js) draws each canvas[data-chart] from
   the figures the page carries; the same figures are in the table beside each chart, so the
   page reads the same without this script. Series differ by line style and point shape as
   well as by colour. */
(function () {
  "use strict";
  var COLOURS = ["#0b5d4b", "#a15c00"];
  var POINTS = ["circle", "triangle"];
  var DASHES = [[], [6, 4]];

  function draw(canvas) {
    var figures = JSON.parse(canvas.getAttribute("data-chart"));
    var kind = canvas.getAttribute("data-kind") === "line" ? "line" : "bar";
    var datasets = figures.series.map(function (series, i) {
      return {label: series.label, data: series.values, backgroundColor: COLOURS[i % 2],
              borderColor: COLOURS[i % 2], borderDash: DASHES[i % 2], pointStyle: POINTS[i % 2],
              pointRadius: 5, borderWidth: 2};
    });
    canvas.chart = new window.Chart(canvas, {
      type: kind,
      data: {labels: figures.labels, datasets: datasets},
      options: {
        animation: false, responsive: true, maintainAspectRatio: false,
        indexAxis: kind === "bar" && figures.labels.length > 8 ? "y" : "x",
        plugins: {legend: {labels: {usePointStyle: true}}},
        scales: {x: {ticks: {precision: 0}}, y: {ticks: {precision: 0}, beginAtZero: true}}
      }
    });
  }

  function start() {
    if (!window.Chart) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
