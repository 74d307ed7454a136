#!/usr/bin/env bash
# The command line through the real binary: help, version, exit codes, one-line errors.
set -u
topdown="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
expect() {  # expect RC DESCRIPTION -- command...
  local want=$1 what=$2; shift 3
  "$@" >"$dir/out" 2>"$dir/err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $what: exit $rc, expected $want"; cat "$dir/err"; fail=1
  else
    echo "ok: $what"
  fi
}
expect 0 "--help" -- "$topdown" --help
grep -q "render" "$dir/out" || { echo "FAIL: --help lists no commands"; fail=1; }
expect 0 "--version" -- "$topdown" --version
expect 0 "demo --help" -- "$topdown" demo --help
expect 0 "render --help" -- "$topdown" render --help
grep -q "report.json" "$dir/out" || { echo "FAIL: render --help says nothing of report.json"; fail=1; }
expect 1 "unknown command" -- "$topdown" frobnicate
expect 1 "unknown option" -- "$topdown" render --frobnicate
expect 1 "missing session file" -- "$topdown" render "$dir/none.toml" -o "$dir/out1"
grep -q "none.toml: session file not found" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }
expect 1 "a folder for a session file" -- "$topdown" render "$dir" -o "$dir/out1"
grep -q "a folder, not a session file" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }

printf '[[track]]\nname = "kick"\nfile = "kick.wav"\npan = 2\n' >"$dir/bad.toml"
expect 1 "out-of-range value" -- "$topdown" render "$dir/bad.toml" -o "$dir/out2"
[ "$(wc -l <"$dir/err")" -eq 1 ] || { echo "FAIL: more than one line of error"; cat "$dir/err"; fail=1; }
grep -q "bad.toml:4: track \"kick\".pan: 2 is out of range (allowed: -1 .. 1)" "$dir/err" ||
  { echo "FAIL: message"; cat "$dir/err"; fail=1; }

printf '[[track]]\nname = "kick"\nfile = "kick.wav"\n' >"$dir/missing.toml"
expect 1 "missing stem" -- "$topdown" render "$dir/missing.toml" -o "$dir/out3"
grep -q "kick.wav: file not found" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }

expect 0 "init --help" -- "$topdown" init --help
expect 1 "init: no such folder" -- "$topdown" init "$dir/nostems" -o "$dir/x.toml"
grep -q "nostems: not a folder of stems" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }
expect 1 "init: unknown template" -- "$topdown" init "$dir" -o "$dir/x.toml" --template jazz
grep -q "allowed: pop-rock, electronic, orchestral, minimal" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }
expect 0 "demo export for init" -- "$topdown" demo --export "$dir/client" --seconds 6
rm "$dir/client/session.toml"
expect 0 "init --render: stems folder to a delivered master" -- \
  "$topdown" init "$dir/client/stems" -o "$dir/client/song.toml" --render "$dir/client/out" --backend cpu
[ -f "$dir/client/out/master.wav" ] || { echo "FAIL: init --render wrote no master"; fail=1; }
grep -q 'name = "drums"' "$dir/client/song.toml" || { echo "FAIL: no drum bus"; fail=1; }

# Mastering a finished mix: the master just rendered stands in for a client's mix.
expect 0 "master --help" -- "$topdown" master --help
grep -q "transparent" "$dir/out" || { echo "FAIL: master --help names no templates"; fail=1; }
mkdir -p "$dir/mixonly" && cp "$dir/client/out/master.wav" "$dir/mixonly/final_mix.wav"
expect 0 "master: a mix through the loud template" -- "$topdown" master \
  "$dir/mixonly/final_mix.wav" -o "$dir/mastered" --template loud \
  --write-session "$dir/mixonly/mastered.toml" --json --backend cpu
python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
v = j['variants'][0] if 'variants' in j else j['master']
assert abs(v['integrated_lufs'] + 9.0) <= 0.1, v['integrated_lufs']
" "$dir/out" || { echo "FAIL: master --template loud missed -9 LUFS"; fail=1; }
[ -s "$dir/mastered/master.wav" ] && [ -s "$dir/mastered/report.html" ] || { echo "FAIL: master outputs"; fail=1; }
grep -q 'type = "multiband"' "$dir/mixonly/mastered.toml" || { echo "FAIL: --write-session"; fail=1; }
expect 0 "render the written mastering session" -- "$topdown" render "$dir/mixonly/mastered.toml" \
  -o "$dir/remastered" --backend cpu
