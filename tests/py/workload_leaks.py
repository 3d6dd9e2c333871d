"""Run one leakshop scenario and take baseline, target and final snapshots.

usage: workload_leaks.py AGENT_DIR SCENARIO OUT_DIR [ITERATIONS_PER_ROUND]

Writes OUT_DIR/a.jsonl (after a warm-up), b.jsonl and c.jsonl (after each round)."""
import os
import sys

sys.path.insert(0, sys.argv[1])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pymem_agent  # noqa: E402
import leakshop  # noqa: E402

step = getattr(leakshop, sys.argv[2])
out = sys.argv[3]
per_round = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
i = 0
for _ in range(50):  # warm-up: lazily created state settles before the baseline
    step(i)
    i += 1
for name in ("a", "b", "c"):
    pymem_agent.dump(os.path.join(out, name + ".jsonl"), collect=True)
    if name == "c":
        break
    for _ in range(per_round):
        step(i)
        i += 1
