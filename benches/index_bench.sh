#!/usr/bin/env bash
# The persistent index (issue 27): first open (the JSON parsed, the index written) against
# re-open (the index mapped; checked in full, then as stamped) on a synthetic 10M-object /
# 30M-reference snapshot, wall time and peak RSS, medians of RUNS runs (first opens: of 3).
# Also `diff` and `leaks` of three
# indexed 10M-object snapshots of one leaking process, and the index's size beside the
# JSON's. OBJECTS=100000000 runs the scale test (about 10 GB of JSON under bench-data/;
# not part of CI). Usage: benches/index_bench.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
objects=${OBJECTS:-10000000}
tag=$((objects / 1000000))m
cargo build --release -q
mkdir -p bench-data
# The cache (stamps of indexes checked in full) of this benchmark only.
export XDG_CACHE_HOME=$PWD/bench-data/cache
pymem=./target/release/pymem
snap=bench-data/synth-$tag.jsonl
[ -f "$snap" ] || ./target/release/pymem-gen --objects "$objects" --refs-per-object 3 -o "$snap"

# median wall seconds and peak RSS (MiB) of a command run $1 times; $2... the command;
# PREP (if set) runs before each run, untimed.
median() {
  local n=$1; shift
  for _ in $(seq "$n"); do
    [ -z "${PREP:-}" ] || eval "$PREP"
    /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
  done | sort -n | awk -v n="$n" 'NR==int((n+1)/2) {printf "%.2f s, peak RSS %d MiB", $1, $2/1024}'
}

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
echo "snapshot: $snap, $(stat -c %s "$snap" | awk '{printf "%.0f MiB", $1/1048576}')"
addr=$($pymem top "$snap" --format json --limit 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"][0]["addr"])')
echo "index: $(stat -c %s "$snap.pmi" | awk '{printf "%.0f MiB", $1/1048576}')"
echo "summary, no index (JSON parsed)  : $(median 3 $pymem --no-index summary "$snap")"
echo "top, no index (JSON + graph)     : $(median 3 $pymem --no-index top "$snap")"
echo "summary, first open (+ index)    : $(PREP="rm -f $snap.pmi" median 3 $pymem summary "$snap")"
echo "top, first open (+ whole index)  : $(PREP="rm -f $snap.pmi" median 3 $pymem top "$snap")"
$pymem index "$snap" >/dev/null
sleep 1.1 # a file changed less than a second ago is checked in full every time
echo "top, re-open, index checked      : $(PREP="rm -rf $XDG_CACHE_HOME/pymem/verified" median "$runs" $pymem top "$snap")"
echo "show ADDR, re-open, index checked: $(PREP="rm -rf $XDG_CACHE_HOME/pymem/verified" median "$runs" $pymem show "$snap" "$addr")"
$pymem top "$snap" >/dev/null # checked in full once: its state is stamped
echo "summary, re-open                 : $(median "$runs" $pymem summary "$snap")"
echo "top, re-open                     : $(median "$runs" $pymem top "$snap")"
echo "top --by type, re-open           : $(median "$runs" $pymem top "$snap" --by type)"
echo "show ADDR, re-open               : $(median "$runs" $pymem show "$snap" "$addr")"
echo "path ADDR, re-open               : $(median "$runs" $pymem path "$snap" "$addr")"
echo "path --type app.cache.Entry      : $(median "$runs" $pymem path "$snap" --type app.cache.Entry)"
for k in 0 10000 20000; do
  f=bench-data/leak-$tag-$k.jsonl
  [ -f "$f" ] || ./target/release/pymem-gen --objects "$objects" --leak $k -o "$f"
  $pymem index "$f" >/dev/null
done
sleep 1.1
for k in 0 10000 20000; do $pymem top "bench-data/leak-$tag-$k.jsonl" >/dev/null; done
a=bench-data/leak-$tag-0.jsonl b=bench-data/leak-$tag-10000.jsonl c=bench-data/leak-$tag-20000.jsonl
echo "diff a b, indexed                : $(median "$runs" $pymem diff "$a" "$b")"
echo "leaks a b c, indexed             : $(median "$runs" $pymem leaks "$a" "$b" "$c")"
echo "diff a b, no index               : $(median 3 $pymem --no-index diff "$a" "$b")"
echo "leaks a b c, no index            : $(median 3 $pymem --no-index leaks "$a" "$b" "$c")"