cat >"$dir/deliverables.toml" <<'TOML'
[metadata]
title = "CLI Proof"
artist = "The Testers"

[[deliverable]]
name = "streaming"
format = "wav"
sample_rate = 48000
bit_depth = 24
target_lufs = -14.0
ceiling_dbtp = -1.0

[[deliverable]]
name = "cd"
format = "flac"
sample_rate = 44100
bit_depth = 16
target_lufs = -9.0
ceiling_dbtp = -0.5

[[deliverable]]
name = "reference"
format = "mp3"
bitrate_kbps = 320
target_lufs = -14.0
ceiling_dbtp = -1.0
TOML
expect 0 "master: three deliverables at once" -- "$topdown" master "$dir/mixonly/final_mix.wav" \
  -o "$dir/delivered" --deliverables "$dir/deliverables.toml" --json --backend cpu
python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
v = j['variants'][0] if 'variants' in j else j['master']
want = {'streaming': (-14.0, -1.0, 48000), 'cd': (-9.0, -0.5, 44100), 'reference': (-14.0, -1.0, 48000)}
got = {d['name']: d for d in v['deliverables']}
assert set(got) == set(want), got.keys()
for name, (lufs, ceiling, rate) in want.items():
    d = got[name]
    assert abs(d['integrated_lufs'] - lufs) <= 0.1, (name, d['integrated_lufs'])
    assert d['true_peak_dbtp'] <= ceiling, (name, d['true_peak_dbtp'])
    assert d['sample_rate'] == rate, (name, d['sample_rate'])
" "$dir/out" || { echo "FAIL: deliverables off their targets"; fail=1; }
for f in streaming.wav cd.flac reference.mp3; do
  [ -s "$dir/delivered/$f" ] || { echo "FAIL: no $f"; fail=1; }
done
if command -v ffprobe >/dev/null 2>&1; then
  [ "$(ffprobe -v error -show_entries stream=channel_layout -of csv=p=0 "$dir/delivered/streaming.wav")" = stereo ] ||
    { echo "FAIL: ffprobe does not see a stereo layout"; fail=1; }
fi
printf '[[deliverable]]\nname = "x"\nformat = "aac"\n' >"$dir/bad-deliverables.toml"
expect 1 "master: a bad deliverable names its file and key" -- "$topdown" master \
  "$dir/mixonly/final_mix.wav" -o "$dir/m4" --deliverables "$dir/bad-deliverables.toml"
grep -q 'bad-deliverables.toml:3: deliverable "x".format' "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }
expect 1 "master: unknown template" -- "$topdown" master "$dir/mixonly/final_mix.wav" -o "$dir/m2" --template shiny
grep -q "allowed: transparent, glue, loud" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }
expect 1 "master: no such mix" -- "$topdown" master "$dir/none.wav" -o "$dir/m3"
grep -q "none.wav: no such file" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }
rm "$dir/mixonly/mastered.toml"
expect 0 "init on a one-file folder: a mastering session" -- "$topdown" init "$dir/mixonly" \
  -o "$dir/mixonly/song.toml" --backend cpu
grep -q "a mastering session" "$dir/out" || { echo "FAIL: init does not say it masters"; cat "$dir/out"; fail=1; }
grep -q 'bus = "drums"' "$dir/mixonly/song.toml" && { echo "FAIL: the mix went to a group bus"; fail=1; }

expect 0 "match --help" -- "$topdown" match --help
grep -q "CMA-ES" "$dir/out" || { echo "FAIL: match --help says nothing of the method"; fail=1; }
expect 1 "match: a session without [search]" -- "$topdown" match "$dir/mixonly/song.toml" \
  --reference "$dir/mixonly/final_mix.wav" -o "$dir/matched"
