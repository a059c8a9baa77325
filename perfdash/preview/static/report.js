/* perfdash baseline report: every run over time with the baseline band (uPlot). */
(function () {
  "use strict";
  function fmt(v, unit) {
    if (v === null || v === undefined) return "";
    if (unit === "percentunit") return (v * 100).toFixed(2) + "%";
    var a = Math.abs(v), d = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
    return v.toFixed(d) + (unit === "ms" || unit === "s" ? " " + unit : "");
  }
  window.PERFDASH_REPORT.metrics.forEach(function (m) {
    var box = document.getElementById("plot-" + m.id);
    var all = m.baseline.concat(m.candidate).sort(function (a, b) { return a.t - b.t || a.id - b.id; });
    if (!all.length) { box.textContent = "No runs"; return; }
    var xs = all.map(function (p) { return p.t; });
    var baseIds = {}; m.baseline.forEach(function (p) { baseIds[p.id] = true; });
    var base = all.map(function (p) { return baseIds[p.id] ? p.v : null; });
    var cand = all.map(function (p) { return baseIds[p.id] ? null : p.v; });
    var bv = m.baseline.map(function (p) { return p.v; }).sort(function (a, b) { return a - b; });
    var lo = bv.length ? bv[0] : null, hi = bv.length ? bv[bv.length - 1] : null;
    var med = bv.length ? (bv.length % 2 ? bv[(bv.length - 1) / 2] : (bv[bv.length / 2 - 1] + bv[bv.length / 2]) / 2) : null;
    var limit = null;
    if (med !== null) {
      var rel = (m.threshold_pct || 0) / 100, abs = m.threshold_abs || 0;
      var step = m.unit === "percentunit" ? Math.max(abs, Math.abs(med) * rel) : Math.abs(med) * rel;
      limit = m.better === "lower" ? med + step : med - step;
    }
    var flat = function (v) { return xs.map(function () { return v; }); };
    var data = [xs, flat(hi), flat(lo), flat(med), flat(limit), base, cand];
    var dots = function (c) { return {stroke: c, fill: c, width: 0, paths: function () { return null; }, points: {show: true, size: 9, fill: c, stroke: c}}; };
    var opts = {width: 600, height: 250, legend: {show: false}, cursor: {drag: {x: false, y: false}},
      scales: {x: {time: true}},
      axes: [{stroke: "rgba(204,204,220,0.65)", grid: {stroke: "rgba(204,204,220,0.07)"}},
             {stroke: "rgba(204,204,220,0.65)", grid: {stroke: "rgba(204,204,220,0.07)"}, size: 70, values: function (u, ts) { return ts.map(function (t) { return fmt(t, m.unit); }); }}],
      series: [{}, {label: "band high", stroke: "rgba(86,180,233,0.5)", width: 1, points: {show: false}},
        {label: "band low", stroke: "rgba(86,180,233,0.5)", width: 1, points: {show: false}},
        {label: "baseline median", stroke: "#56B4E9", width: 1, dash: [4, 4], points: {show: false}},
        {label: "regression threshold", stroke: "#D55E00", width: 1, dash: [8, 6], points: {show: false}},
        Object.assign({label: "baseline runs"}, dots("#56B4E9")),
        Object.assign({label: "candidate runs"}, dots("#E69F00"))],
      bands: [{series: [1, 2], fill: "rgba(86,180,233,0.18)"}]};
    var chart = new uPlot(opts, data, box);
    box.dataset.baselinePoints = String(m.baseline.length);
    box.dataset.candidatePoints = String(m.candidate.length);
    box.chart = chart;
  });
  document.body.dataset.rendered = "true";
})();
