# Shared by the security tests: `topdown` (the binary, $1), a temporary `dir` removed at
# exit, and `bad MESSAGE`, which records a failure (the test exits with $fail).
set -u
topdown="$1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
