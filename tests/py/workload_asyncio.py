"""An asyncio program that goes on working after a snapshot (CPython gh-122695: on 3.12.0-3.12.4
gc.get_referents(<the _asyncio module>) hands out freed FutureIter objects from its free
list; a capture that calls it corrupts the heap, and the program aborts or hangs later).

usage: workload_asyncio.py AGENT_DIR OUT_DIR [unguarded]
"unguarded" empties the agent's table of unsafe traversals, to show the crash it prevents.
Prints "survived" once the work after the snapshot is done."""
import asyncio
import os
import sys

sys.path.insert(0, sys.argv[1])
import pymem_agent

if sys.argv[3:] == ["unguarded"]:
    import pymem_agent._facts

    pymem_agent._facts._UNSAFE_TRAVERSE = ()


async def main():
    # Ten tasks awaiting futures: their FutureIter objects end up in the module's free list.
    await asyncio.gather(*(asyncio.sleep(0.01) for _ in range(10)))
    pymem_agent.dump(os.path.join(sys.argv[2], "heap.jsonl"))
    for _ in range(50):
        await asyncio.gather(*(asyncio.sleep(0.001) for _ in range(10)))
    print("survived", flush=True)


asyncio.run(main())
