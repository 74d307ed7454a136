#!/usr/bin/env bash
# Reports safe to open in a spreadsheet (docs/security.md): batch.csv and report.csv read
# back with Python's csv module have the same columns on every row, and a cell that would
# run as a formula (a session whose stem is "=2+3.wav": its error message starts with "=")
# is neutralised with a leading '. Processor ids are restricted like node names.
source "$(dirname "$0")/lib.sh" "$1"

"$topdown" demo --export "$dir/song" --seconds 3 --tracks 8 >/dev/null || bad "export"
cp "$dir/song/session.toml" "$dir/song/ok.toml"
printf '[[track]]\nname = "x"\nfile = "=2+3.wav"\n' >"$dir/song/=1+2.toml"
printf 'ok.toml\n=1+2.toml\n' >"$dir/song/jobs.txt"
# Relative paths: the failing session's message then starts with its stem's name, "=2+3".
(cd "$dir/song" && "$topdown" batch jobs.txt -o "$dir/out" --backend cpu >/dev/null 2>&1)
[ $? -eq 3 ] || bad "batch: one session should fail (exit 3)"
{ cat "$dir/song/session.toml"; printf '[variants.sweep]\n"master.trim.gain_db" = [-3, -1]\n'; } >"$dir/song/swept.toml"
"$topdown" render "$dir/song/swept.toml" -o "$dir/swept" --backend cpu >/dev/null 2>&1 || bad "render"

/usr/bin/python3 - "$dir/out/batch.csv" "$dir/swept/report.csv" <<'PY' || fail=1
import csv, sys
bad = False
for path in sys.argv[1:]:
    rows = list(csv.reader(open(path, newline="")))
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        print(f"FAIL: {path}: rows of different widths {widths}"); bad = True
    for r in rows:
        for cell in r:
            if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not cell.lstrip("-").replace(".", "", 1).replace("e-", "", 1).replace("e+", "", 1).isdigit()):
                print(f"FAIL: {path}: a live formula cell {cell!r}"); bad = True
batch = list(csv.DictReader(open(sys.argv[1], newline="")))
failed = [r for r in batch if r["status"] == "failed"]
if not failed or not failed[0]["error"].startswith("'="):
    print(f"FAIL: the failed session's error cell is not neutralised: {failed}"); bad = True
else:
    print("ok: formula cell neutralised:", failed[0]["error"][:40])
sys.exit(1 if bad else 0)
PY

printf '[master]\nchain = [ { type = "gain", id = "=HYPERLINK(1)", gain_db = 0 } ]\n' >"$dir/song/id.toml"
"$topdown" render "$dir/song/id.toml" -o "$dir/id" --backend cpu >/dev/null 2>"$dir/err"
[ $? -eq 1 ] || bad "a processor id with a formula should be refused (exit 1)"
grep -q "chain\[0\].id" "$dir/err" || bad "the message names the key: $(cat "$dir/err")"
exit $fail
