#!/usr/bin/env bash
# Confinement (docs/security.md), through the real binary: a session's stems and references
# resolve inside the session's folder unless the operator allows more (absolute paths,
# `..` and a symlink pointing out are refused with the key named, exit 1, nothing
# rendered); batch names its output folders through one sanitiser, so a session file named
# `...toml` or `..toml` writes nothing outside OUT; merge refuses a shard file whose
# session name batch could not have written.
source "$(dirname "$0")/lib.sh" "$1"
expect() {  # expect RC DESCRIPTION -- command...
  local want=$1 what=$2; shift 3
  "$@" >"$dir/out.txt" 2>"$dir/err.txt"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    bad "$what: exit $rc, expected $want"; cat "$dir/err.txt"
  else
    echo "ok: $what"
  fi
}

"$topdown" demo --export "$dir/client/song" --seconds 3 --tracks 8 >/dev/null || bad "export"
"$topdown" demo --export "$dir/other" --seconds 3 --tracks 8 >/dev/null || bad "export other"
song="$dir/client/song"
unset TOPDOWN_ALLOW_PATH

# The session as exported renders: its stems are inside its folder.
expect 0 "stems inside the session's folder" -- "$topdown" render "$song/session.toml" -o "$dir/o0" --backend cpu

# Another client's stem, by absolute path and by climbing out.
sed "0,/file = \"stems\/kick_in.wav\"/s##file = \"$dir/other/stems/kick_in.wav\"#" "$song/session.toml" >"$song/absolute.toml"
expect 1 "an absolute path outside" -- "$topdown" render "$song/absolute.toml" -o "$dir/o1" --backend cpu
grep -q "absolute.toml:[0-9]*: track \"kick_in\" file" "$dir/err.txt" || bad "message names the file, line and key: $(cat "$dir/err.txt")"
grep -q "outside the session's folder" "$dir/err.txt" || bad "message says why"
[ -e "$dir/o1/master.wav" ] && bad "rendered anyway"
sed 's#file = "stems/kick_in.wav"#file = "../../other/stems/kick_in.wav"#' "$song/session.toml" >"$song/climb.toml"
expect 1 "a path climbing out with .." -- "$topdown" render "$song/climb.toml" -o "$dir/o2" --backend cpu
# A symlink inside the folder that points out.
ln -s "$dir/other/stems/kick_in.wav" "$song/stems/link.wav"
sed 's#file = "stems/kick_in.wav"#file = "stems/link.wav"#' "$song/session.toml" >"$song/link.toml"
expect 1 "a symlink pointing out" -- "$topdown" render "$song/link.toml" -o "$dir/o3" --backend cpu
# A reference outside.
{ cat "$song/session.toml"; printf '[[reference]]\nfile = "%s/other/stems/bass.wav"\n' "$dir"; } >"$song/ref.toml"
expect 1 "a reference outside" -- "$topdown" render "$song/ref.toml" -o "$dir/o4" --backend cpu
grep -q "\[\[reference\]\] file" "$dir/err.txt" || bad "reference message names the key"

# What the operator allows.
expect 0 "--allow-path" -- "$topdown" render "$song/climb.toml" -o "$dir/o5" --backend cpu --allow-path "$dir/other"
TOPDOWN_ALLOW_PATH="/nonexistent:$dir/other" expect 0 "TOPDOWN_ALLOW_PATH" -- "$topdown" render "$song/link.toml" -o "$dir/o6" --backend cpu
expect 0 "--allow-any-path" -- "$topdown" render "$song/absolute.toml" -o "$dir/o7" --backend cpu --allow-any-path
expect 1 "--allow-path of another folder" -- "$topdown" render "$song/climb.toml" -o "$dir/o8" --backend cpu --allow-path "$dir/client/song/stems"

# batch: session files named "...toml" (stem "..") and "..toml" (stem "."), in a jobs folder
# inside the song's folder; OUT's parent holds a file that must survive.
mkdir -p "$song/jobs" "$dir/parent"
sed 's#"stems/#"../stems/#' "$song/session.toml" >"$song/jobs/...toml"
sed 's#"stems/#"../stems/#' "$song/session.toml" >"$song/jobs/..toml"
echo keep >"$dir/parent/.master.wav.partial-1"
before=$(ls -A "$dir/parent" | sort | tr '\n' ' ')
expect 0 "batch of ...toml and ..toml" -- "$topdown" batch "$song/jobs" -o "$dir/parent/OUT" --backend cpu --allow-path "$song"
after=$(ls -A "$dir/parent" | sort | tr '\n' ' ')
[ "${before}OUT " = "$after" ] || bad "batch touched OUT's parent: before [$before] after [$after]"
[ -f "$dir/parent/OUT/_./master.wav" ] || bad "...toml not rendered into OUT/_./ ($(ls -A "$dir/parent/OUT"))"
[ -f "$dir/parent/OUT/_/master.wav" ] || bad "..toml not rendered into OUT/_/"
# Stems outside the jobs' folder without --allow-path: each session fails alone.
expect 3 "batch without --allow-path" -- "$topdown" batch "$song/jobs" -o "$dir/OUT2" --backend cpu
grep -q "outside the session's folder" "$dir/err.txt" || bad "batch says why: $(cat "$dir/err.txt")"

# merge: a shard file naming "../x" is refused, nothing written.
mkdir -p "$dir/farm"
printf '{"shard":{"index":0,"count":1},"sessions":[{"name":"../escape","status":"ok"}]}\n' \
  >"$dir/farm/batch-shard-0-of-1.json"
expect 1 "merge of a tampered shard file" -- "$topdown" merge "$dir/farm"
[ -e "$dir/escape" ] && bad "merge wrote outside OUT"
[ -e "$dir/farm/batch.json" ] && bad "merge published a batch.json"

exit $fail
