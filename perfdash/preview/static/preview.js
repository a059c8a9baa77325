/* perfdash preview: draws a Grafana dashboard from its JSON and the answers perfdash
   collected (window.PERFDASH_PREVIEW). Time series are drawn by uPlot, the library
   Grafana's own time series panel is built on; the other panels are plain DOM. */
(function () {
  "use strict";
  var DATA = window.PERFDASH_PREVIEW;
  var CELL = 30, GAP = 8, COLS = 24, WIDTH = 1600;
  var COL_W = (WIDTH - (COLS - 1) * GAP) / COLS;
  var PALETTE = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1", "#BA43A9",
    "#705DA0", "#508642", "#CCA300", "#447EBC", "#C15C17", "#890F02", "#0A437C", "#6D1F62"];
  var NAMED = {green: "#73BF69", red: "#F2495C", orange: "#FF9830", yellow: "#FADE2A",
    blue: "#5794F2", purple: "#B877D9", "dark-green": "#37872D", "dark-red": "#C4162A",
    "semi-dark-red": "#E02F44", "semi-dark-green": "#56A64B", "dark-orange": "#FA6400",
    "dark-yellow": "#E0B400", "dark-blue": "#1F60C4", text: "#ccccdc", transparent: "transparent"};
  var state = {vars: {}, charts: [], rendered: {}};
  var tooltip;

  function color(name) { return NAMED[name] || name || "#ccccdc"; }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function alpha(hex, a) {
    var c = color(hex);
    if (c.charAt(0) !== "#" || c.length !== 7) return c;
    var n = Math.round(a * 255).toString(16);
    return c + (n.length < 2 ? "0" + n : n);
  }

  /* -- values: units, decimals, thresholds, mappings ------------------------------ */
  function autoDecimals(v) {
    if (!isFinite(v) || v === 0) return 0;
    var abs = Math.abs(v), dec = -Math.floor(Math.log(abs) / Math.LN10) + 1;
    var norm = abs / Math.pow(10, -dec);
    if (norm > 2.25) dec++;
    if (v % 1 === 0) dec = 0;
    return Math.max(0, Math.min(dec, 4));
  }
  function fixed(v, decimals) {
    var d = decimals === undefined || decimals === null ? autoDecimals(v) : decimals;
    return v.toFixed(d);
  }
  function scaled(v, decimals, steps, factor) {
    var i = 0, abs = Math.abs(v);
    while (i < steps.length - 1 && abs >= factor) { v /= factor; abs /= factor; i++; }
    return fixed(v, decimals) + steps[i];
  }
  var TIME_UNITS = [[31536000, " year"], [604800, " week"], [86400, " day"], [3600, " hour"], [60, " min"]];
  function seconds(v, decimals) {
    var abs = Math.abs(v);
    if (abs === 0) return "0 s";
    if (abs < 1) return fixed(v * 1000, decimals) + " ms";
    for (var i = 0; i < TIME_UNITS.length; i++) {
      if (abs >= TIME_UNITS[i][0]) return fixed(v / TIME_UNITS[i][0], decimals) + TIME_UNITS[i][1];
    }
    return fixed(v, decimals) + " s";
  }
  function format(v, unit, decimals) {
    if (v === null || v === undefined || (typeof v === "number" && isNaN(v))) return "";
    if (typeof v !== "number") return String(v);
    unit = unit || "short";
    if (unit === "percentunit") return fixed(v * 100, decimals) + "%";
    if (unit === "percent") return fixed(v, decimals) + "%";
    if (unit === "s") return seconds(v, decimals);
    if (unit === "ms") return Math.abs(v) < 1000 ? fixed(v, decimals) + " ms" : seconds(v / 1000, decimals);
    if (unit === "none") return fixed(v, decimals);
    if (unit === "short") return scaled(v, decimals, ["", " K", " Mil", " Bil", " Tri"], 1000);
    if (unit === "reqps") return scaled(v, decimals, [" req/s", "K req/s", "M req/s"], 1000);
    if (unit === "bytes") return scaled(v, decimals, [" B", " KiB", " MiB", " GiB", " TiB"], 1024);
    if (unit.indexOf("suffix:") === 0) return fixed(v, decimals) + " " + unit.slice(7);
    if (unit.indexOf("prefix:") === 0) return unit.slice(7) + fixed(v, decimals);
    return fixed(v, decimals) + " " + unit;
  }
  function thresholdColor(v, thresholds) {
    var steps = (thresholds && thresholds.steps) || [];
    var found = steps.length ? steps[0].color : "#73BF69";
    if (v === null || v === undefined) return color(found);
    var base = thresholds.mode === "percentage";
    for (var i = 0; i < steps.length; i++) {
      if (steps[i].value === null || steps[i].value === undefined || (!base && v >= steps[i].value)) {
        found = steps[i].color;
      }
    }
    return color(found);
  }
  function mapped(v, mappings) {
    for (var i = 0; i < (mappings || []).length; i++) {
      var m = mappings[i], o = m.options || {};
      if (m.type === "value" && v !== null && o[String(v)]) return o[String(v)];
      if (m.type === "range" && v !== null && typeof v === "number" &&
          (o.from === null || o.from === undefined || v >= o.from) &&
          (o.to === null || o.to === undefined || v <= o.to)) return o.result || {};
      if (m.type === "special" && (v === null || (typeof v === "number" && isNaN(v))) &&
          (o.match === "null" || o.match === "nan" || o.match === "null+nan")) return o.result || {};
    }
    return null;
  }
  function display(v, field) {
    var map = mapped(v, field.mappings);
    var text = map && map.text !== undefined ? map.text : format(v, field.unit, field.decimals);
    var c = map && map.color ? color(map.color) : thresholdColor(v, field.thresholds);
    return {text: text, color: c};
  }

  /* -- time --------------------------------------------------------------------- */
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function clock(t) { var d = new Date(t * 1000); return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()); }
  function dateTime(ms) {
    var d = new Date(ms);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
  }

  /* -- variables and data ----------------------------------------------------- */
  function currentText(name) {
    var v = state.vars[name];
    var def = DATA.variables.filter(function (x) { return x.name === name; })[0];
    if (v === undefined) return null;
    return v === "$__all" ? "All" : (def && def.type === "datasource" ? def.options[0] : v);
  }
  function interpolate(text) {
    return String(text || "").replace(/\$\{(\w+)(?::[\w-]+)?\}|\$(\w+)|\[\[(\w+)\]\]/g, function (all, a, b, c) {
      var name = a || b || c, value = currentText(name);
      return value === null ? all : value;
    });
  }
  function variant(panel) {
    var data = panel.data;
    if (!data) return null;
    var key = data.vars.map(function (n) { return n + "=" + state.vars[n]; }).sort().join("&");
    return data.variants[key] || null;
  }
  function fieldOf(panel) {
    var d = (panel.fieldConfig && panel.fieldConfig.defaults) || {};
    return {unit: d.unit, decimals: d.decimals, thresholds: d.thresholds || {steps: []},
      mappings: d.mappings || [], min: d.min, max: d.max, noValue: d.noValue, custom: d.custom || {},
      color: d.color || {}, links: d.links || []};
  }
  function lastValue(frame) {
    if (frame.points) return frame.points.length ? frame.points[frame.points.length - 1][1] : null;
    for (var i = frame.values.length - 1; i >= 0; i--) if (frame.values[i] !== null) return frame.values[i];
    return null;
  }
  function reduce(frame, calc) {
    var values = frame.points ? frame.points.map(function (p) { return p[1]; }) : frame.values;
    var known = values.filter(function (v) { return v !== null; });
    if (!known.length) return null;
    if (calc === "last" || calc === "lastNotNull") return lastValue(frame);
    if (calc === "firstNotNull" || calc === "first") return known[0];
    if (calc === "max") return Math.max.apply(null, known);
    if (calc === "min") return Math.min.apply(null, known);
    if (calc === "sum") return known.reduce(function (a, b) { return a + b; }, 0);
    if (calc === "mean") return known.reduce(function (a, b) { return a + b; }, 0) / known.length;
    return lastValue(frame);
  }
  function fieldLinks(panel, field, labels, row) {
    return (field.links || []).map(function (link) {
      function fill(text) {
        return interpolate(String(text || "").replace(/\$\{__field\.labels\.([\w]+)\}/g, function (_, k) {
          return (labels && labels[k]) || "";
        }).replace(/\$\{__data\.fields\.([\w ]+)\}/g, function (_, k) {
          return row && row[k] !== undefined ? row[k] : "";
        }));
      }
      return {title: fill(link.title), url: dashboardUrl(fill(link.url)), blank: link.targetBlank};
    });
  }
  function dashboardUrl(url) {
    var m = /^\/d\/([^/?#]+)/.exec(url);
    if (m && DATA.files[m[1]]) return DATA.files[m[1]];
    return url;
  }

  /* -- layout: Grafana's grid with rows and vertical compaction ------------------- */
  function visiblePanels() {
    /* Open rows are followed by their panels; collapsed rows hold theirs. Collapsing an
       open row hides what follows it up to the next row; expanding a collapsed one
       puts its panels under it and pushes the rest down, as Grafana does. */
    var out = [], hiding = false, shift = 0;
    DATA.panels.forEach(function (p) {
      var g = p.gridPos || {};
      p.layout = {x: g.x || 0, y: (g.y || 0) + shift, w: g.w || 12, h: g.h || 8};
      if (p.type === "row") {
        p.layout = {x: 0, y: (g.y || 0) + shift, w: 24, h: 1};
        out.push(p);
        hiding = !!p.collapsedState;
        var children = p.panels || [];
        if (!p.collapsedState && children.length) {
          var first = Math.min.apply(null, children.map(function (c) { return c.gridPos.y; }));
          var last = Math.max.apply(null, children.map(function (c) { return c.gridPos.y + c.gridPos.h; }));
          children.forEach(function (c) {
            c.layout = {x: c.gridPos.x, y: p.layout.y + 1 + c.gridPos.y - first, w: c.gridPos.w, h: c.gridPos.h};
            out.push(c);
          });
          shift += last - first;
        }
        return;
      }
      if (!hiding) out.push(p);
    });
    return out;
  }
  function compact(items) {
    var placed = [];
    items.slice().sort(function (a, b) { return a.y - b.y || a.x - b.x; }).forEach(function (it) {
      var y = 0;
      for (;;) {
        var hit = placed.filter(function (p) {
          return it.x < p.x + p.w && p.x < it.x + it.w && y < p.y + p.h && p.y < y + it.h;
        });
        if (!hit.length) break;
        y = Math.max.apply(null, hit.map(function (p) { return p.y + p.h; }));
      }
      it.y = y;
      placed.push(it);
    });
    return placed;
  }
  function layout() {
    var items = visiblePanels().map(function (p) {
      var g = p.layout;
      return {panel: p, x: g.x, y: g.y, w: g.w, h: g.h};
    });
    return compact(items);
  }

  /* -- panels -------------------------------------------------------------------- */
  function frame(item) {
    var box = el("div");
    box.style.left = item.x * (COL_W + GAP) + "px";
    box.style.top = item.y * (CELL + GAP) + "px";
    box.style.width = item.w * COL_W + (item.w - 1) * GAP + "px";
    box.style.height = item.h * CELL + (item.h - 1) * GAP + "px";
    return box;
  }
  function header(panel, box) {
    var head = el("div", "pd-head");
    var title = el("div", "pd-title", interpolate(panel.title));
    head.appendChild(title);
    if (panel.description) {
      var info = el("span", "pd-info", "i");
      info.title = interpolate(panel.description);
      info.setAttribute("aria-label", info.title);
      head.appendChild(info);
    }
    (panel.links || []).forEach(function (link) {
      var a = el("a", "pd-panel-link", "\u2197 " + (link.title || "link"));
      a.href = dashboardUrl(interpolate(link.url));
      if (link.targetBlank) a.target = "_blank";
      a.title = link.tooltip || link.title || "";
      head.appendChild(a);
    });
    box.appendChild(head);
  }
  function noData(body, text) { body.appendChild(el("div", "pd-nodata", text || "No data")); }
  function errors(body, result) {
    if (result && result.errors && result.errors.length) {
      var e = el("div", "pd-error", result.errors.join("; "));
      e.title = e.textContent;
      body.appendChild(e);
    }
  }
  function seriesFrames(result) {
    return (result && result.frames || []).filter(function (f) { return !f.table || f.values; });
  }

  function renderTimeseries(panel, body, result) {
    var field = fieldOf(panel), custom = field.custom;
    var frames = (result && result.frames || []).filter(function (f) { return f.values; });
    var points = 0;
    frames.forEach(function (f) { f.values.forEach(function (v) { if (v !== null) points++; }); });
    body.dataset.points = String(points);
    if (!points) { noData(body, field.noValue); errors(body, result); return; }
    var times = {};
    frames.forEach(function (f) { f.values.forEach(function (_, i) { times[f.start + i * f.step] = true; }); });
    var xs = Object.keys(times).map(Number).sort(function (a, b) { return a - b; });
    var index = {};
    xs.forEach(function (t, i) { index[t] = i; });
    var data = [xs];
    frames.forEach(function (f) {
      var ys = xs.map(function () { return null; });
      f.values.forEach(function (v, i) { ys[index[f.start + i * f.step]] = v; });
      data.push(ys);
    });
    var legend = el("div", "pd-legend");
    var series = [{}];
    frames.forEach(function (f, i) {
      var c = field.color.mode === "fixed" ? color(field.color.fixedColor) : PALETTE[i % PALETTE.length];
      var fill = custom.fillOpacity ? alpha(c, custom.fillOpacity / 100) : undefined;
      series.push({label: f.name, stroke: c, width: custom.lineWidth || 1, fill: fill,
        spanGaps: custom.spanNulls !== false,
        points: {show: custom.showPoints === "always", size: custom.pointSize || 5},
        value: function (u, v) { return format(v, field.unit, field.decimals); }});
      var entry = el("span");
      var swatch = el("i");
      swatch.style.background = c;
      entry.appendChild(swatch);
      entry.appendChild(document.createTextNode(f.name));
      legend.appendChild(entry);
    });
    var plot = el("div", "pd-plot");
    body.appendChild(plot);
    var showLegend = !panel.options || !panel.options.legend || panel.options.legend.showLegend !== false;
    if (showLegend) body.appendChild(legend);
    var width = body.clientWidth - 16;
    var height = body.clientHeight - 8 - (showLegend ? legend.offsetHeight + 4 : 0);
    var style = (custom.thresholdsStyle && custom.thresholdsStyle.mode) || "off";
    var steps = (field.thresholds.steps || []);
    var range = [DATA.time.start, DATA.time.end];
    var opts = {
      width: Math.max(width, 50), height: Math.max(height, 40), legend: {show: false},
      cursor: {points: {show: false}, drag: {x: false, y: false}},
      scales: {x: {time: true, range: function () { return range; }},
        y: {range: function (u, min, max) {
          var lo = field.min !== undefined && field.min !== null ? field.min : min;
          var hi = field.max !== undefined && field.max !== null ? field.max : max;
          if (style !== "off") steps.forEach(function (s) {
            if (s.value !== null && s.value <= hi * 1.5 && s.value > hi) hi = s.value;
          });
          if (hi === lo) { hi = lo + (Math.abs(lo) || 1); }
          return [lo, hi + (hi - lo) * 0.05];
        }}},
      axes: [
        {stroke: "rgba(204,204,220,0.65)", grid: {stroke: "rgba(204,204,220,0.07)", width: 1},
          ticks: {show: false}, font: "11px " + "Inter, Arial, sans-serif",
          values: function (u, ts) { return ts.map(clock); }},
        {stroke: "rgba(204,204,220,0.65)", grid: {stroke: "rgba(204,204,220,0.07)", width: 1},
          ticks: {show: false}, font: "11px Inter, Arial, sans-serif", size: 64,
          values: function (u, ts) {
            var step = ts.length > 1 ? Math.abs(ts[1] - ts[0]) : 1;
            var dec = field.decimals !== undefined && field.decimals !== null ? field.decimals : null;
            return ts.map(function (t) { return format(t, field.unit, dec === null ? undefined : dec) || ""; });
          }}],
      series: series,
      hooks: {draw: [function (u) { drawThresholds(u, steps, style); }],
        setCursor: [function (u) { hover(u, frames, field); }]}
    };
    var chart = new uPlot(opts, data, plot);
    state.charts.push(chart);
    plot.addEventListener("mouseleave", function () { tooltip.style.display = "none"; });
    errors(body, result);
  }
  function drawThresholds(u, steps, style) {
    if (style === "off" || !steps.length) return;
    var ctx = u.ctx, left = u.bbox.left, width = u.bbox.width, top = u.bbox.top, height = u.bbox.height;
    ctx.save();
    if (style.indexOf("area") >= 0) {
      for (var i = 0; i < steps.length; i++) {
        var from = steps[i].value === null ? -Infinity : steps[i].value;
        var to = i + 1 < steps.length ? steps[i + 1].value : Infinity;
        var y0 = Math.min(top + height, Math.max(top, u.valToPos(Math.max(from, u.scales.y.min), "y", true)));
        var y1 = Math.min(top + height, Math.max(top, u.valToPos(Math.min(to, u.scales.y.max), "y", true)));
        ctx.fillStyle = alpha(steps[i].color, 0.15);
        ctx.fillRect(left, Math.min(y0, y1), width, Math.abs(y0 - y1));
      }
    }
    if (style.indexOf("line") >= 0 || style.indexOf("dashed") >= 0) {
      ctx.lineWidth = 1;
      if (style.indexOf("dashed") >= 0) ctx.setLineDash([10, 10]);
      steps.forEach(function (s) {
        if (s.value === null || s.value < u.scales.y.min || s.value > u.scales.y.max) return;
        var y = Math.round(u.valToPos(s.value, "y", true)) + 0.5;
        ctx.strokeStyle = color(s.color);
        ctx.beginPath();
        ctx.moveTo(left, y);
        ctx.lineTo(left + width, y);
        ctx.stroke();
      });
    }
    ctx.restore();
  }
  function hover(u, frames, field) {
    var i = u.cursor.idx;
    if (i === null || i === undefined || u.cursor.left < 0) { tooltip.style.display = "none"; return; }
    var lines = [dateTime(u.data[0][i] * 1000)];
    frames.forEach(function (f, k) {
      var v = u.data[k + 1][i];
      if (v !== null && v !== undefined) lines.push(f.name + ": " + format(v, field.unit, field.decimals));
    });
    tooltip.textContent = lines.join("\n");
    tooltip.style.whiteSpace = "pre";
    var rect = u.over.getBoundingClientRect();
    tooltip.style.left = rect.left + u.cursor.left + 12 + "px";
    tooltip.style.top = rect.top + u.cursor.top + 12 + "px";
    tooltip.style.display = "block";
  }

  function renderStat(panel, body, result) {
    var field = fieldOf(panel), opts = panel.options || {};
    var calc = ((opts.reduceOptions || {}).calcs || ["lastNotNull"])[0];
    var frames = seriesFrames(result);
    var box = el("div", "pd-stats");
    body.appendChild(box);
    var tiles = frames.length ? frames : [null];
    var horizontal = body.clientWidth > body.clientHeight * 1.5;
    box.style.gridTemplateColumns = horizontal ? "repeat(" + tiles.length + ", 1fr)" : "1fr";
    tiles.forEach(function (f) {
      var v = f ? reduce(f, calc) : null;
      var shown = v === null ? {text: field.noValue || "No data", color: "#ccccdc"} : display(v, field);
      if (v === null && field.noValue) shown.color = thresholdColor(null, field.thresholds);
      var tile = el("div", "pd-stat");
      tile.dataset.value = v === null ? "" : String(v);
      var mode = opts.colorMode || "value";
      if (mode === "background" || mode === "background_solid") {
        tile.style.background = mode === "background" ?
          "linear-gradient(120deg, " + alpha(shown.color, 0.75) + ", " + shown.color + ")" : shown.color;
      } else if (mode === "value") {
        tile.style.color = shown.color;
      }
      if (f && tiles.length > 1) tile.appendChild(el("div", "pd-stat-name", f.name));
      var value = el("div", "pd-stat-value", shown.text);
      var size = Math.min(body.clientHeight / (horizontal ? 1 : tiles.length) * 0.45,
        (body.clientWidth / (horizontal ? tiles.length : 1)) / Math.max(4, shown.text.length) * 1.6);
      value.style.fontSize = Math.max(12, Math.round(size)) + "px";
      tile.appendChild(value);
      box.appendChild(tile);
    });
    errors(body, result);
  }

  function renderBarGauge(panel, body, result) {
    var field = fieldOf(panel), opts = panel.options || {};
    var calc = ((opts.reduceOptions || {}).calcs || ["lastNotNull"])[0];
    var frames = seriesFrames(result);
    if (!frames.length) { noData(body, field.noValue); errors(body, result); return; }
    var list = el("div", "pd-bars");
    body.appendChild(list);
    var min = field.min !== undefined && field.min !== null ? field.min : 0;
    var max = field.max !== undefined && field.max !== null ? field.max : 100;
    frames.forEach(function (f) {
      var v = reduce(f, calc), shown = display(v, field);
      var row = el("div", "pd-bar");
      row.dataset.value = v === null ? "" : String(v);
      var links = fieldLinks(panel, field, f.labels);
      var name = el(links.length ? "a" : "div", "pd-bar-name", f.name);
      if (links.length) { name.href = links[0].url; name.title = links[0].title; }
      var track = el("div", "pd-bar-track"), fill = el("div", "pd-bar-fill");
      var share = v === null ? 0 : Math.max(0, Math.min(1, (v - min) / (max - min || 1)));
      fill.style.width = (share * 100).toFixed(1) + "%";
      fill.style.background = opts.displayMode === "gradient" ?
        "linear-gradient(90deg, " + alpha(shown.color, 0.35) + ", " + shown.color + ")" : shown.color;
      if (opts.showUnfilled === false) track.style.background = "transparent";
      track.appendChild(fill);
      var value = el("div", "pd-bar-value", shown.text);
      value.style.color = opts.valueMode === "text" ? "#ccccdc" : shown.color;
      row.appendChild(name); row.appendChild(track); row.appendChild(value);
      list.appendChild(row);
    });
    errors(body, result);
  }

  function renderTable(panel, body, result) {
    var field = fieldOf(panel), table = result && result.table;
    if (!table || !table.rows.length) { noData(body, field.noValue); errors(body, result); return; }
    var columns = table.columns, rows = table.rows.slice();
    var sort = ((panel.options || {}).sortBy || [])[0];
    if (sort) {
      var k = columns.indexOf(sort.displayName);
      if (k >= 0) rows.sort(function (a, b) {
        var x = a[k], y = b[k];
        var cmp = x === y ? 0 : (x === null ? 1 : y === null ? -1 : (x < y ? -1 : 1));
        return sort.desc ? -cmp : cmp;
      });
    }
    var wrap = el("div", "pd-table-wrap"), t = el("table", "pd-table"), head = el("tr");
    columns.forEach(function (c) { head.appendChild(el("th", null, c)); });
    var thead = el("thead"); thead.appendChild(head); t.appendChild(thead);
    var tbody = el("tbody");
    rows.forEach(function (r) {
      var tr = el("tr"), record = {};
      columns.forEach(function (c, i) { record[c] = r[i]; });
      var links = fieldLinks(panel, field, null, record);
      columns.forEach(function (c, i) {
        var v = r[i], td = el("td", typeof v === "number" ? "pd-num" : null);
        var shown = c === "Time" && typeof v === "number" ? {text: dateTime(v)} : display(v, field);
        var map = mapped(v, field.mappings);
        var node = links.length ? el("a", null, shown.text) : document.createTextNode(shown.text);
        if (links.length) { node.href = links[0].url; node.title = links[0].title; }
        if (map && map.color) td.style.color = color(map.color);
        td.appendChild(node);
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    t.appendChild(tbody); wrap.appendChild(t); body.appendChild(wrap);
    errors(body, result);
  }

  function renderTimeline(panel, body, result) {
    var field = fieldOf(panel);
    var frames = (result && result.frames || []).filter(function (f) { return f.values; });
    var shown = frames.filter(function (f) { return f.values.some(function (v) { return v !== null; }); });
    body.dataset.states = "0";
    if (!shown.length) { noData(body, field.noValue); errors(body, result); return; }
    var box = el("div", "pd-timeline"), rows = el("div", "pd-tl-rows");
    var t0 = DATA.time.start, t1 = DATA.time.end, span = t1 - t0, count = 0;
    var legend = {};
    shown.forEach(function (f) {
      var row = el("div", "pd-tl-row"), lane = el("div", "pd-tl-lane");
      row.appendChild(el("div", "pd-tl-name", f.name));
      var i = 0;
      while (i < f.values.length) {
        var v = f.values[i];
        if (v === null) { i++; continue; }
        var j = i;
        while (j + 1 < f.values.length && f.values[j + 1] === v) j++;
        var from = f.start + i * f.step, to = f.start + (j + 1) * f.step;
        var d = display(v, field), seg = el("div", "pd-state");
        seg.dataset.value = String(v);
        seg.dataset.text = d.text;
        seg.style.left = Math.max(0, (from - t0) / span * 100) + "%";
        seg.style.width = Math.max(0.3, (Math.min(to, t1) - Math.max(from, t0)) / span * 100) + "%";
        seg.style.background = alpha(d.color, 0.8);
        seg.title = f.name + ": " + d.text + " (" + dateTime(from * 1000) + " to " + dateTime(to * 1000) + ")";
        lane.appendChild(seg);
        legend[d.text] = d.color;
        count++;
        i = j + 1;
      }
      row.appendChild(lane);
      rows.appendChild(row);
    });
    box.appendChild(rows);
    var axis = el("div", "pd-axis");
    for (var k = 1; k < 4; k++) {
      var label = el("span", null, clock(t0 + span * k / 4));
      label.style.left = k * 25 + "%";
      axis.appendChild(label);
    }
    box.appendChild(axis);
    var legendBox = el("div", "pd-legend");
    Object.keys(legend).forEach(function (text) {
      var entry = el("span"), swatch = el("i");
      swatch.style.background = legend[text];
      entry.appendChild(swatch); entry.appendChild(document.createTextNode(text));
      legendBox.appendChild(entry);
    });
    box.appendChild(legendBox);
    body.appendChild(box);
    body.dataset.states = String(count);
    errors(body, result);
  }

  function renderText(panel, body) {
    var box = el("div", "pd-text");
    box.innerHTML = panel.html || "";
    body.appendChild(box);
  }

  var RENDERERS = {timeseries: renderTimeseries, stat: renderStat, bargauge: renderBarGauge,
    table: renderTable, "state-timeline": renderTimeline, text: renderText};

  function renderPanel(item, grid) {
    var panel = item.panel, box = frame(item);
    box.className = "pd-panel" + (panel.transparent ? " pd-transparent" : "");
    box.dataset.panelId = String(panel.id);
    box.dataset.panelType = panel.type;
    header(panel, box);
    var body = el("div", "pd-body");
    box.appendChild(body);
    grid.appendChild(box);
    var draw = RENDERERS[panel.type];
    if (!draw) { noData(body, "Panel type " + panel.type + " is not drawn by the preview"); return; }
    draw(panel, body, variant(panel));
    state.rendered[panel.id] = true;
  }
  function renderRow(item, grid) {
    var panel = item.panel, box = frame(item);
    box.className = "pd-row";
    box.dataset.panelId = String(panel.id);
    box.dataset.panelType = "row";
    box.dataset.collapsed = panel.collapsedState ? "true" : "false";
    box.appendChild(el("span", "pd-chevron", panel.collapsedState ? "\u25B8" : "\u25BE"));
    box.appendChild(el("span", "pd-title", interpolate(panel.title)));
    if (panel.collapsedState && panel.childCount) {
      box.appendChild(el("span", "pd-count", "(" + panel.childCount + " panels)"));
    }
    box.addEventListener("click", function () {
      panel.collapsedState = !panel.collapsedState;
      render();
    });
    grid.appendChild(box);
  }
  function render() {
    state.charts.forEach(function (c) { c.destroy(); });
    state.charts = [];
    var grid = document.getElementById("pd-grid");
    grid.textContent = "";
    var items = layout(), bottom = 0;
    items.forEach(function (item) {
      bottom = Math.max(bottom, item.y + item.h);
      if (item.panel.type === "row") renderRow(item, grid); else renderPanel(item, grid);
    });
    grid.style.height = bottom * (CELL + GAP) + "px";
    if (!document.body.dataset.rendered) {
      /* Navigation start to the first full drawing (read by benchmarks/preview.py). */
      document.body.dataset.renderMs = String(Math.round(performance.now()));
    }
    document.body.dataset.rendered = "true";
  }

  function controls() {
    var box = document.getElementById("pd-controls");
    DATA.variables.forEach(function (v) {
      state.vars[v.name] = v.current;
      if (v.hide === 2) return;
      var wrap = el("div", "pd-var"), label = el("label", null, v.label);
      label.title = v.description || v.note || "";
      wrap.appendChild(label);
      var input;
      if (v.type === "textbox") {
        input = el("input");
        input.value = v.current;
        input.readOnly = true;
        input.title = "Fixed when the preview was made";
      } else {
        input = el("select");
        var choices = (v.includeAll ? ["$__all"] : []).concat(v.options);
        choices.forEach(function (c) {
          var o = el("option", null, c === "$__all" ? "All" : c);
          o.value = c;
          if (c === v.current) o.selected = true;
          input.appendChild(o);
        });
        input.addEventListener("change", function () { state.vars[v.name] = input.value; render(); });
      }
      input.name = v.name;
      wrap.appendChild(input);
      box.appendChild(wrap);
    });
    var links = el("div", "pd-links");
    (DATA.links || []).forEach(function (link) {
      if (link.type === "dashboards") {
        var d = el("details"), s = el("summary", null, link.title || "Dashboards"), ul = el("ul");
        d.appendChild(s);
        DATA.dashboards.filter(function (x) {
          return x.uid !== DATA.uid && (link.tags || []).every(function (t) { return x.tags.indexOf(t) >= 0; });
        }).forEach(function (x) {
          var li = el("li"), a = el("a", null, x.title);
          a.href = x.file; li.appendChild(a); ul.appendChild(li);
        });
        d.appendChild(ul);
        links.appendChild(d);
        return;
      }
      var a = el("a", null, link.title || link.url);
      a.href = dashboardUrl(link.url || "");
      a.title = link.tooltip || "";
      if (link.targetBlank) a.target = "_blank";
      links.appendChild(a);
    });
    box.appendChild(links);
  }

  function start() {
    tooltip = el("div", "pd-tooltip");
    document.body.appendChild(tooltip);
    var row = null;
    DATA.panels.forEach(function (p) {
      if (p.type === "row") {
        row = p;
        p.collapsedState = !!p.collapsed;
        p.childCount = (p.panels || []).length;
      } else if (row) {
        row.childCount++;
      }
    });
    controls();
    render();
  }
  window.perfdashPreview = {state: state, format: format};
  start();
})();
