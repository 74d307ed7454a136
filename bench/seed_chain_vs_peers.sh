#!/usr/bin/env bash
# The seed's full chain (bench/seed_chain.toml) on the 24-track, 4-minute bench session,
# rendered in turn in one run by topdown (defaults; with oversampling = 1 on every
# saturation, like for like with the floor; 16 variants of the mix-bus chain), ffmpeg (the
# same chain in one filter graph), pedalboard (from PyPI, in bench-out/pyenv) and the plain
# C floor (../shared/yardsticks/chainfloor.c, built into bench-out/, not copied); prints
# the medians and the ratios against issue #16's targets. Peers that cannot be set up are
# skipped with a message.
# Usage: bench/seed_chain_vs_peers.sh [RUNS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
scripts/setup.sh --bench
scripts/build.sh >/dev/null
scripts/make_bench_session.sh bench-out/session 240 >/dev/null
mkdir -p bench-out/seed
# Sessions next to the stems: the seed chain as written, with oversampling = 1, and with
# 16 variants of the mix-bus chain (compressor threshold x air gain).
sed 's#"\.\./bench-out/session/stems/#"session/stems/#' bench/seed_chain.toml >bench-out/seed.toml
sed 's/model = "tape", drive_db = 2 }/model = "tape", drive_db = 2, oversampling = 1 }/;
     s/model = "tape", drive_db = 3 }/model = "tape", drive_db = 3, oversampling = 1 }/;
     s/model = "tube", drive_db = 2 }/model = "tube", drive_db = 2, oversampling = 1 }/' \
  bench-out/seed.toml >bench-out/seed-os1.toml
[ "$(grep -c 'oversampling = 1' bench-out/seed-os1.toml)" -eq 3 ] || {
  echo "bench: the seed chain's saturations changed; update the oversampling = 1 edit" >&2
  exit 1
}
cp bench-out/seed.toml bench-out/seed-16.toml
printf '\n[variants.sweep]\n"master.comp.threshold_db" = [-20, -18, -16, -14]\n"master.eq.air.gain_db" = [0, 0.5, 1, 1.5]\n' \
  >>bench-out/seed-16.toml

peers=()
yard=../shared/yardsticks
if [ -f "$yard/chainfloor.c" ] &&
  gcc -O3 -march=native -ffast-math -fopenmp "$yard/chainfloor.c" -lfftw3f -lm \
    -o bench-out/chainfloor 2>bench-out/chainfloor-build.log; then
  python3 bench/seed_chain_peers.py plan bench/seed_chain.toml bench-out/floor.plan
  peers+=(floor)
else
  echo "bench: no C floor (../shared/yardsticks/chainfloor.c missing or not buildable)" >&2
fi
if command -v ffmpeg >/dev/null 2>&1; then
  mapfile -t ffargs < <(python3 bench/seed_chain_peers.py ffmpeg bench/seed_chain.toml bench-out/ffmpeg.wav)
  peers+=(ffmpeg)
fi
if [ -x bench-out/pyenv/bin/python ] ||
  { python3 -m venv bench-out/pyenv && bench-out/pyenv/bin/pip install -q "pedalboard==0.9.*" numpy; } \
    >bench-out/pyenv-install.log 2>&1; then
  peers+=(pedalboard)
else
  echo "bench: pedalboard could not be installed (bench-out/pyenv-install.log)" >&2
fi

