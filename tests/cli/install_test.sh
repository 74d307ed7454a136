#!/usr/bin/env bash
# `cmake --install` (README, "Install"): the binary, a man page per command that renders,
# and bash completion of commands and of each command's options; zsh's completion file is
# checked for syntax where zsh is installed.
# Usage: install_test.sh BUILD_DIR
set -euo pipefail
build=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cmake --install "$build" --prefix "$dir/usr" >"$dir/install.log"
fail() { echo "install_test: $*" >&2; exit 1; }

"$dir/usr/bin/topdown" --version >/dev/null || fail "the installed binary does not run"
commands=$("$dir/usr/bin/topdown" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\) .*/\1/p')
[ -n "$commands" ] || fail "no commands in topdown --help"
for page in topdown $(printf 'topdown-%s\n' $commands); do
  file="$dir/usr/share/man/man1/$page.1"
  [ -s "$file" ] || fail "no man page $page.1"
  # groff renders it without a warning, and the page carries the command's options.
  text=$(groff -man -Tascii -P-cbou -ww "$file" 2>"$dir/groff.err")
  [ ! -s "$dir/groff.err" ] || fail "$page.1: groff: $(cat "$dir/groff.err")"
  grep -q -- "--help" <<<"$text" || fail "$page.1 does not list --help"
done
grep -q -- "--no-bus-meters" "$dir/usr/share/man/man1/topdown-render.1" ||
  fail "topdown-render.1 lacks render's options"

bash_completion="$dir/usr/share/bash-completion/completions/topdown"
[ -s "$bash_completion" ] || fail "no bash completion"
got=$(PATH="$dir/usr/bin:$PATH" bash -c "source '$bash_completion'
  COMP_WORDS=(topdown ma); COMP_CWORD=1; _topdown; echo \"\${COMPREPLY[*]}\"
  COMP_WORDS=(topdown render --write); COMP_CWORD=2; _topdown; echo \"\${COMPREPLY[*]}\"")
[ "$(sed -n 1p <<<"$got")" = "master match" ] || fail "bash: 'topdown ma' completed to: $got"
[ "$(sed -n 2p <<<"$got")" = "--write-variants" ] || fail "bash: 'render --write' gave: $got"

zsh_completion="$dir/usr/share/zsh/site-functions/_topdown"
[ -s "$zsh_completion" ] || fail "no zsh completion"
if command -v zsh >/dev/null 2>&1; then
  zsh -n "$zsh_completion" || fail "zsh: syntax error in _topdown"
else
  echo "install_test: zsh is not installed here: its completion's syntax is not checked"
fi
echo "install_test: ok ($(wc -w <<<"$commands") commands)"
