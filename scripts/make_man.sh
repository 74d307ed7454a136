#!/usr/bin/env bash
# Writes the man pages of topdown and of each of its commands into OUT_DIR, from the
# binary's own --help (so they cannot drift from it): topdown.1, topdown-render.1, ...
# Usage: scripts/make_man.sh TOPDOWN_BINARY OUT_DIR
set -euo pipefail
bin=$1
out=$2
mkdir -p "$out"
version=$("$bin" --version 2>/dev/null | head -n 1)
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)

# roff-safe text: a leading dot or quote is escaped, backslashes doubled.
escape() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

# page NAME SUMMARY HELP_TEXT: NAME, SYNOPSIS (the Usage line), the rest verbatim.
page() {
  local name=$1 summary=$2 help=$3
  {
    echo ".TH ${name^^} 1 \"$date\" \"$version\" \"User Commands\""
    echo ".SH NAME"
    echo "$name \\- $summary"
    echo ".SH SYNOPSIS"
    printf '%s\n' "$help" | grep -m1 '^Usage:' | sed 's/^Usage: *//' | escape
    echo ".SH DESCRIPTION"
    echo ".nf"
    printf '%s\n' "$help" | grep -v '^Usage:' | escape
    echo ".fi"
    echo ".SH SEE ALSO"
    echo "The documentation in the source tree: README.md and docs/."
  } >"$out/$name.1"
}

main_help=$("$bin" --help 2>&1)
page topdown "offline mix and mastering renderer" "$main_help"
# The commands: the lines under "Commands:" up to the blank line.
printf '%s\n' "$main_help" | sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z]*\)  *\(.*\)$/\1\t\2/p' |
  while IFS=$'\t' read -r cmd summary; do
    page "topdown-$cmd" "${summary%%:*}" "$("$bin" "$cmd" --help 2>&1)"
  done
