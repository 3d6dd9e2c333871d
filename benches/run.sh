#!/usr/bin/env bash
# Benchmarks: synthetic snapshots (1M, 10M objects), `pymem summary` wall time and peak RSS
# (median of 5), the engine steps, and the agent on a real heap. Takes a few minutes and
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
py=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.11.* | sort -V | tail -1)/bin/python3
"$py" benches/agent_bench.py 250000 bench-data/agent.jsonl
cargo bench -q --bench engine -- bench-data/agent.jsonl --runs 3
