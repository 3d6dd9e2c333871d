"""The Flask service of issue 30's first-time user: an lru_cache on a method (B019) keeps
every request's Pricing, and its context, alive. Traced by tracemalloc (8 frames).

usage: PYTHONPATH=FLASK_DEPS workload_flask.py
Prints `PORT PID` once it serves on 127.0.0.1, then serves until killed."""

import functools
import os
import tracemalloc

tracemalloc.start(8)

from flask import Flask, request  # noqa: E402

app = Flask(__name__)


class Pricing:
    def __init__(self, ctx):
        self.ctx = ctx

    @functools.lru_cache(maxsize=None)  # noqa: B019 (the leak this service has)
    def quote(self, n):
        return {"n": n, "price": round(n * 1.07, 2)}


@app.get("/quote/<int:n>")
def quote(n):
    pricing = Pricing({"path": request.path, "agent": request.headers.get("User-Agent", "")})
    return pricing.quote(n)


@app.get("/health")
def health():
    return "ok"


if __name__ == "__main__":
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    print(server.server_port, os.getpid(), flush=True)
    server.serve_forever()
