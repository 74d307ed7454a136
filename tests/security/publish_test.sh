#!/usr/bin/env bash
# All or nothing (docs/security.md): a render publishes its files as one set with a
# manifest written last. Re-rendering a different sweep into the same folder leaves only
# the new set (a user's own file survives); a render killed with SIGKILL at several points
# leaves the folder either as it was or complete (`analyze --verify` passes either way);
# a render that runs out of disk (a small tmpfs, where it can be mounted) exits 1 and
# leaves the previous set intact.
source "$(dirname "$0")/lib.sh" "$1"
cleanup() { mountpoint -q "$dir/small" 2>/dev/null && umount "$dir/small"; rm -rf "$dir"; }
trap cleanup EXIT

"$topdown" demo --export "$dir/song" --seconds 40 --tracks 12 >/dev/null || bad "export"
sweep() { { cat "$dir/song/session.toml"; printf '[variants.sweep]\n"master.trim.gain_db" = [%s]\n' "$1"; } >"$dir/song/$2"; }
sweep "-3, -2, -1" three.toml
sweep "-3, -2" two.toml
out="$dir/out"
"$topdown" render "$dir/song/three.toml" -o "$out" --backend cpu >/dev/null 2>&1 || bad "first render"
echo mine >"$out/notes.txt"
"$topdown" analyze --verify "$out" >/dev/null || bad "the first set does not verify"
"$topdown" render "$dir/song/two.toml" -o "$out" --backend cpu >/dev/null 2>&1 || bad "second render"
[ -e "$out/variants/v0003.wav" ] && bad "an old variant stayed beside the new report"
[ -e "$out/notes.txt" ] || bad "the user's own file was removed"
"$topdown" analyze --verify "$out" >/dev/null || bad "the second set does not verify"
echo "ok: a different sweep replaces the set; the user's file stays"

# SIGKILL during the next render, at several points: the folder verifies every time.
for delay in 0.2 0.6 1.0 1.5 2.0 3.0; do
  "$topdown" render "$dir/song/three.toml" -o "$out" --backend cpu >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  "$topdown" analyze --verify "$out" >"$dir/verify.txt" 2>&1 ||
    bad "killed after ${delay}s: the folder is neither the old set nor the new: $(cat "$dir/verify.txt")"
  echo "ok: SIGKILL after ${delay}s: $(cat "$dir/verify.txt")"
done

# A failing render (a stem gone) publishes nothing.
before=$(cat "$out/topdown-manifest.json")
sed 's#file = "stems/kick_in.wav"#file = "stems/gone.wav"#' "$dir/song/two.toml" >"$dir/song/broken.toml"
"$topdown" render "$dir/song/broken.toml" -o "$out" --backend cpu >/dev/null 2>&1 && bad "broken render succeeded"
[ "$before" = "$(cat "$out/topdown-manifest.json")" ] || bad "a failed render changed the manifest"
"$topdown" analyze --verify "$out" >/dev/null || bad "a failed render changed the set"

# Disk full: a 3 MB tmpfs holds one render of a short song, not a second set beside it
# (nor the second render's kept masters, when they go to a file).
mkdir -p "$dir/small"
if mount -t tmpfs -o size=3m tmpfs "$dir/small" 2>/dev/null; then
  "$topdown" demo --export "$dir/short" --seconds 4 --tracks 8 >/dev/null
  "$topdown" render "$dir/short/session.toml" -o "$dir/small/out" --backend cpu >/dev/null 2>&1 ||
    bad "the first render should fit"
  { cat "$dir/short/session.toml"; printf '[variants.sweep]\n"master.trim.gain_db" = [-3, -2, -1, 0, 1, 2]\n'; } >"$dir/short/many.toml"
  "$topdown" render "$dir/short/many.toml" -o "$dir/small/out" --backend cpu >/dev/null 2>"$dir/err"
  rc=$?
  [ $rc -eq 1 ] || bad "disk full: exit $rc, expected 1 ($(cat "$dir/err"))"
  grep -q "disk full\|No space" "$dir/err" || bad "disk full: the message says why: $(cat "$dir/err")"
  "$topdown" analyze --verify "$dir/small/out" >/dev/null || bad "disk full: the previous set is damaged"
  [ -e "$dir/small/out/master.wav" ] || bad "disk full: the previous master is gone"
  echo "ok: disk full: exit 1, previous set intact"
  # Masters kept on disk (over a 1 MiB budget) that do not fit: refused up front, exit 1.
  "$topdown" render "$dir/short/many.toml" -o "$dir/small/out" --backend cpu --memory-budget 1M \
    >/dev/null 2>"$dir/err"
  rc=$?
  [ $rc -eq 1 ] || bad "no room for the kept masters: exit $rc, expected 1 ($(cat "$dir/err"))"
  grep -q "no room to keep the masters\|disk full" "$dir/err" ||
    bad "no room for the kept masters: the message says why: $(cat "$dir/err")"
  "$topdown" analyze --verify "$dir/small/out" >/dev/null || bad "no room: the previous set is damaged"
  echo "ok: no room for the kept masters on disk: exit 1, previous set intact"
  # A batch publishes each session the same way: one that runs out of disk fails (exit
  # 3) and leaves that session's previous set, completion record included, as it was.
  umount "$dir/small" && mount -t tmpfs -o size=3m tmpfs "$dir/small" || bad "remount"
  mkdir -p "$dir/jobs"
  sed "s#stems/#$dir/short/stems/#" "$dir/short/session.toml" >"$dir/jobs/song.toml"
  "$topdown" batch "$dir/jobs" -o "$dir/small/b" --backend cpu --allow-path "$dir/short" \
    >/dev/null 2>&1 || bad "the first batch should fit"
  "$topdown" analyze --verify "$dir/small/b/song" >/dev/null || bad "batch: the session's set does not verify"
  record=$(cat "$dir/small/b/song/.topdown-complete.json")
  sed "s#stems/#$dir/short/stems/#" "$dir/short/many.toml" >"$dir/jobs/song.toml"
  "$topdown" batch "$dir/jobs" -o "$dir/small/b" --backend cpu --allow-path "$dir/short" \
    >/dev/null 2>"$dir/err"
  rc=$?
  [ $rc -eq 3 ] || bad "batch, disk full: exit $rc, expected 3 ($(cat "$dir/err"))"
  grep -q "disk full\|No space\|no room" "$dir/err" || bad "batch, disk full: why: $(cat "$dir/err")"
  "$topdown" analyze --verify "$dir/small/b/song" >/dev/null || bad "batch, disk full: the previous set is damaged"
  [ "$record" = "$(cat "$dir/small/b/song/.topdown-complete.json")" ] ||
    bad "batch, disk full: the previous completion record changed"
  [ -z "$(ls "$dir/small/b/song/variants" 2>/dev/null)" ] || bad "batch, disk full: variants were left"
  echo "ok: batch, disk full: exit 3, the session's previous set and record intact"
else
  echo "SKIP (disk full part): cannot mount a tmpfs here"
fi
exit $fail
