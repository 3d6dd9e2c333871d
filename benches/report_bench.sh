#!/usr/bin/env bash
# The HTML report (issue 29) on 10M-object snapshots: `pymem report` from an index (wall
# time and peak RSS, median of RUNS), the page's size, and headless Chromium's time from
# navigation to a drawn, clickable page and to the first search (tests/py/cdp.py), medians.
# Two shapes: pymem-gen's realistic heap (a flat dominator tree) and the same with a linked
# list of 1M nodes (the deepest tree: every node retains the rest, so the page holds its
# 50,000-node bound and paths 50,000 steps long). Usage: benches/report_bench.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release -q
mkdir -p bench-data
export XDG_CACHE_HOME=$PWD/bench-data/cache
pymem=./target/release/pymem
python=${PYTHON:-python3}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

for shape in flat chain; do
  snap=bench-data/report-$shape-10m.jsonl
  if [ ! -f "$snap" ]; then
    if [ $shape = flat ]; then
      ./target/release/pymem-gen --objects 10000000 --refs-per-object 3 -o "$snap"
    else
      ./target/release/pymem-gen --objects 9000000 --chain 1000000 --refs-per-object 3 -o "$snap"
    fi
  fi
  $pymem index "$snap" >/dev/null
  sleep 1.1 # an index is stamped as checked once it has not changed for a second
  $pymem top "$snap" --limit 1 >/dev/null # checks it in full and stamps it
  page=bench-data/report-$shape.html
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" $pymem report "$snap" -o "$page" 2>&1 >/dev/null | tail -1
  done | sort -n | awk -v n="$runs" -v s=$shape 'NR==int((n+1)/2) {printf "%s: pymem report %.2f s, peak RSS %d MiB\n", s, $1, $2/1024}'
  echo "$shape: page $(stat -c %s "$page" | awk '{printf "%.2f MB", $1/1e6}')"
  steps=$(mktemp)
  cat >"$steps" <<'EOF'
[{"wait": "document.body.dataset.ready === '1'"},
 {"click": "#tab-retained"},
 {"eval": "performance.now()"},
 {"click": "#search"}, {"type": "Node"},
 {"eval": "performance.now()"}]
EOF
  ready=(); searched=()
  for _ in $(seq "$runs"); do
    read -r a b < <($python tests/py/cdp.py "file://$PWD/$page" "$steps" |
      $python -c 'import json,sys; d=json.load(sys.stdin); assert not d["errors"], d["errors"]; print(int(d["results"][2]), int(d["results"][5]))')
    ready+=("$a"); searched+=("$b")
  done
  rm -f "$steps"
  echo "$shape: in chromium, drawn and clickable at $(printf '%s\n' "${ready[@]}" | median) ms, first search answered at $(printf '%s\n' "${searched[@]}" | median) ms (from navigation)"
done
