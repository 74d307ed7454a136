// report.html's A/B player (report_page.h puts this where /*TOPDOWN_PLAYER*/ stands): Web
// Audio over the embedded excerpts, every source running in sync and only the selected one
// audible (level-matched), the playback systems as switchable filters, and a transport:
// position, seek, a loop region and keys (space: play/stop, 1-9: source, arrows: 2 s).
#pragma once

namespace td {

inline const char* const kReportPlayerScript = R"JS(
const player = {ctx: null, ready: false, sources: data.players.sources, gains: {}, match_db: {},
                chains: {}, nodes: [], current: null, system: "flat", started: false,
                length: 0, offset: 0, startedAt: 0, loopStart: 0, loopEnd: 0};
window.topdownPlayer = player;
const playerDiv = document.getElementById("player");
function setStatus(text) { document.getElementById("status").textContent = text; }
function dbToGain(db) { return Math.pow(10, db / 20); }
function clock(s) { const m = Math.floor(s / 60); return m + ":" + (s - 60 * m).toFixed(1).padStart(4, "0"); }

function buildButtons() {
  const srcSpan = document.getElementById("sources"), sysSpan = document.getElementById("systems");
  if (!player.sources.length) {
    document.getElementById("player-note").textContent =
      "No audio was written for these variants (--write-variants none) and there is no reference: nothing to play.";
    document.getElementById("play").disabled = true;
  }
  const lufs = player.sources.map(s => s.lufs).filter(x => x !== null);
  const common = lufs.length ? Math.min(...lufs) : 0;
  player.sources.forEach((s, i) => {
    player.match_db[s.id] = s.lufs === null ? 0 : common - s.lufs;
    const b = document.createElement("button");
    b.textContent = (i < 9 ? (i + 1) + " " : "") + (s.kind === "reference" ? "ref " : "") + s.id;
    b.dataset.source = s.id;
    b.title = (s.kind === "reference" ? "reference" : "variant") + ", " + fmt(s.lufs, 1) + " LUFS, played at " +
              fmt(player.match_db[s.id], 1) + " dB, excerpt from " + fmt(s.start_s, 0) + " s" + (i < 9 ? " (key " + (i + 1) + ")" : "");
    b.addEventListener("click", () => switchTo(s.id));
    srcSpan.appendChild(b);
  });
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
    "stretch. The excerpts are " + data.players.codec + " (the page's size); the delivered files are the masters. " +
    "Playback systems are the translation check's curves (linear-phase FIRs; phone and smart speaker in mono).";
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
    s.buffer = await ctx.decodeAudioData(decodeBase64(s.audio));
    const g = ctx.createGain();
    g.gain.value = s.id === player.current ? dbToGain(player.match_db[s.id]) : 0;
    g.connect(bus);
    player.gains[s.id] = g;
  }
  // The transport runs over the shortest excerpt, so every source has audio wherever it is.
  player.length = Math.min(...player.sources.map(s => s.buffer.duration));
  if (!(player.loopEnd > player.loopStart) || player.loopEnd > player.length) player.loopEnd = player.length;
  player.loopStart = Math.min(player.loopStart, player.loopEnd);
  showLoop();
  setSystem(player.system);
  player.ready = true;
}
// Where playback is in the excerpt (s): from `offset` at `startedAt`, then round the loop.
player.position = function () {
  if (!this.started) return this.offset;
  const e = this.offset + (this.ctx.currentTime - this.startedAt);
  if (e < this.loopEnd) return Math.max(0, e);
  return this.loopStart + (e - this.loopEnd) % Math.max(1e-3, this.loopEnd - this.loopStart);
};
function startSources(at) {
  for (const n of player.nodes) n.stop();
  player.nodes = [];
  const when = player.ctx.currentTime + 0.05;
  for (const s of player.sources) {
    const src = player.ctx.createBufferSource();
    src.buffer = s.buffer; src.loop = true;
    src.loopStart = player.loopStart; src.loopEnd = player.loopEnd;
    src.connect(player.gains[s.id]);
    src.start(when, at);
    player.nodes.push(src);
  }
  player.offset = at;
  player.startedAt = when;
  player.started = true;
}
async function play() {
  if (!player.ctx) { setStatus("decoding..."); await setupAudio(); }
  await player.ctx.resume();
  if (!player.started) startSources(Math.min(player.offset, Math.max(0, player.loopEnd - 0.01)));
  playerDiv.dataset.state = "playing";
  setStatus("playing (looped)");
}
function stop() {
  if (player.started) player.offset = player.position();
  for (const n of player.nodes) n.stop();
  player.nodes = []; player.started = false;
  playerDiv.dataset.state = "stopped";
  setStatus("stopped");
}
function seek(to) {
  const end = player.length || player.loopEnd;
  to = Math.max(0, Math.min(to, Math.max(0, end - 0.01)));
  if (player.started) startSources(to); else player.offset = to;
  showPosition();
}
function setLoop(from, to) {
  const end = player.length || Infinity;
  player.loopStart = Math.max(0, Math.min(from, end));
  player.loopEnd = Math.max(player.loopStart + 0.1, Math.min(to, end));
  if (player.started) startSources(Math.min(Math.max(player.position(), player.loopStart), player.loopEnd - 0.01));
  showLoop();
}
function showLoop() {
  document.getElementById("loop-start").value = fmt(player.loopStart, 1);
  document.getElementById("loop-end").value = fmt(player.loopEnd, 1);
}
function showPosition() {
  const p = player.position(), n = player.length || 0;
  document.getElementById("position").textContent = clock(p) + " / " + clock(n);
  const bar = document.getElementById("seek");
  if (document.activeElement !== bar && n > 0) bar.value = Math.round(1000 * p / n);
  playerDiv.dataset.position = p.toFixed(2);
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
const playing = () => playerDiv.dataset.state === "playing";
const reportError = e => setStatus("cannot play: " + e.message);
document.getElementById("play").addEventListener("click", () => play().catch(reportError));
document.getElementById("stop").addEventListener("click", stop);
document.getElementById("seek").addEventListener("input", e => seek(e.target.value / 1000 * (player.length || 0)));
for (const id of ["loop-start", "loop-end"])
  document.getElementById(id).addEventListener("change", () =>
    setLoop(Number(document.getElementById("loop-start").value), Number(document.getElementById("loop-end").value)));
document.addEventListener("keydown", e => {
  if (e.target.tagName === "INPUT" && e.target.type === "number") return;
  if (e.key === " ") { e.preventDefault(); if (playing()) stop(); else play().catch(reportError); }
  else if (/^[1-9]$/.test(e.key) && player.sources[Number(e.key) - 1]) switchTo(player.sources[Number(e.key) - 1].id);
  else if (e.key === "ArrowLeft" || e.key === "ArrowRight") { e.preventDefault(); seek(player.position() + (e.key === "ArrowLeft" ? -2 : 2)); }
});
setInterval(() => { if (player.ctx) showPosition(); }, 100);
)JS";

}  // namespace td
