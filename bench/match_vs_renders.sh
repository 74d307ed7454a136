#!/usr/bin/env bash
# `topdown match` against the loop a user would otherwise write (issue #19): evaluations per
# second of the match loop on the 24-track, 4-minute bench session (the seed chain,
# bench/seed_chain.toml, with three [search] parameters on its mix bus) against a script
# that renders each candidate with a separate `topdown render` of the whole song, in one
# run. The match runs twice: as designed (a 30 s excerpt per generation, then 4 finalists
# confirmed on the song) and searched on the whole song (--seconds 0), which isolates what
# batching a generation into one launch is worth. Prints evaluations/s and the ratios.
# Usage: bench/match_vs_renders.sh [CANDIDATES_FOR_THE_LOOP]   (default 6)
set -euo pipefail
cd "$(dirname "$0")/.."
loop="${1:-6}"
scripts/setup.sh
scripts/build.sh >/dev/null
scripts/make_bench_session.sh bench-out/session 240 >/dev/null
root=bench-out/match
mkdir -p "$root"
sed 's#"\.\./bench-out/session/stems/#"../session/stems/#' bench/seed_chain.toml >"$root/song.toml"
# The reference: the same song with other mix-bus settings (a target the search can reach).
sed 's/threshold_db = -16, ratio = 2/threshold_db = -20, ratio = 2/;
     s/freq = 10000, gain_db = 1.0/freq = 10000, gain_db = 2.0/' "$root/song.toml" >"$root/ref.toml"
[ -s "$root/ref/master.wav" ] || build/topdown render "$root/ref.toml" -o "$root/ref" --backend cpu --allow-path bench-out >/dev/null 2>>"$root/log"
cp "$root/song.toml" "$root/search.toml"
printf '\n[search]\n"master.eq.air.gain_db" = { min = -3.0, max = 3.0 }\n"master.comp.threshold_db" = { min = -30.0, max = -10.0 }\n"drums.fader_db" = { min = -4.0, max = 2.0 }\n' \
  >>"$root/search.toml"
now() { date +%s.%N; }
budget=49  # the start and three generations of 16
t0=$(now)
build/topdown match "$root/search.toml" --reference "$root/ref/master.wav" -o "$root/out-excerpt" \
  --budget $budget --backend cpu --allow-path bench-out >/dev/null 2>>"$root/log"
t1=$(now)
build/topdown match "$root/search.toml" --reference "$root/ref/master.wav" -o "$root/out-whole" \
  --budget $budget --seconds 0 --backend cpu --allow-path bench-out >/dev/null 2>>"$root/log"
t2=$(now)
# The naive loop: one whole render per candidate (air gains spread over the range).
for ((i = 0; i < loop; i++)); do
  air=$(python3 -c "print(-3 + 6 * $i / max(1, $loop - 1))")
  sed "s/freq = 10000, gain_db = 1.0/freq = 10000, gain_db = $air/" "$root/song.toml" >"$root/loop.toml"
  build/topdown render "$root/loop.toml" -o "$root/out-loop" --backend cpu --allow-path bench-out \
    --reference "$root/ref/master.wav" >/dev/null 2>>"$root/log"
done
t3=$(now)
python3 - "$t0" "$t1" "$t2" "$t3" "$budget" "$loop" "$root" <<'PY'
import json, sys
t0, t1, t2, t3 = (float(x) for x in sys.argv[1:5])
budget, loop, root = int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
ex = json.load(open(f"{root}/out-excerpt/match.json"))
wh = json.load(open(f"{root}/out-whole/match.json"))
# The wall time of a match includes rendering the matched session once at the end.
rate_ex = ex["evaluations"] / (t1 - t0)
rate_wh = wh["evaluations"] / (t2 - t1)
rate_loop = loop / (t3 - t2)
print("24 stems x 240 s, seed chain, 3 [search] parameters on the mix bus (one run, 2 cores)")
print(f"  match, 30 s excerpts + confirmation: {ex['evaluations']:4d} evaluations in {t1 - t0:6.1f} s"
      f" = {rate_ex:5.2f}/s  ({rate_ex / rate_loop:5.1f}x the loop)  score {ex['start']['score']:.3f} -> {ex['best']['score']:.3f}")
print(f"  match, whole song:                   {wh['evaluations']:4d} evaluations in {t2 - t1:6.1f} s"
      f" = {rate_wh:5.2f}/s  ({rate_wh / rate_loop:5.1f}x the loop)  score {wh['start']['score']:.3f} -> {wh['best']['score']:.3f}")
print(f"  a loop of separate renders:          {loop:4d} evaluations in {t3 - t2:6.1f} s = {rate_loop:5.2f}/s")
PY