now() { date +%s.%N; }
declare -A times
run() {  # name command...
  local t0 t1
  # The last run's files flushed first, outside the timing: a run must not pay for the
  # write-back of the one before (topdown waits for its own writes; the peers leave theirs
  # in the page cache).
  sync
  t0=$(now)
  "${@:2}" >"bench-out/seed/$1.log" 2>"bench-out/seed/$1.err" || echo "bench: $1 failed (bench-out/seed/$1.err)" >&2
  t1=$(now)
  times[$1]+="$(echo "$t1 - $t0" | bc) "
}
for ((i = 0; i < runs; i++)); do
  run topdown build/topdown render bench-out/seed.toml -o bench-out/seed/out --backend cpu --json
  run topdown_os1 build/topdown render bench-out/seed-os1.toml -o bench-out/seed/out-os1 --backend cpu
  run topdown_16 build/topdown render bench-out/seed-16.toml -o bench-out/seed/out-16 --backend cpu
  for p in "${peers[@]}"; do
    case $p in
      floor) run floor env OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive bench-out/chainfloor \
        bench-out/floor.plan bench-out/floor.wav ;;
      ffmpeg) run ffmpeg ffmpeg "${ffargs[@]}" ;;
      pedalboard) run pedalboard bench-out/pyenv/bin/python bench/seed_chain_peers.py pedalboard \
        bench/seed_chain.toml bench-out/pedalboard.wav ;;
    esac
  done
done

python3 - "$runs" "${times[topdown]}" "${times[topdown_os1]}" "${times[topdown_16]}" \
  "${times[floor]:-}" "${times[ffmpeg]:-}" "${times[pedalboard]:-}" <<'PY'
import json, statistics, sys
runs = sys.argv[1]
names = ["topdown", "topdown_os1", "topdown_16", "floor", "ffmpeg", "pedalboard"]
every = {n: [float(x) for x in a.split()] for n, a in zip(names, sys.argv[2:]) if a.strip()}
med = {n: statistics.median(v) for n, v in every.items()}
label = {
    "topdown": "topdown, defaults",
    "topdown_os1": "topdown, oversampling = 1 on every saturation",
    "topdown_16": "topdown, 16 variants of the mix-bus chain",
    "floor": "C floor (chainfloor.c, 2 threads)",
    "ffmpeg": "ffmpeg, one graph of the same chain",
    "pedalboard": "pedalboard 0.9 (Python over JUCE)",
}
print(f"seed chain, 24 stems x 240 s at 48 kHz, median of {runs} runs, in turn")
# Every run as well as the median: on a shared machine the runs of one renderer can differ
# by a quarter, and the peers run in turn with topdown, so they drift together.
print(f"| renderer | wall (s) | vs floor | each run (s) |")
print(f"|---|---|---|---|")
for n in names:
    if n in med:
        vs = f"{med[n] / med['floor']:.2f}x" if "floor" in med else "-"
        runs_s = " ".join(f"{x:.2f}" for x in every[n])
        print(f"| {label[n]} | {med[n]:.2f} | {vs} | {runs_s} |")
targets = [("topdown at least 4x faster than ffmpeg", "ffmpeg", lambda: med["ffmpeg"] / med["topdown"], 4.0, ">="),
           ("topdown at least 2x faster than pedalboard", "pedalboard", lambda: med["pedalboard"] / med["topdown"], 2.0, ">="),
           ("topdown within 2.0x of the floor", "floor", lambda: med["topdown"] / med["floor"], 2.0, "<="),
           ("oversampling = 1 within 1.3x of the floor", "floor", lambda: med["topdown_os1"] / med["floor"], 1.3, "<="),
           ("16 variants within 4x of the floor's one render", "floor", lambda: med["topdown_16"] / med["floor"], 4.0, "<=")]
print("targets (issue #16):")
for text, peer, value, bound, op in targets:
    if peer not in med:
        print(f"  {text}: {peer} not measured")
        continue
    v = value()
    ok = v >= bound if op == ">=" else v <= bound
    print(f"  {text}: {v:.2f} ({'met' if ok else 'not met'})")
r = json.load(open("bench-out/seed/topdown.log"))
t = r["timings_s"]
print("topdown's time (last default run): " + ", ".join(f"{k} {t[k]:.2f} s" for k in ("decode", "stages", "measure", "write", "total")))
print("  stages by type: " + ", ".join(f"{k} {v['s']:.2f} s" for k, v in sorted(t["stages_by_type"].items(), key=lambda kv: -kv[1]["s"]) if v["s"] > 0.005))
PY
