#!/usr/bin/env bash
# Regenerates the README's screenshots of `pymem report` (docs/report-*.png) from the shipped
# fixtures: the dominator tree of a real capture with its biggest object selected, and the
# leak series of leakshop.py. Headless chromium (Debian's) through tests/py/cdp.py, 1280x800.
# Usage: tools/report-screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q
pymem=./target/debug/pymem
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
$pymem --no-index report fixtures/shop-3.12.jsonl.gz -o "$work/shop.html" >/dev/null
$pymem --no-index report fixtures/leak-a.jsonl.gz fixtures/leak-b.jsonl.gz fixtures/leak-c.jsonl.gz \
  -o "$work/leaks.html" >/dev/null
cat >"$work/tree.json" <<STEPS
[{"wait": "document.body.dataset.ready === '1'"},
 {"click": "#tab-retained"},
 {"click": "#icicle .node[data-node='0']"},
 {"shot": "$PWD/docs/report-tree.png"}]
STEPS
cat >"$work/leaks.json" <<STEPS
[{"wait": "document.body.dataset.ready === '1'"},
 {"shot": "$PWD/docs/report-leaks.png"}]
STEPS
$python tests/py/cdp.py "file://$work/shop.html" "$work/tree.json" >/dev/null
$python tests/py/cdp.py "file://$work/leaks.html" "$work/leaks.json" >/dev/null
echo "docs/report-tree.png docs/report-leaks.png"
