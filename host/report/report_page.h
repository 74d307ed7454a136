// The page of report.html (report_html.cpp puts the data where /*TOPDOWN_DATA*/ stands, the
// plots' script, report_plots_js.h, where /*TOPDOWN_PLOTS*/ does and the player's,
// report_player_js.h, where /*TOPDOWN_PLAYER*/ does). Plain HTML, CSS and script, no
// libraries: plots are SVG drawn by the script, the players Web Audio graphs over the
// embedded excerpts.
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
  #player input[type=number] { width: 56px; }
  #seek { width: 300px; vertical-align: middle; }
  #header { color: #3b4555; font-size: 13px; margin: 2px 0; }
  svg.plot .readout text { font-size: 11px; fill: #1d2430; }
  figure.hidden { display: none; }
</style>
</head>
<body>
<h1>topdown report: <span id="session"></span></h1>
<p id="header"></p>
<p id="summary" class="note"></p>

<h2>A/B, level-matched</h2>
<div id="player" data-playing="" data-system="flat" data-state="idle">
  <div class="row"><span class="label">Transport</span>
    <button id="play">Play</button><button id="stop">Stop</button>
    <input id="seek" type="range" min="0" max="1000" value="0" title="position in the excerpt">
    <span id="position">0:00.0 / 0:00.0</span> <span id="status" class="note"></span></div>
  <div class="row"><span class="label">Loop</span>from <input id="loop-start" type="number" min="0" step="0.5" value="0">
    to <input id="loop-end" type="number" min="0" step="0.5" value="0"> s
    <span class="note">keys: space play/stop, 1-9 source, left/right 2 s</span></div>
  <div class="row"><span class="label">Source</span><span id="sources"></span></div>
  <div class="row"><span class="label">Playback system</span><span id="systems"></span></div>
  <p class="note" id="player-note"></p>
</div>

<h2>Ranking</h2>
<p class="note" id="ranking-note">Lower score is closer to the references (docs/references.md). Click a column to sort, a row to see that variant below.</p>
<div class="table-wrap"><table id="ranking"><thead></thead><tbody></tbody></table></div>

<h2>Variant <span id="selected"></span></h2>
<div class="plots">
  <figure><figcaption>Long-term spectrum (1/3 octave, dB), references gained to the variant's loudness</figcaption><div id="plot-spectrum"></div></figure>
  <figure id="figure-difference"><figcaption>Difference to each reference (dB), <span id="difference-system">full range</span></figcaption><div id="plot-difference"></div></figure>
  <figure><figcaption>Short-term loudness (LUFS), references level-matched</figcaption><div id="plot-loudness"></div></figure>
  <figure><figcaption>Gain reduction of the master's dynamics (dB)</figcaption><div id="plot-reduction"></div></figure>
  <figure><figcaption>Bus peaks (dBFS) against the headroom</figcaption><div id="plot-buses"></div></figure>
  <figure><figcaption>Width per band (side / mid energy)<span id="width-note"></span></figcaption><div id="plot-width"></div></figure>
</div>

<script id="data" type="application/json">/*TOPDOWN_DATA*/</script>
<script>
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
let selected = data.variants.length ? data.variants[0] : null;
let system = "flat";
const haveRefs = data.references.length > 0;
/*TOPDOWN_PLOTS*/
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
].filter(c => haveRefs || !["score", "spectral", "width", "translation"].includes(c.key));
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
  // Without references the page shows the mix's own analysis: its width per band.
  if (!haveRefs) width.push({name: v.id, points: v.width, color: COLORS[0]});
  document.getElementById("difference-system").textContent = system === "flat" ? "full range" : "through the " + system;
  // Fixed scales that the data extend: 0.5 LU must not look dramatic (loudness spans 30 LU,
  // gain reduction 6 dB, differences +-6 dB, width 0 .. 1).
  plot(document.getElementById("plot-spectrum"), spectrum, {logx: true, xmin: 20, xmax: 20000, xlabel: "Hz", unit: "dB", ymin: -100});
  plot(document.getElementById("plot-difference"), diff, {logx: true, xmin: 20, xmax: 20000, xlabel: "Hz", unit: "dB", hline: 0, range: [-6, 6]});
  plot(document.getElementById("plot-loudness"), loud, {xlabel: "s", unit: "LUFS", ymin: -60, range: [-36, -6]});
  plot(document.getElementById("plot-reduction"),
       v.dynamics.map((d, i) => ({name: d.processor, points: d.trace.map((g, k) => [k / d.trace_hz, g]), color: COLORS[i % COLORS.length]})),
       {xlabel: "s", unit: "dB", hline: 0, range: [0, 6], empty: "no compressor or limiter on the master"});
  bars(document.getElementById("plot-buses"),
       v.buses.map(b => ({name: b.node, values: [{label: "pre-chain peak", value: b.pre_chain_peak_dbfs, color: COLORS[0]},
                                                 {label: "output true peak", value: b.true_peak_dbtp, color: COLORS[1]}]})),
       data.headroom_dbfs, "headroom " + data.headroom_dbfs + " dBFS", "dB");
  plot(document.getElementById("plot-width"), width, {logx: true, xmin: 20, xmax: 20000, xlabel: "Hz", range: [0, 1]});
  document.getElementById("width-note").textContent = haveRefs ? "" : ", the mix's own";
}

// ---- players ----
/*TOPDOWN_PLAYER*/
// ---- page ----
document.getElementById("session").textContent = data.session;
const delivery = data.delivery;
document.getElementById("header").textContent =
  data.tool.name + " " + data.tool.version + ", rendered " + data.rendered_utc + "; delivery " +
  delivery.format + (delivery.bit_depth ? " " + delivery.bit_depth + "-bit" : "") + ", " +
  (delivery.target_lufs === null ? "no loudness target" : delivery.target_lufs + " LUFS") + ", ceiling " + delivery.ceiling_dbtp + " dBTP";
document.getElementById("summary").textContent =
  data.variants.length + " variant(s), " + data.references.length + " reference(s), " +
  data.duration_s.toFixed(1) + " s at " + data.sample_rate + " Hz" +
  (haveRefs ? "" : " (no references: the ranking is by id; add [[reference]] or --reference to score and compare)");
if (!haveRefs) {
  document.getElementById("figure-difference").classList.add("hidden");
  document.getElementById("ranking-note").textContent = "Click a column to sort, a row to see that variant below.";
}
buildButtons();
drawTable();
drawPlots();
</script>
</body>
</html>
)PAGE";

}  // namespace td
