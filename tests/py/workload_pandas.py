"""A pandas DataFrame with int, float, str and categorical columns: pandas' own figure of
its memory (memory_usage(deep=True)), then a snapshot.

usage: workload_pandas.py AGENT_DIR SNAPSHOT TRUTH_JSON   (pandas on the path)
"""
import json
import sys

sys.path.insert(0, sys.argv[1])
import numpy as np
import pandas as pd

import pymem_agent

N = 20000
frame = pd.DataFrame(
    {
        "id": np.arange(N, dtype=np.int64),
        "score": np.linspace(0.0, 1.0, N),
        "name": ["customer-%d" % i for i in range(N)],
        "tier": pd.Categorical(["gold", "silver", "bronze", "none"] * (N // 4)),
    }
)
# pandas counts each string by sys.getsizeof; pymalloc gives it a block rounded up to 16.
rounding = sum(-sys.getsizeof(s) % 16 for s in frame["name"] if sys.getsizeof(s) <= 512)
truth = {
    "frame": id(frame),
    "memory_usage": int(frame.memory_usage(deep=True).sum()),
    "rounding": rounding,
    "pandas": pd.__version__,
}
pymem_agent.dump(sys.argv[2])
# The frame still works after the capture.
assert frame["score"].sum() > 0 and len(frame[frame["tier"] == "gold"]) == N // 4
with open(sys.argv[3], "w") as f:
    json.dump(truth, f)