grep -q "\[search\]: missing" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }
{ cat "$dir/mixonly/song.toml"; printf '\n[search]\n"master.eq.air.gain_db" = { min = -3.0, max = 3.0 }\n'; } \
  >"$dir/mixonly/search.toml"
expect 0 "match: a short search, the two best as audio" -- "$topdown" match "$dir/mixonly/search.toml" \
  --reference "$dir/mixonly/final_mix.wav" -o "$dir/matched" --budget 33 --seconds 0 --top 2 --backend cpu
for f in matched.toml match.json match.csv match.html report.json master.wav candidates/variants/v0001.wav \
  candidates/variants/v0002.wav; do
  [ -s "$dir/matched/$f" ] || { echo "FAIL: match wrote no $f"; fail=1; }
done
python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
m = r['match']
assert m['evaluations'] <= 33 and len(m['history']) >= 1, m
assert m['best']['score'] <= m['start']['score'], m
assert 'master.eq.air.gain_db' in m['best']['values']
" "$dir/matched/report.json" || { echo "FAIL: report.json's match"; fail=1; }
grep -q "best_score (lower is closer)" "$dir/matched/match.csv" || { echo "FAIL: match.csv header"; fail=1; }
grep -q "<svg" "$dir/matched/match.html" || { echo "FAIL: match.html has no plot"; fail=1; }
expect 1 "match: --seconds out of range" -- "$topdown" match "$dir/mixonly/search.toml" \
  --reference "$dir/mixonly/final_mix.wav" -o "$dir/matched2" --seconds -1
grep -q "seconds: .* is out of range (0 .. 120)" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }

expect 0 "align --help" -- "$topdown" align --help
grep -q "GCC-PHAT" "$dir/out" || { echo "FAIL: align --help says nothing of the method"; fail=1; }
expect 1 "align: --max-delay-ms out of range" -- "$topdown" align "$dir/mixonly/song.toml" --max-delay-ms 99
grep -q "max-delay-ms: .* is out of range (0.1 .. 50)" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }
expect 0 "align: a session without layered tracks" -- "$topdown" align "$dir/mixonly/song.toml" -o "$dir/aligned"
grep -q "no group of tracks from one source" "$dir/out" || { echo "FAIL: align says nothing"; cat "$dir/out"; fail=1; }
[ -s "$dir/aligned/align.html" ] && [ -s "$dir/aligned/align.json" ] || { echo "FAIL: align -o wrote nothing"; fail=1; }

expect 0 "analyze against a reference" -- "$topdown" analyze "$dir/client/out/master.wav" \
  --reference "$dir/client/out/master.wav" --json --backend cpu
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert abs(j['score']) < 1e-3, j['score']" \
  "$dir/out" || { echo "FAIL: a file against itself scores 0"; fail=1; }

expect 0 "demo renders" -- "$topdown" demo -o "$dir/demo" --seconds 4 --backend cpu
grep -q "LUFS integrated" "$dir/out" || { echo "FAIL: demo prints no loudness"; fail=1; }
[ -s "$dir/demo/master.wav" ] && [ -s "$dir/demo/report.json" ] || { echo "FAIL: demo outputs"; fail=1; }

