#!/usr/bin/env bash
# report.html in headless Chromium (issues #7, #21): renders a session without references
# (the page shows the mix's own analysis) and a swept one of 8 variants against two
# references, one with a hostile file name (the page must stay under 10 MB),
# then report_html_test.py loads the page and checks it (no console errors, one ranking row
# per variant, the SVG plots, the A/B player switching sources), saving a screenshot to
# ARTIFACT_DIR/report_html.png. Chromium, its driver and Selenium come from Debian and are
# installed here when missing; where they cannot be installed the test is skipped (77).
set -u
topdown="$1"
artifacts="$2"
have() {
  [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] &&
    /usr/bin/python3 -c "import selenium" 2>/dev/null
}
if ! have && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium, chromium-driver and python3-selenium from Debian..."
  packages=(chromium chromium-driver python3-selenium)
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${packages[@]}" >/tmp/topdown-chromium.log 2>&1 ||
    { apt-get update >>/tmp/topdown-chromium.log 2>&1 &&
      apt-get install -y --no-install-recommends "${packages[@]}" >>/tmp/topdown-chromium.log 2>&1; }
fi
if ! have; then
  echo "SKIP: headless Chromium is not available and could not be installed (apt-get install" \
    "chromium chromium-driver python3-selenium needs root and Debian's archive)"
  exit 77
fi

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
set -e
"$topdown" demo --export "$dir/song" --seconds 30 --tracks 8 >/dev/null
"$topdown" render "$dir/song/session.toml" -o "$dir/plain" --backend cpu >/dev/null
# The reference's file name is hostile (issue #17): it reaches the page's embedded JSON, and
# "<!--<script>" there once blanked the page; every check below needs the DOM intact.
cp "$dir/plain/master.wav" "$dir/song/ref<!--<script>x.wav"
# A master compressor (its gain reduction is plotted) and a limiter.
sed -i 's|^chain = \[ { type = "gain", id = "trim", gain_db = -2.0 },$|chain = [ { type = "gain", id = "trim", gain_db = -2.0 }, { type = "compressor", id = "glue", threshold_db = -30, ratio = 2 },|' "$dir/song/session.toml"
grep -q 'id = "glue"' "$dir/song/session.toml"
cat >>"$dir/song/session.toml" <<'TOML'

[[reference]]
file = "ref<!--<script>x.wav"

[[reference]]
file = "ref2.wav"

[variants.sweep]
"master.glue.ratio" = [1.5, 4]
"drums.fader_db" = [-2, 0, 2, 4]
TOML
cp "$dir/plain/master.wav" "$dir/song/ref2.wav"
# 8 variants written and 2 references: the page with every player stays under 10 MB.
"$topdown" render "$dir/song/session.toml" -o "$dir/out" --backend cpu >/dev/null
set +e
size=$(stat -c %s "$dir/out/report.html")
echo "report.html with 8 variants and 2 references: $size bytes"
[ "$size" -lt 10000000 ] || { echo "FAIL: report.html is $size bytes (limit 10 MB)"; exit 1; }
mkdir -p "$artifacts"
/usr/bin/python3 "$(dirname "$0")/report_html_test.py" "$dir/plain" "$artifacts/report_html_no_reference.png" \
  --no-reference || exit 1
/usr/bin/python3 "$(dirname "$0")/report_html_test.py" "$dir/out" "$artifacts/report_html.png"
