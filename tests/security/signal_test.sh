#!/usr/bin/env bash
# Stopping a render (docs/security.md): SIGTERM (Slurm, Kubernetes) and SIGINT at several
# points exit 143 / 130 and leave no temporary file; a temporary left by a process that no
# longer exists (SIGKILL) is removed by the next render, while a user's own files and a
# live process's temporary stay.
source "$(dirname "$0")/lib.sh" "$1"

"$topdown" demo --export "$dir/song" --seconds 60 --tracks 16 >/dev/null || bad "export"
{ cat "$dir/song/session.toml"; printf '[variants.sweep]\n"master.trim.gain_db" = [-3, -2, -1, 0]\n'; } >"$dir/song/swept.toml"
for sig in TERM INT; do
  for delay in 0.3 0.8 1.5 2.5; do
    out="$dir/out-$sig-$delay"
    "$topdown" render "$dir/song/swept.toml" -o "$out" --backend cpu >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -s "$sig" "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    want=$([ "$sig" = TERM ] && echo 143 || echo 130)
    # A render that finished before the signal exits 0; otherwise 143 / 130.
    [ "$rc" -eq "$want" ] || [ "$rc" -eq 0 ] || bad "SIG$sig after ${delay}s: exit $rc, expected $want"
    left=$(find "$out" -name '*.partial-*' 2>/dev/null)
    [ -z "$left" ] || bad "SIG$sig after ${delay}s left temporaries: $left"
    echo "ok: SIG$sig after ${delay}s: exit $rc, no temporary"
  done
done

# Stale temporaries: a dead process's (pid 2^22 + 1 is above Linux's pid_max default of 2^22)
# is removed; a live one's (this shell's) and a user's own files are kept.
mkdir -p "$dir/out-stale/variants"
touch "$dir/out-stale/.master.wav.partial-4194305" "$dir/out-stale/variants/.v0001.wav.partial-4194305"
touch "$dir/out-stale/.report.json.partial-$$" "$dir/out-stale/notes.txt" "$dir/out-stale/.partial-x"
"$topdown" render "$dir/song/session.toml" -o "$dir/out-stale" --backend cpu >/dev/null 2>&1 || bad "render"
[ -e "$dir/out-stale/.master.wav.partial-4194305" ] && bad "a dead process's temporary stayed"
[ -e "$dir/out-stale/variants/.v0001.wav.partial-4194305" ] && bad "a dead process's variant temporary stayed"
[ -e "$dir/out-stale/.report.json.partial-$$" ] || bad "a live process's temporary was removed"
[ -e "$dir/out-stale/notes.txt" ] || bad "the user's own file was removed"
[ -e "$dir/out-stale/.partial-x" ] || bad "a file topdown did not name was removed"
exit $fail
