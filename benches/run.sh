#!/usr/bin/env bash
# Benchmarks: synthetic snapshots (1M, 10M objects), `pymem summary` wall time and peak RSS
# (median of 5), the engine steps, `diff` and `leaks` on a leaking process's snapshots, the
# read from outside against the agent and guppy3 on real heaps, and the agent on a real heap. Takes a few minutes and
# ~3 GB of disk under bench-data/ (ignored by git).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
mkdir -p bench-data
gen() { [ -f "bench-data/$1.jsonl" ] || ./target/release/pymem-gen --objects "$2" --refs-per-object 3 --shape "$3" -o "bench-data/$1.jsonl"; }
gen synth-1m 1000000 realistic
gen synth-1m-random 1000000 random
gen synth-10m 10000000 realistic
gen synth-10m-random 10000000 random
for f in synth-1m synth-10m; do
  for i in 1 2 3 4 5; do
    /usr/bin/time -f "%e %M" ./target/release/pymem summary "bench-data/$f.jsonl" 2>&1 >/dev/null | tail -1
  done | sort -n | awk -v f="$f" -v size="$(stat -c %s "bench-data/$f.jsonl")" \
    'NR==3 {printf "summary %-16s median %.2f s, peak RSS %d MiB (file %d MiB)\n", f, $1, $2/1024, size/1048576}'
done
cargo bench -q --bench engine -- bench-data/synth-1m.jsonl bench-data/synth-1m-random.jsonl \
  bench-data/synth-10m.jsonl bench-data/synth-10m-random.jsonl --runs 3
# diff and leaks: one leaking process, baseline + two rounds of 10,000 entries.
for k in 0 10000 20000; do
  [ -f "bench-data/leak-1m-$k.jsonl" ] || ./target/release/pymem-gen --objects 1000000 --leak $k -o "bench-data/leak-1m-$k.jsonl"
done
for cmd in "diff bench-data/leak-1m-0.jsonl bench-data/leak-1m-10000.jsonl" \
           "leaks bench-data/leak-1m-0.jsonl bench-data/leak-1m-10000.jsonl bench-data/leak-1m-20000.jsonl"; do
  for i in 1 2 3 4 5; do
    # shellcheck disable=SC2086
    /usr/bin/time -f "%e %M" ./target/release/pymem $cmd 2>&1 >/dev/null | tail -1
  done | sort -n | awk -v c="${cmd%% *}" 'NR==3 {printf "%-6s 1M-object snapshots: median %.2f s, peak RSS %d MiB\n", c, $1, $2/1024}'
done
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e %M" ./target/release/pymem frag bench-data/synth-1m.jsonl 2>&1 >/dev/null | tail -1
done | sort -n | awk 'NR==3 {printf "frag   1M-object snapshot: median %.2f s, peak RSS %d MiB\n", $1, $2/1024}'
# End to end: load, dominators, paths and the table of `pymem top` on 10M objects.
for i in 1 2 3 4 5; do
  /usr/bin/time -f "%e %M" ./target/release/pymem top bench-data/synth-10m.jsonl 2>&1 >/dev/null | tail -1
done | sort -n | awk 'NR==3 {printf "top    10M-object snapshot end to end: median %.2f s, peak RSS %d MiB\n", $1, $2/1024}'
# Capture: read from outside against the agent and guppy3, on heaps of 1M and 10M objects.
py12=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12.* | sort -V | tail -1)/bin/python3
[ -d "target/pydeps/bench-$(basename "$(dirname "$(dirname "$py12")")")" ] ||
  tests/py/install-deps.sh "$py12" "target/pydeps/bench-$(basename "$(dirname "$(dirname "$py12")")")" guppy3 ||
  echo "guppy3 could not be installed: heapy comparison skipped"
for n in 1000000 10000000; do
  PYTHONPATH="target/pydeps/bench-$(basename "$(dirname "$(dirname "$py12")")")" python3 benches/capture_bench.py "$py12" "$n" 5
done
py=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.11.* | sort -V | tail -1)/bin/python3
"$py" benches/agent_bench.py 250000 bench-data/agent.jsonl
cargo bench -q --bench engine -- bench-data/agent.jsonl --runs 3
# heapy in process on the same kind of heap, when guppy3 is installed for that Python.
if "$py" -c "import guppy" 2>/dev/null; then
  "$py" benches/heapy_compare.py 250000
else
  echo "heapy comparison skipped: $py -m pip install guppy3"
fi
