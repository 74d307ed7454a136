#!/usr/bin/env bash
# Progress and quiet (issue #21), through the real binary with stderr not a terminal:
# `demo` prints plain progress lines with elapsed time and ETA for each of its steps (every
# measuring pass of init, the render, the write), the GPU notice (where there is one) before
# them; `--progress json` prints one JSON object per line; `-q` prints nothing at all on a
# good run; the summary's time is the whole command's (within 0.5 s of the wall time).
# Usage: progress_test.sh TOPDOWN_BINARY
set -uo pipefail
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

start=$(date +%s.%N)
"$bin" demo --seconds 3 -o "$dir/plain" >"$dir/out" 2>"$dir/err" || bad "demo failed: $(cat "$dir/err")"
wall=$(echo "$(date +%s.%N) - $start" | bc)
for step in "init pass 1" "init pass 2" "render" "write"; do
  grep -q "^topdown: $step .*elapsed, ETA" "$dir/err" || bad "no progress line for '$step'"
  grep "^topdown: $step " "$dir/err" | grep -q "100%" || bad "'$step' never reaches 100%"
done
# Every line of stderr is a progress line or the GPU notice, and the notice comes first.
grep -v -e "elapsed, ETA" -e "no usable GPU" "$dir/err" && bad "stray lines on stderr"
if grep -q "no usable GPU" "$dir/err"; then
  head -n 1 "$dir/err" | grep -q "no usable GPU" || bad "the GPU notice is not the first line"
  [ "$(grep -c "no usable GPU" "$dir/err")" = 1 ] || bad "the GPU notice is printed more than once"
fi
said=$(sed -n 's/.* in \([0-9.]*\) s (.*realtime)$/\1/p' "$dir/out")
[ -n "$said" ] || bad "no time in the summary: $(cat "$dir/out")"
if [ -n "$said" ]; then
  close=$(echo "d = $said - $wall; if (d < 0) d = -d; d <= 0.5" | bc)
  [ "$close" = 1 ] || bad "the summary says $said s, the command took $wall s"
fi

# The other two on the plain demo (no init passes): the same reporter, a third of the time.
"$bin" demo --plain --seconds 3 -o "$dir/json" --progress json >/dev/null 2>"$dir/jerr" ||
  bad "demo --progress json failed"
python3 - "$dir/jerr" <<'PY' || bad "--progress json printed a line that is not a progress object"
import json, sys
stages = set()
for line in open(sys.argv[1]):
    j = json.loads(line)
    if "notice" in j:
        continue
    assert {"stage", "fraction", "elapsed_s", "eta_s", "speed_x_realtime"} <= set(j), line
    stages.add(j["stage"])
assert {"render", "write"} <= stages, stages
PY

"$bin" demo --plain --seconds 3 -o "$dir/quiet" -q >"$dir/qout" 2>"$dir/qerr" || bad "demo -q failed"
[ -s "$dir/qout" ] && bad "-q printed on stdout: $(cat "$dir/qout")"
[ -s "$dir/qerr" ] && bad "-q printed on stderr: $(cat "$dir/qerr")"
"$bin" render "$dir/none.toml" -o "$dir/x" -q 2>"$dir/qerr2" && bad "a missing session succeeded"
grep -q "none.toml" "$dir/qerr2" || bad "-q hid the error"

[ $fail = 0 ] && echo "progress_test: ok (demo of 3 s: $wall s wall, the summary says $said s)"
exit $fail
