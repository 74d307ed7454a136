// The page of report.html (report_html.cpp puts the data where /*TOPDOWN_DATA*/ stands).
// Plain HTML, CSS and script, no libraries: plots are SVG drawn by the script below, the
// players are Web Audio graphs over the embedded excerpts.
#pragma once

namespace td {

inline const char* const kReportPage = R"PAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>topdown report</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0 24px 40px; color: #1d2430; background: #fafbfc; }
  h1 { font-size: 20px; margin: 18px 0 4px; }
  h2 { font-size: 16px; margin: 22px 0 8px; }
  .note { color: #5b6575; font-size: 12px; margin: 4px 0; }
  table { border-collapse: collapse; background: #fff; }
  th, td { padding: 3px 8px; border-bottom: 1px solid #e3e6eb; text-align: right; white-space: nowrap; }
  th { cursor: pointer; background: #eef1f5; position: sticky; top: 0; user-select: none; }
  th.sorted-asc::after { content: " \25B2"; } th.sorted-desc::after { content: " \25BC"; }
  td.id, th.id { text-align: left; }
  tbody tr { cursor: pointer; } tbody tr:hover { background: #f3f6fb; }
  tbody tr.selected { background: #dfe9fb; }
  .table-wrap { max-height: 380px; overflow: auto; border: 1px solid #e3e6eb; display: inline-block; }
  .plots { display: flex; flex-wrap: wrap; gap: 16px; }
  figure { margin: 0; background: #fff; border: 1px solid #e3e6eb; padding: 8px; }
  figcaption { font-size: 12px; color: #3b4555; margin-bottom: 4px; }
  svg.plot text { font-size: 10px; fill: #3b4555; }
  svg.plot .grid { stroke: #e8ebf0; } svg.plot .axis { stroke: #9aa3b0; }
  #player { background: #fff; border: 1px solid #e3e6eb; padding: 10px; display: inline-block; }
  #player button { margin: 2px; padding: 4px 10px; border: 1px solid #b8c2d0; background: #f4f6f9; border-radius: 3px; cursor: pointer; }
  #player button.active { background: #2f6fdb; color: #fff; border-color: #2f6fdb; }
  #player .row { margin: 4px 0; }
  #player .label { display: inline-block; width: 130px; color: #3b4555; }
</style>
</head>
<body>
<h1>topdown report: <span id="session"></span></h1>
<p id="summary" class="note"></p>

<h2>A/B, level-matched</h2>
<div id="player" data-playing="" data-system="flat" data-state="idle">
  <div class="row"><span class="label">Transport</span>
    <button id="play">Play</button><button id="stop">Stop</button> <span id="status" class="note"></span></div>
  <div class="row"><span class="label">Source</span><span id="sources"></span></div>
  <div class="row"><span class="label">Playback system</span><span id="systems"></span></div>
  <p class="note" id="player-note"></p>
</div>

<h2>Ranking</h2>
<p class="note">Lower score is closer to the references (docs/references.md). Click a column to sort, a row to see that variant below.</p>
<div class="table-wrap"><table id="ranking"><thead></thead><tbody></tbody></table></div>

<h2>Variant <span id="selected"></span></h2>
<div class="plots">
  <figure><figcaption>Long-term spectrum (1/3 octave, dB), references gained to the variant's loudness</figcaption><div id="plot-spectrum"></div></figure>
  <figure><figcaption>Difference to each reference (dB), <span id="difference-system">full range</span></figcaption><div id="plot-difference"></div></figure>
  <figure><figcaption>Short-term loudness (LUFS), references level-matched</figcaption><div id="plot-loudness"></div></figure>
  <figure><figcaption>Gain reduction of the master's dynamics (dB)</figcaption><div id="plot-reduction"></div></figure>
  <figure><figcaption>Bus peaks (dBFS) against the headroom</figcaption><div id="plot-buses"></div></figure>
  <figure><figcaption>Width per band (side / mid energy)</figcaption><div id="plot-width"></div></figure>
</div>

<script id="data" type="application/json">/*TOPDOWN_DATA*/</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
const NS = "http://www.w3.org/2000/svg";
const COLORS = ["#2f6fdb", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c"];
let selected = data.variants.length ? data.variants[0] : null;
let system = "flat";

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

// A line plot: series [{name, points [[x, y]], color, dash}]; opt {logx, xlabel, ylabel, hline}.
function plot(container, series, opt) {
  container.textContent = "";
  const W = 560, H = 250, L = 46, R = 12, T = 10, B = 40;
  const svg = node("svg", {viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "plot"}, container);
  const pts = series.flatMap(s => s.points.filter(p => p[1] !== null && isFinite(p[1])));
  if (!pts.length) { node("text", {x: W / 2, y: H / 2, "text-anchor": "middle"}, svg, "no data"); return svg; }
  let xmin = opt.xmin !== undefined ? opt.xmin : Math.min(...pts.map(p => p[0]));
  let xmax = opt.xmax !== undefined ? opt.xmax : Math.max(...pts.map(p => p[0]));
  let ymin = Math.min(...pts.map(p => p[1])), ymax = Math.max(...pts.map(p => p[1]));
  if (opt.hline !== undefined) { ymin = Math.min(ymin, opt.hline); ymax = Math.max(ymax, opt.hline); }
  if (opt.ymin !== undefined) ymin = Math.max(ymin, opt.ymin);
  if (ymax - ymin < 1e-9) { ymin -= 1; ymax += 1; }
  const pad = 0.05 * (ymax - ymin); ymin -= pad; ymax += pad;
  if (xmax <= xmin) xmax = xmin + 1;
  const fx = x => L + (opt.logx ? Math.log(x / xmin) / Math.log(xmax / xmin) : (x - xmin) / (xmax - xmin)) * (W - L - R);
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
    node("text", {x: L + 8 + 130 * (i % 4), y: T + 12 + 12 * Math.floor(i / 4), fill: s.color}, svg, s.name);
  });
  return svg;
}

// Horizontal bars: rows [{name, values [{label, value, color}]}] against a vertical line.
function bars(container, rows, line, lineLabel) {
  container.textContent = "";
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
    r.values.forEach((v, k) => {
      if (v.value === null || !isFinite(v.value)) return;
      node("rect", {x: fx(lo), y: y + 2 + k * 8, width: Math.max(1, fx(v.value) - fx(lo)), height: 7, fill: v.color}, svg);
    });
  });
  node("line", {x1: fx(line), x2: fx(line), y1: T - 6, y2: H - 20, stroke: "#c92a2a", "stroke-dasharray": "4 3"}, svg);
  node("text", {x: fx(line) + 3, y: T - 8}, svg, lineLabel);
  node("text", {x: L, y: 12, fill: COLORS[0]}, svg, "pre-chain peak");
  node("text", {x: L + 110, y: 12, fill: COLORS[1]}, svg, "output true peak");
  return svg;
}

// ---- ranking table ----
const columns = [
  {key: "rank", label: "rank", get: v => v.rank, digits: 0},
  {key: "id", label: "variant", get: v => v.id, text: true},
  {key: "score", label: "score", get: v => v.score, digits: 3},
  ...data.params.map(p => ({key: "p:" + p, label: p, get: v => v.params[p], digits: 3})),
  {key: "lufs", label: "LUFS", get: v => v.integrated_lufs, digits: 1},
  {key: "tp", label: "dBTP", get: v => v.true_peak_dbtp, digits: 1},
  {key: "lra", label: "LRA", get: v => v.lra_lu, digits: 1},
  {key: "plr", label: "PLR", get: v => v.plr_db, digits: 1},
  {key: "spectral", label: "spectral dB", get: v => mean(v, c => c.spectral_rms_db), digits: 2},
  {key: "width", label: "width", get: v => mean(v, c => c.width_rms_difference), digits: 3},
  {key: "translation", label: "translation dB", get: v => mean(v, c => c.translation_rms_db), digits: 2},
  {key: "file", label: "file", get: v => v.file || "", text: true},
];
function mean(v, f) {
  let s = 0, w = 0;
  for (const c of v.comparisons) { s += c.weight * f(c); w += c.weight; }
  return w > 0 ? s / w : null;
}
let sortKey = "rank", sortAsc = true;
function drawTable() {
  const table = document.getElementById("ranking");
  const head = table.tHead, body = table.tBodies[0];
  head.textContent = ""; body.textContent = "";
  const hr = head.insertRow();
  for (const c of columns) {
    const th = document.createElement("th");
    th.textContent = c.label;
    if (c.text) th.className = "id";
    if (c.key === sortKey) th.classList.add(sortAsc ? "sorted-asc" : "sorted-desc");
    th.addEventListener("click", () => { sortAsc = c.key === sortKey ? !sortAsc : true; sortKey = c.key; drawTable(); });
    hr.appendChild(th);
  }
  const col = columns.find(c => c.key === sortKey);
  const rows = data.variants.slice().sort((a, b) => {
    const x = col.get(a), y = col.get(b);
    const r = col.text ? String(x).localeCompare(String(y)) : (x === null ? 1e300 : x) - (y === null ? 1e300 : y);
    return sortAsc ? r : -r;
  });
  for (const v of rows) {
    const tr = body.insertRow();
    tr.dataset.id = v.id;
    if (v === selected) tr.className = "selected";
    for (const c of columns) {
      const td = tr.insertCell();
      const x = c.get(v);
      td.textContent = c.text ? x : fmt(x, c.digits);
      if (c.text) td.className = "id";
    }
    tr.addEventListener("click", () => select(v));
  }
}

// ---- plots of the selected variant ----
function select(v) {
  selected = v;
  drawTable();
  drawPlots();
}
function drawPlots() {
  const v = selected;
  document.getElementById("selected").textContent = v ? v.id + (v.file ? " (" + v.file + ")" : "") : "";
  if (!v) return;
  const spectrum = [{name: v.id, points: v.spectrum, color: COLORS[0]}];
  const loud = [{name: v.id, points: v.short_term, color: COLORS[0]}];
  const diff = [], width = [];
  v.comparisons.forEach((c, i) => {
    const ref = data.references.find(r => r.name === c.reference);
    const color = COLORS[(i + 1) % COLORS.length];
    if (ref) {
      spectrum.push({name: c.reference, points: ref.spectrum.map(p => [p[0], p[1] === null ? null : p[1] + c.level_match_db]), color: color, dash: "5 3"});
      loud.push({name: c.reference, points: ref.short_term.map(p => [p[0], p[1] === null ? null : p[1] + c.level_match_db]), color: color, dash: "5 3"});
    }
    const t = c.translation.find(t => t.system === system);
    const bands = system === "flat" || !t ? c.band_difference_db : t.band_difference_db;
    diff.push({name: c.reference, points: bands.map(b => [b.hz, b.db]), color: color});
    width.push({name: "mix vs " + c.reference, points: c.width.map(w => [w.hz, w.mix]), color: COLORS[0]});
    width.push({name: c.reference, points: c.width.map(w => [w.hz, w.reference]), color: color, dash: "5 3"});
  });
  document.getElementById("difference-system").textContent = system === "flat" ? "full range" : "through the " + system;
  plot(document.getElementById("plot-spectrum"), spectrum, {logx: true, xmin: 20, xmax: 20000, xlabel: "Hz", ymin: -100});
  plot(document.getElementById("plot-difference"), diff, {logx: true, xmin: 20, xmax: 20000, xlabel: "Hz", hline: 0});
  plot(document.getElementById("plot-loudness"), loud, {xlabel: "s", ymin: -60});
  plot(document.getElementById("plot-reduction"),
       v.dynamics.map((d, i) => ({name: d.processor, points: d.trace.map((g, k) => [k / d.trace_hz, g]), color: COLORS[i % COLORS.length]})),
       {xlabel: "s", hline: 0});
  bars(document.getElementById("plot-buses"),
       v.buses.map(b => ({name: b.node, values: [{value: b.pre_chain_peak_dbfs, color: COLORS[0]}, {value: b.true_peak_dbtp, color: COLORS[1]}]})),
       data.headroom_dbfs, "headroom " + data.headroom_dbfs + " dBFS");
  plot(document.getElementById("plot-width"), width, {logx: true, xmin: 20, xmax: 20000, xlabel: "Hz"});
}

// ---- players ----
const player = {ctx: null, ready: false, sources: data.players.sources, gains: {}, match_db: {},
                chains: {}, nodes: [], current: null, system: "flat", started: false};
window.topdownPlayer = player;
const playerDiv = document.getElementById("player");
function setStatus(text) { document.getElementById("status").textContent = text; }
function dbToGain(db) { return Math.pow(10, db / 20); }

function buildButtons() {
  const srcSpan = document.getElementById("sources"), sysSpan = document.getElementById("systems");
  if (!player.sources.length) {
    document.getElementById("player-note").textContent =
      "No audio was written for these variants (--write-variants none) and there is no reference: nothing to play.";
    document.getElementById("play").disabled = true;
  }
  const lufs = player.sources.map(s => s.lufs).filter(x => x !== null);
  const common = lufs.length ? Math.min(...lufs) : 0;
  for (const s of player.sources) {
    player.match_db[s.id] = s.lufs === null ? 0 : common - s.lufs;
    const b = document.createElement("button");
    b.textContent = (s.kind === "reference" ? "ref " : "") + s.id;
    b.dataset.source = s.id;
    b.title = (s.kind === "reference" ? "reference" : "variant") + ", " + fmt(s.lufs, 1) + " LUFS, played at " +
              fmt(player.match_db[s.id], 1) + " dB, excerpt from " + fmt(s.start_s, 0) + " s";
    b.addEventListener("click", () => switchTo(s.id));
    srcSpan.appendChild(b);
  }
  for (const name of ["flat", ...data.systems.map(s => s.name)]) {
    const b = document.createElement("button");
    b.textContent = name === "flat" ? "studio (flat)" : name;
    b.dataset.system = name;
    const sys = data.systems.find(s => s.name === name);
    if (sys) b.title = sys.description;
    b.addEventListener("click", () => setSystem(name));
    sysSpan.appendChild(b);
  }
  if (player.sources.length) document.getElementById("player-note").textContent =
    "Every excerpt is gained to the quietest source's integrated loudness (" + fmt(common, 1) +
    " LUFS) so that louder is not mistaken for better; variants share one stretch of the song, references play their loudest " +
    "stretch. Playback systems are the translation check's curves (linear-phase FIRs; phone and smart speaker in mono).";
  if (data.players.missing.length)
    document.getElementById("player-note").textContent +=
      " Could not be read back for a player: " + data.players.missing.join(", ") + ".";
  if (player.sources.length) player.current = player.sources[0].id;
  markButtons();
}
function markButtons() {
  for (const b of document.querySelectorAll("#sources button")) b.classList.toggle("active", b.dataset.source === player.current);
  for (const b of document.querySelectorAll("#systems button")) b.classList.toggle("active", b.dataset.system === player.system);
  playerDiv.dataset.playing = player.current || "";
  playerDiv.dataset.system = player.system;
}
function decodeBase64(text) {
  const raw = atob(text), bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; ++i) bytes[i] = raw.charCodeAt(i);
  return bytes.buffer;
}
async function setupAudio() {
  const ctx = new AudioContext({sampleRate: data.sample_rate});
  player.ctx = ctx;
  const taps = data.players.taps, latency = (taps - 1) / 2 / data.sample_rate;
  const bus = ctx.createGain();
  // One chain per system; only the selected one is open. The flat chain is delayed like the
  // linear-phase FIRs so that switching systems does not move the music in time.
  const flatIn = ctx.createGain(), delay = ctx.createDelay(Math.max(1, latency + 0.01));
  delay.delayTime.value = latency;
  bus.connect(flatIn); flatIn.connect(delay); delay.connect(ctx.destination);
  player.chains.flat = flatIn;
  for (const sys of data.systems) {
    const input = ctx.createGain();
    input.gain.value = 0;
    const fir = new Float32Array(decodeBase64(sys.fir));
    const ir = ctx.createBuffer(1, fir.length, data.sample_rate);
    ir.copyToChannel(fir, 0);
    const conv = ctx.createConvolver();
    conv.normalize = false;
    conv.buffer = ir;
    let head = input;
    if (sys.mono) {  // the mid: (L + R) / 2, played on both sides
      const mono = ctx.createGain();
      mono.channelCount = 1; mono.channelCountMode = "explicit"; mono.channelInterpretation = "speakers";
      input.connect(mono);
      head = mono;
    }
    head.connect(conv); conv.connect(ctx.destination);
    bus.connect(input);
    player.chains[sys.name] = input;
  }
  for (const s of player.sources) {
    s.buffer = await ctx.decodeAudioData(decodeBase64(s.flac));
    const g = ctx.createGain();
    g.gain.value = s.id === player.current ? dbToGain(player.match_db[s.id]) : 0;
    g.connect(bus);
    player.gains[s.id] = g;
  }
  setSystem(player.system);
  player.ready = true;
}
async function play() {
  if (!player.ctx) { setStatus("decoding..."); await setupAudio(); }
  await player.ctx.resume();
  if (!player.started) {
    const when = player.ctx.currentTime + 0.05;
    for (const s of player.sources) {
      const src = player.ctx.createBufferSource();
      src.buffer = s.buffer; src.loop = true;
      src.connect(player.gains[s.id]);
      src.start(when);
      player.nodes.push(src);
    }
    player.started = true;
  }
  playerDiv.dataset.state = "playing";
  setStatus("playing (looped excerpts)");
}
function stop() {
  for (const n of player.nodes) n.stop();
  player.nodes = []; player.started = false;
  playerDiv.dataset.state = "stopped";
  setStatus("stopped");
}
function switchTo(id) {
  player.current = id;
  if (player.ctx) {
    const now = player.ctx.currentTime;
    for (const s of player.sources)  // 5 ms crossfade: no click
      player.gains[s.id].gain.setTargetAtTime(s.id === id ? dbToGain(player.match_db[s.id]) : 0, now, 0.005);
  }
  markButtons();
}
function setSystem(name) {
  player.system = name;
  system = name;
  if (player.ctx) {
    const now = player.ctx.currentTime;
    for (const k in player.chains) player.chains[k].gain.setTargetAtTime(k === name ? 1 : 0, now, 0.005);
  }
  markButtons();
  drawPlots();
}
document.getElementById("play").addEventListener("click", () => play().catch(e => setStatus("cannot play: " + e.message)));
document.getElementById("stop").addEventListener("click", stop);

// ---- page ----
document.getElementById("session").textContent = data.session;
document.getElementById("summary").textContent =
  data.variants.length + " variant(s), " + data.references.length + " reference(s), " +
  data.duration_s.toFixed(1) + " s at " + data.sample_rate + " Hz" +
  (data.references.length ? "" : " (no references: the ranking is by id)");
buildButtons();
drawTable();
drawPlots();
</script>
</body>
</html>
)PAGE";

}  // namespace td
