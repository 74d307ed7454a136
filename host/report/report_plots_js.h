// report.html's plots (report_page.h puts this where /*TOPDOWN_PLOTS*/ stands): inline SVG
// line plots and bar charts with swatch legends and a hover read-out. The read-out's text
// is also the figure's data-readout attribute, which the headless-browser test reads.
#pragma once

namespace td {

inline const char* const kReportPlotsScript = R"JS(
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#2f6fdb", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c"];

function node(name, attrs, parent, text) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
function fmt(x, digits) { return x === null || x === undefined || !isFinite(x) ? "" : Number(x).toFixed(digits); }
function niceStep(span) {
  const raw = span / 6, p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}
function hzText(x) { return x >= 1000 ? fmt(x / 1000, x >= 10000 ? 1 : 2) + " kHz" : fmt(x, 0) + " Hz"; }

// A legend entry: a swatch of the series' stroke (dashed like it), then its name.
function legend(svg, x, y, color, dash, name, rect) {
  const sw = rect ? node("rect", {x: x, y: y - 7, width: 14, height: 7, fill: color, class: "swatch"}, svg)
                  : node("line", {x1: x, x2: x + 16, y1: y - 3, y2: y - 3, stroke: color, "stroke-width": 2.5, class: "swatch"}, svg);
  if (dash) sw.setAttribute("stroke-dasharray", dash);
  node("text", {x: x + 20, y: y}, svg, name);
}

// The read-out box in the plot's top right corner; lines of text, or none to hide it.
function readout(svg, container, W, T, lines) {
  let g = svg.querySelector("g.readout");
  if (!g) {
    g = node("g", {class: "readout"}, svg);
    node("rect", {class: "readout-bg", fill: "#fff", stroke: "#9aa3b0", rx: 3}, g);
  }
  for (const t of g.querySelectorAll("text")) t.remove();
  if (!lines || !lines.length) { g.setAttribute("visibility", "hidden"); container.dataset.readout = ""; return; }
  g.setAttribute("visibility", "visible");
  const width = 8 + 6.2 * Math.max(...lines.map(l => l.length)), x = W - 14 - width;
  lines.forEach((l, i) => node("text", {x: x + 4, y: T + 14 + 12 * i}, g, l));
  const bg = g.querySelector("rect");
  bg.setAttribute("x", x); bg.setAttribute("y", T + 2);
  bg.setAttribute("width", width); bg.setAttribute("height", 6 + 12 * lines.length);
  container.dataset.readout = lines.join("; ");
}

// A line plot: series [{name, points [[x, y]], color, dash}]; opt {logx, xmin, xmax, xlabel,
// unit, hline, ymin (a floor), range [lo, hi] (always shown: a fixed scale the data extend)}.
function plot(container, series, opt) {
  container.textContent = "";
  container.dataset.readout = "";
  const W = 560, H = 250, L = 46, R = 12, T = 10, B = 40;
  const svg = node("svg", {viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "plot"}, container);
  const pts = series.flatMap(s => s.points.filter(p => p[1] !== null && isFinite(p[1])));
  if (!pts.length) { node("text", {x: W / 2, y: H / 2, "text-anchor": "middle"}, svg, opt.empty || "no data"); return svg; }
  let xmin = opt.xmin !== undefined ? opt.xmin : Math.min(...pts.map(p => p[0]));
  let xmax = opt.xmax !== undefined ? opt.xmax : Math.max(...pts.map(p => p[0]));
  let ymin = Math.min(...pts.map(p => p[1])), ymax = Math.max(...pts.map(p => p[1]));
  if (opt.hline !== undefined) { ymin = Math.min(ymin, opt.hline); ymax = Math.max(ymax, opt.hline); }
  if (opt.range) { ymin = Math.min(ymin, opt.range[0]); ymax = Math.max(ymax, opt.range[1]); }
  if (opt.ymin !== undefined) ymin = Math.max(ymin, opt.ymin);
  if (ymax - ymin < 1e-9) { ymin -= 1; ymax += 1; }
  if (!opt.range) { const pad = 0.05 * (ymax - ymin); ymin -= pad; ymax += pad; }
  if (xmax <= xmin) xmax = xmin + 1;
  const fx = x => L + (opt.logx ? Math.log(x / xmin) / Math.log(xmax / xmin) : (x - xmin) / (xmax - xmin)) * (W - L - R);
  const ix = px => { const t = (px - L) / (W - L - R); return opt.logx ? xmin * Math.pow(xmax / xmin, t) : xmin + t * (xmax - xmin); };
  const fy = y => T + (1 - (Math.max(ymin, Math.min(ymax, y)) - ymin) / (ymax - ymin)) * (H - T - B);
  const xt = opt.logx ? [31.5, 63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000].filter(f => f >= xmin && f <= xmax)
                      : (() => { const s = niceStep(xmax - xmin), a = []; for (let v = Math.ceil(xmin / s) * s; v <= xmax; v += s) a.push(v); return a; })();
  for (const x of xt) {
    node("line", {x1: fx(x), x2: fx(x), y1: T, y2: H - B, class: "grid"}, svg);
    node("text", {x: fx(x), y: H - B + 13, "text-anchor": "middle"}, svg, x >= 1000 ? x / 1000 + "k" : String(x));
  }
  const ys = niceStep(ymax - ymin);
  for (let v = Math.ceil(ymin / ys) * ys; v <= ymax; v += ys) {
    node("line", {x1: L, x2: W - R, y1: fy(v), y2: fy(v), class: "grid"}, svg);
    node("text", {x: L - 4, y: fy(v) + 3, "text-anchor": "end"}, svg, String(Math.round(v * 100) / 100));
  }
  node("line", {x1: L, x2: L, y1: T, y2: H - B, class: "axis"}, svg);
  node("line", {x1: L, x2: W - R, y1: H - B, y2: H - B, class: "axis"}, svg);
  if (opt.xlabel) node("text", {x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle"}, svg, opt.xlabel);
  if (opt.hline !== undefined)
    node("line", {x1: L, x2: W - R, y1: fy(opt.hline), y2: fy(opt.hline), stroke: "#c92a2a", "stroke-dasharray": "4 3"}, svg);
  series.forEach((s, i) => {
    let d = "", pen = false;
    for (const [x, y] of s.points) {
      if (y === null || !isFinite(y) || x < xmin || x > xmax) { pen = false; continue; }
      d += (pen ? "L" : "M") + fx(x).toFixed(1) + " " + fy(y).toFixed(1);
      pen = true;
    }
    const path = node("path", {d: d, fill: "none", stroke: s.color, "stroke-width": 1.6}, svg);
    if (s.dash) path.setAttribute("stroke-dasharray", s.dash);
    legend(svg, L + 8 + 130 * (i % 4), T + 12 + 12 * Math.floor(i / 4), s.color, s.dash, s.name);
  });
  // Hover: a cursor line and each series' value at the nearest point to it.
  const cursor = node("line", {y1: T, y2: H - B, stroke: "#5b6575", "stroke-dasharray": "2 2", visibility: "hidden"}, svg);
  const hit = node("rect", {x: L, y: T, width: W - L - R, height: H - T - B, fill: "transparent", class: "hit"}, svg);
  const unit = opt.unit || "";
  hit.addEventListener("mousemove", e => {
    const box = svg.getBoundingClientRect();
    const x = ix((e.clientX - box.left) * W / box.width);
    cursor.setAttribute("x1", fx(x)); cursor.setAttribute("x2", fx(x)); cursor.setAttribute("visibility", "visible");
    const lines = [opt.logx ? hzText(x) : fmt(x, 1) + " " + (opt.xlabel || "")];
    for (const s of series) {
      let best = null;
      for (const p of s.points) if (p[1] !== null && isFinite(p[1]) && (best === null || Math.abs(p[0] - x) < Math.abs(best[0] - x))) best = p;
      if (best) lines.push(s.name.slice(0, 28) + ": " + fmt(best[1], 2) + " " + unit);
    }
    readout(svg, container, W, T, lines);
  });
  hit.addEventListener("mouseleave", () => { cursor.setAttribute("visibility", "hidden"); readout(svg, container, W, T, null); });
  return svg;
}

// Horizontal bars: rows [{name, values [{label, value, color}]}] against a vertical line.
function bars(container, rows, line, lineLabel, unit) {
  container.textContent = "";
  container.dataset.readout = "";
  const W = 560, rowH = 22, L = 110, R = 12, T = 22;
  const H = T + rows.length * rowH + 24;
  const svg = node("svg", {viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "plot"}, container);
  if (!rows.length) { node("text", {x: W / 2, y: 20, "text-anchor": "middle"}, svg, "no buses metered"); return svg; }
  const vals = rows.flatMap(r => r.values.map(v => v.value)).filter(v => v !== null && isFinite(v));
  const lo = Math.min(-30, ...vals, line) - 1, hi = Math.max(0, ...vals, line) + 1;
  const fx = v => L + (v - lo) / (hi - lo) * (W - L - R);
  for (let v = Math.ceil(lo / 6) * 6; v <= hi; v += 6) {
    node("line", {x1: fx(v), x2: fx(v), y1: T - 4, y2: H - 20, class: "grid"}, svg);
    node("text", {x: fx(v), y: H - 8, "text-anchor": "middle"}, svg, String(v));
  }
  rows.forEach((r, i) => {
    const y = T + i * rowH;
    node("text", {x: L - 6, y: y + 12, "text-anchor": "end"}, svg, r.name);
    const text = r.name + ": " + r.values.map(v => v.label + " " + fmt(v.value, 1) + " " + unit).join(", ");
    const band = node("rect", {x: 0, y: y, width: W, height: rowH, fill: "transparent", class: "hit"}, svg);
    r.values.forEach((v, k) => {
      if (v.value === null || !isFinite(v.value)) return;
      const bar = node("rect", {x: fx(lo), y: y + 2 + k * 8, width: Math.max(1, fx(v.value) - fx(lo)), height: 7, fill: v.color}, svg);
      node("title", {}, bar, v.label + ": " + fmt(v.value, 1) + " " + unit);
      bar.addEventListener("mousemove", () => readout(svg, container, W, T, [text]));
    });
    band.addEventListener("mousemove", () => readout(svg, container, W, T, [text]));
    band.addEventListener("mouseleave", () => readout(svg, container, W, T, null));
  });
  node("line", {x1: fx(line), x2: fx(line), y1: T - 6, y2: H - 20, stroke: "#c92a2a", "stroke-dasharray": "4 3"}, svg);
  node("text", {x: fx(line) + 3, y: T - 8}, svg, lineLabel);
  rows[0].values.forEach((v, k) => legend(svg, L + 130 * k, 12, v.color, null, v.label, true));
  return svg;
}
)JS";

}  // namespace td
