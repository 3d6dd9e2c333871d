"""Drive headless Chromium through its DevTools protocol, over a pipe (no websocket, no
browser download): load one page, run a list of steps, print the results as JSON.

    python3 cdp.py URL STEPS.json

Steps (a JSON list), each one of:
    {"eval": "js expression"}          -> its value (awaited, returned by value)
    {"click": "css selector"}          -> a real mouse click at the element's centre
    {"type": "text"}                   -> text typed into the focused element
    {"wait": "js expression"}          -> waits (up to 10 s) until it is truthy
    {"shot": "/path/file.png"}         -> a screenshot of the viewport
Output: {"results": [one per step], "errors": [console errors, exceptions, CSP reports],
"load_ms": time from navigation to the page's load event}.
"""

import base64
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import time

WIDTH, HEIGHT = 1280, 800


class Browser:
    def __init__(self, profile):
        # Chromium reads commands on fd 3 and writes replies on fd 4, each ending in NUL.
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome_r, from_chrome_w)]

        def wire():
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        self.proc = subprocess.Popen(
            [
                "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--force-device-scale-factor=1", "--remote-debugging-pipe",
                f"--window-size={WIDTH},{HEIGHT}", f"--user-data-dir={profile}", "about:blank",
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=wire, pass_fds=(3, 4),
        )
        for fd in (to_chrome_r, from_chrome_w, *high):
            os.close(fd)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def send(self, method, params=None, session=True, timeout=30):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, name, timeout=30):
        deadline = time.monotonic() + timeout
        for i, e in enumerate(self.events):
            if e["method"] == name:
                return self.events.pop(i)
        while True:
            e = self._read_message(deadline)
            if e.get("method") == name:
                return e
            if "method" in e:
                self.events.append(e)

    def close(self):
        try:
            self.send("Browser.close", session=False, timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)


def errors_of(events):
    out = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            out.append("log: " + p["entry"]["text"])
    return out


def evaluate(b, expr):
    r = b.send("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
    if "exceptionDetails" in r:
        raise RuntimeError(f"{expr}: {r['exceptionDetails']}")
    return r["result"].get("value")


def run(url, steps):
    with tempfile.TemporaryDirectory(prefix="pymem-cdp-") as profile:
        b = Browser(profile)
        try:
            targets = b.send("Target.getTargets", session=False)["targetInfos"]
            page = next(t for t in targets if t["type"] == "page")
            b.session = b.send("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                               session=False)["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                b.send(domain + ".enable")
            b.send("Emulation.setDeviceMetricsOverride",
                   {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
            start = time.monotonic()
            b.send("Page.navigate", {"url": url})
            b.wait_event("Page.loadEventFired")
            load_ms = (time.monotonic() - start) * 1000
            results = []
            for step in steps:
                results.append(do(b, step))
            # Let late errors arrive.
            evaluate(b, "new Promise(r => setTimeout(r, 100))")
            return {"results": results, "errors": errors_of(b.events), "load_ms": load_ms}
        finally:
            b.close()


def do(b, step):
    if "eval" in step:
        return evaluate(b, step["eval"])
    if "wait" in step:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            v = evaluate(b, step["wait"])
            if v:
                return v
            time.sleep(0.05)
        raise TimeoutError("waited in vain for " + step["wait"])
    if "click" in step:
        sel = json.dumps(step["click"])
        box = evaluate(b, f"(() => {{ const e = document.querySelector({sel}); if (!e) return null; "
                          "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); "
                          "return [r.left + Math.min(r.width / 2, 40), r.top + r.height / 2]; })()")
        if box is None:
            raise RuntimeError("nothing to click at " + step["click"])
        for kind in ("mousePressed", "mouseReleased"):
            b.send("Input.dispatchMouseEvent",
                   {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1})
        return box
    if "type" in step:
        b.send("Input.insertText", {"text": step["type"]})
        return None
    if "shot" in step:
        data = b.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(step["shot"], "wb") as f:
            f.write(base64.b64decode(data))
        return step["shot"]
    raise ValueError(f"unknown step {step}")


if __name__ == "__main__":
    with open(sys.argv[2]) as f:
        steps = json.load(f)
    json.dump(run(sys.argv[1], steps), sys.stdout)