grep -q "topdown: init pass 1 .*ETA" "$dir/err" || { echo "FAIL: demo's init passes print no progress"; cat "$dir/err"; fail=1; }
grep -q "topdown: render .*100%.*ETA 0:00.*realtime" "$dir/err" || { echo "FAIL: demo's render prints no progress with ETA and speed"; cat "$dir/err"; fail=1; }
expect 0 "demo -q: nothing but errors" -- "$topdown" demo -o "$dir/demoq" --seconds 4 --backend cpu -q
[ -s "$dir/out" ] || [ -s "$dir/err" ] && { echo "FAIL: -q printed"; cat "$dir/out" "$dir/err"; fail=1; }
expect 0 "render --progress json" -- "$topdown" render "$dir/demo/session.toml" -o "$dir/demojson" --backend cpu --progress json
python3 -c "
import json, sys
lines = [j for j in (json.loads(l) for l in open(sys.argv[1]) if l.startswith('{')) if 'stage' in j]
assert any(l['stage'] == 'render' and l['fraction'] == 1.0 and l['eta_s'] == 0.0 for l in lines), lines
" "$dir/err" || { echo "FAIL: --progress json lines"; cat "$dir/err"; fail=1; }
expect 0 "init: the GPU notice at most once over its passes" -- "$topdown" init "$dir/demo/stems" -o "$dir/demo/again.toml"
[ "$(grep -c 'no usable GPU' "$dir/err")" -le 1 ] || { echo "FAIL: the GPU notice repeats"; cat "$dir/err"; fail=1; }
TOPDOWN_BACKEND=cpu expect 0 "TOPDOWN_BACKEND=cpu: no GPU notice" -- "$topdown" render "$dir/demo/session.toml" -o "$dir/envcpu"
grep -q "no usable GPU" "$dir/err" && { echo "FAIL: a GPU notice with TOPDOWN_BACKEND=cpu"; fail=1; }
TOPDOWN_BACKEND=gpu expect 1 "TOPDOWN_BACKEND out of its choices" -- "$topdown" render "$dir/demo/session.toml" -o "$dir/envbad"
expect 1 "--progress out of its choices" -- "$topdown" render "$dir/demo/session.toml" -o "$dir/x" --progress fancy
grep -q "progress: fancy (allowed: auto, plain, json, none)" "$dir/err" || { echo "FAIL: message"; cat "$dir/err"; fail=1; }

expect 0 "demo --export then render" -- "$topdown" demo --export "$dir/song" --seconds 4
expect 0 "render --json" -- "$topdown" render "$dir/song/session.toml" -o "$dir/rendered" --json --backend cpu
python3 -c "import json,sys; r=json.load(open('$dir/out')); assert abs(r['master']['integrated_lufs']+14.0) < 0.1, r['master']" ||
  { echo "FAIL: --json output"; fail=1; }
ls -a "$dir/rendered" | grep -q partial && { echo "FAIL: temporary files left behind"; fail=1; }
expect 0 "analyze --help" -- "$topdown" analyze --help
expect 0 "analyze a rendered file" -- "$topdown" analyze "$dir/rendered/master.wav" --backend cpu
grep -q "integrated loudness  -14.0 LUFS" "$dir/out" || { echo "FAIL: analyze text"; cat "$dir/out"; fail=1; }
expect 0 "analyze --json two files" -- "$topdown" analyze "$dir/rendered/master.wav" "$dir/demo/master.wav" --json --series --backend cpu
python3 - "$dir/out" <<'PY' || { echo "FAIL: analyze --json keys"; fail=1; }
import json, sys
a = json.load(open(sys.argv[1]))
assert isinstance(a, list) and len(a) == 2
keys = ["file", "integrated_lufs", "lra_lu", "momentary_max_lufs", "short_term_max_lufs", "true_peak_dbtp",
        "sample_peak_dbfs", "rms_dbfs", "crest_db", "plr_db", "correlation", "spectrum_third_octave",
        "momentary_series", "short_term_series"]
for k in keys:
    assert k in a[0], k
assert a[0]["spectrum_third_octave"][0]["hz"] == 20
t = [p[0] for p in a[0]["momentary_series"][:3]]
assert abs(t[1] - t[0] - 0.01) < 1e-6, t  # every 10 ms
PY
expect 1 "analyze a missing file" -- "$topdown" analyze "$dir/none.wav"
grep -q "none.wav: file not found" "$dir/err" || { echo "FAIL: message"; fail=1; }
python3 -c "import json; r=json.load(open('$dir/rendered/report.json')); b=r['buses']; assert b and 'pre_chain_peak_dbfs' in b[0] and 'vu_series' in b[0] and 'exceeds_headroom' in b[0], b[0].keys()" ||
  { echo "FAIL: report.json buses"; fail=1; }
expect 0 "render --auto-gain-stage" -- "$topdown" render "$dir/song/session.toml" -o "$dir/staged" --auto-gain-stage --backend cpu
grep -q "auto gain staging" "$dir/out" || { echo "FAIL: auto gain staging summary"; fail=1; }
exit $fail
