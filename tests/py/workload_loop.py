"""Snapshots taken inside a loop over enumerate(): the iterator sits on the running frame's
value stack, which no capture records, so it is held from outside and new in each one.

usage: workload_loop.py AGENT_DIR OUT_DIR
"""
import os
import sys

sys.path.insert(0, sys.argv[1])
import pymem_agent

kept = []


def take(name):
    for _i, path in enumerate([os.path.join(sys.argv[2], name)]):
        pymem_agent.dump(path, collect=True)


take("a.jsonl")
kept.extend([object()] * 10)
take("b.jsonl")
