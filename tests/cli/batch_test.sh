#!/usr/bin/env bash
# topdown batch and merge through the real binary: a broken session fails alone; a batch
# killed with SIGKILL and started again renders only the rest and ends with the same files
# as an uninterrupted batch; a 3-way sharded batch, merged, equals the unsharded one.
set -u
topdown="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
say() { echo "$@"; }
bad() { echo "FAIL: $*"; fail=1; }

# The job files read stems from the song folders beside them: allowed for the whole
# temporary folder (stems are confined to the session's folder by default).
export TOPDOWN_ALLOW_PATH="$dir"
mkdir -p "$dir/jobs"
for n in 1 2 3 4 5 6; do
  "$topdown" demo --export "$dir/song$n" --seconds $((30 + 5 * n)) --tracks $((8 + n % 3)) >/dev/null || bad "export $n"
  sed "s|stems/|../song$n/stems/|" "$dir/song$n/session.toml" >"$dir/jobs/song$n.toml"
done
printf '[[track]]\nname = "x"\nfile = "missing.wav"\n' >"$dir/jobs/broken.toml"
# One session with 12 variants: with 3 shards it is split by variants (>= 4 per shard).
# It is ranked against a reference (song 2's master): the merge re-ranks across shards.
{ cat "$dir/jobs/song1.toml"; printf '[[reference]]\nfile = "../song2/stems/kick_in.wav"\n[variants.sweep]\n"master.trim.gain_db" = [-4, -3, -2, -1]\n"drums.fader_db" = [-1, 0, 1]\n'; } >"$dir/jobs/swept.toml"

# Uninterrupted reference.
"$topdown" batch "$dir/jobs" -o "$dir/ref" --backend cpu >"$dir/log" 2>&1
rc=$?
[ $rc -eq 3 ] || bad "a batch with a failed session exits 3 (got $rc)"
python3 - "$dir/ref/batch.json" <<'PY' || bad "batch.json statuses"
import json, sys
b = json.load(open(sys.argv[1]))
st = {s["name"]: s["status"] for s in b["sessions"]}
assert st["broken"] == "failed" and st["swept"] == "ok" and all(st[f"song{n}"] == "ok" for n in range(1, 7)), st
err = [s for s in b["sessions"] if s["name"] == "broken"][0]["error"]
assert "missing.wav: file not found" in err, err
assert b["totals"] == {"ok": 7, "failed": 1, "skipped": 0}, b["totals"]
PY
[ -s "$dir/ref/batch.csv" ] || bad "batch.csv"

# Kill -9 after the first session is complete, then resume. A 1M memory budget makes every
# session its own launch, each finished before the next renders (the reference above shared
# launches, each finished beside the next one's render), so this also checks that neither
# sharing a launch nor finishing one beside the next changes a byte.
"$topdown" batch "$dir/jobs" -o "$dir/resumed" --backend cpu --memory-budget 1M >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 400); do
  [ -f "$dir/resumed/song1/.topdown-complete.json" ] && break
  sleep 0.02
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
done_before=$(ls "$dir"/resumed/song*/.topdown-complete.json 2>/dev/null | wc -l)
say "killed with $done_before of 6 sessions complete"
[ "$done_before" -lt 6 ] || say "note: the batch finished before the kill; resume is still checked"
"$topdown" batch "$dir/jobs" -o "$dir/resumed" --backend cpu --memory-budget 1M --json >"$dir/resume.json" 2>/dev/null
python3 - "$dir/resume.json" "$done_before" <<'PY' || bad "resume skipped the complete sessions and rendered the rest"
import json, sys
b = json.load(open(sys.argv[1])); before = int(sys.argv[2])
st = [s["status"] for s in b["sessions"] if s["name"].startswith("song")]
assert st.count("skipped") == before and st.count("ok") == 6 - before, st
PY
for n in 1 2 3 4 5 6; do
  for f in master.wav report.json; do
    cmp -s "$dir/ref/song$n/$f" "$dir/resumed/song$n/$f" || bad "resumed song$n/$f differs from the uninterrupted batch"
  done
  ls -a "$dir/resumed/song$n" | grep -q partial && bad "song$n: temporary files left"
done

# A changed stem makes its session render again.
cp "$dir/song2/stems/kick_in.wav" "$dir/kick_in.bak"
"$topdown" demo --export "$dir/other" --seconds 3 --tracks 8 >/dev/null
cp "$dir/other/stems/kick_in.wav" "$dir/song2/stems/kick_in.wav"
"$topdown" batch "$dir/jobs" -o "$dir/resumed" --backend cpu --json >"$dir/changed.json" 2>/dev/null
python3 -c "
import json; b = json.load(open('$dir/changed.json'))
st = {s['name']: s['status'] for s in b['sessions']}
assert st['song2'] == 'ok' and st['song1'] == 'skipped', st" || bad "a changed stem re-renders its session only"
cp "$dir/kick_in.bak" "$dir/song2/stems/kick_in.wav"

# Three shards, merged, equal the unsharded batch.
for k in 0 1 2; do
  "$topdown" batch "$dir/jobs" -o "$dir/sharded" --shard $k/3 --backend cpu >/dev/null 2>&1
done
"$topdown" merge "$dir/sharded" >"$dir/merge.log" 2>&1
rc=$?
[ $rc -eq 3 ] || bad "merge with a failed session exits 3 (got $rc)"
for n in 1 2 3 4 5 6; do
  for f in master.wav report.json; do
    cmp -s "$dir/ref/song$n/$f" "$dir/sharded/song$n/$f" || bad "sharded song$n/$f differs"
  done
done
for f in "$dir"/ref/swept/variants/*.wav; do
  cmp -s "$f" "$dir/sharded/swept/variants/$(basename "$f")" || bad "variant $(basename "$f") of the split session differs"
done
[ "$(ls "$dir/sharded/swept/variants" | wc -l)" -eq 12 ] || bad "the split session's 12 variants"
python3 - "$dir/ref/swept/report.json" "$dir/sharded/swept/report.json" <<'PY' || bad "the split session's merged report"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["variants"] == b["variants"]
assert [v["rank"] for v in b["variants"]] == list(range(1, 13)), "ranked best first"
assert b["plan"]["merged_from_shards"] == 3
PY
python3 - "$dir/ref/batch.json" "$dir/sharded/batch.json" <<'PY' || bad "merged batch.json equals the unsharded one (timings aside)"
import json, sys
def rows(path):
    return [{k: v for k, v in s.items() if k != "wall_s"} for s in json.load(open(path))["sessions"]]
assert rows(sys.argv[1]) == rows(sys.argv[2]), (rows(sys.argv[1]), rows(sys.argv[2]))
PY
rm "$dir/sharded/batch-shard-1-of-3.json"
"$topdown" merge "$dir/sharded" >/dev/null 2>"$dir/err"
grep -q "shard 1/3 is missing" "$dir/err" || bad "merge names the missing shard"

"$topdown" batch --help >/dev/null || bad "batch --help"
"$topdown" merge --help >/dev/null || bad "merge --help"
"$topdown" batch "$dir/jobs" -o "$dir/x" --shard 3/3 >/dev/null 2>"$dir/err"
[ $? -eq 1 ] && grep -q "K must be in 0 .. N-1" "$dir/err" || bad "a bad --shard is bad input"
[ $fail -eq 0 ] && say "batch tests passed"
exit $fail
