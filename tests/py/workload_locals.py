"""A list held only by a running function's local variable.

usage: workload_locals.py AGENT_DIR SNAPSHOT TRUTH_JSON
"""
import json
import sys

sys.path.insert(0, sys.argv[1])
import pymem_agent


class Held:
    pass


def serve():
    pending = [Held() for _ in range(250)]
    pymem_agent.dump(sys.argv[2])
    return id(pending[7])


with open(sys.argv[3], "w") as f:
    json.dump({"addr": serve()}, f)
