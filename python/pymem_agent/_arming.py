"""Arming a long-lived program: snapshots on a signal, every N seconds or at exit
(install), and the entry points that `pymem run` and `pymem attach --method inject` call."""

import json
import os
import sys
import time

from ._capture import _CAPTURE_LOCK, _CAPTURE_OWNER, dump


def install(
    signal=None, directory=".", *, every=None, at_exit=False, tracemalloc=0, values=False,
    follow_forks=False,
):
    """Arm snapshots in a running program; each goes to DIRECTORY/pymem-PID-NNN-REASON.jsonl
    and its path is printed on stderr.

    signal: a signal number (e.g. signal.SIGUSR2): a snapshot whenever it arrives (the
      handler runs in the main thread; a handler installed before is still called after);
    every: seconds between periodic snapshots (from a daemon thread);
    at_exit: a snapshot when the interpreter exits normally, and on SIGTERM (what `docker
      stop`, systemd and Kubernetes send) while the program has no SIGTERM handler of its
      own: the snapshot is taken, then the program ends of that SIGTERM as it would have;
    tracemalloc: start tracemalloc with this many frames, so snapshots record where each
      object was allocated (costs memory and time while the program runs);
    values: record string contents (private data) in the snapshots;
    follow_forks: children forked from this process take snapshots too (named by their own
      pid). Without it only the process that called install() takes any: a forked worker
      inherits the signal handler and the at-exit hook, and they do nothing in it.
    """
    directory = os.path.abspath(os.fspath(directory))
    os.makedirs(directory, exist_ok=True)
    if tracemalloc:
        import tracemalloc as _tm

        if not _tm.is_tracing():
            _tm.start(int(tracemalloc))
    count = [0]
    armed_pid = os.getpid()

    def snapshot(reason):
        if not follow_forks and os.getpid() != armed_pid:
            return None
        count[0] += 1
        path = os.path.join(directory, "pymem-%d-%03d-%s.jsonl" % (os.getpid(), count[0], reason))
        if reason == "exit" and _tracing():
            _say("pymem: taking the snapshot at exit (tracemalloc is tracing: this can take minutes)")
        try:
            dump(path, values=values)
        except Exception as e:  # a failed snapshot must never take the program down
            _say("pymem: snapshot failed (%s: %s)" % (type(e).__name__, e))
            return None
        _say("pymem: wrote %s" % path)
        return path

    if signal is not None:
        import signal as _signal

        previous = _signal.getsignal(signal)

        def on_signal(signum, frame):
            snapshot("signal")
            if callable(previous):
                previous(signum, frame)

        _signal.signal(signal, on_signal)
    if at_exit:
        import atexit

        atexit.register(snapshot, "exit")
        _snapshot_on_sigterm(snapshot)
    if every:
        import atexit
        import threading

        def finish_in_flight():
            # A periodic capture still running when the program ends would die with its
            # daemon thread: wait for it (dump() takes one capture at a time).
            if _CAPTURE_OWNER[0] is not None:
                _say("pymem: waiting for the snapshot in progress to finish")
                _CAPTURE_LOCK.acquire()
                _CAPTURE_LOCK.release()

        atexit.register(finish_in_flight)

        def periodic():
            while True:
                time.sleep(float(every))
                snapshot("every")

        threading.Thread(target=periodic, name="pymem-every", daemon=True).start()
    return snapshot


def _snapshot_on_sigterm(snapshot):
    """SIGTERM's default action ends the program without running atexit: while the program
    keeps that default, SIGTERM takes the at-exit snapshot first, then ends it the same way
    (default action restored, the signal raised again: the same exit status)."""
    import signal as _signal

    try:
        if _signal.getsignal(_signal.SIGTERM) != _signal.SIG_DFL:
            return  # the program's own handler decides what SIGTERM does

        def on_term(signum, frame):
            snapshot("exit")
            _signal.signal(_signal.SIGTERM, _signal.SIG_DFL)
            os.kill(os.getpid(), _signal.SIGTERM)

        _signal.signal(_signal.SIGTERM, on_term)
    except ValueError:  # not the main thread: signal handlers can only be set there
        _say("pymem: SIGTERM will end the program without the at-exit snapshot (armed outside the main thread)")


def _tracing():
    tm = sys.modules.get("tracemalloc")
    try:
        return bool(tm and tm.is_tracing())
    except Exception:
        return False


def _say(text):
    try:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()
    except Exception:
        pass


def _run_main(config):
    """`pymem run`: arm the snapshots in CONFIG, then run the program the way `python` would
    (a script with its directory first on sys.path, or `-m module`), exit code untouched."""
    import runpy

    c = json.loads(config)
    # The program is found before anything is armed: a program that cannot start gets one
    # line and status 2, and no snapshot of a program that never ran.
    args = sys.argv[1:]
    if args and args[0] == "-m":
        code = None
    else:
        try:
            with open(os.path.abspath(args[0]), "rb") as f:
                source = f.read()
        except OSError as e:
            _say("pymem: cannot run %s: %s" % (args[0], e.strerror or e))
            sys.exit(2)
        code = compile(source, args[0], "exec")
    install(
        c.get("signal"),
        c["directory"],
        every=c.get("every"),
        at_exit=c.get("at_exit", False),
        tracemalloc=c.get("tracemalloc", 0),
        values=c.get("values", False),
        follow_forks=c.get("follow_forks", False),
    )
    # Run in the real __main__ module, as `python` does: its globals then live until the
    # interpreter shuts down (after atexit), not only until the code returns.
    main = sys.modules["__main__"].__dict__
    for name in ("sys", "pymem_agent"):  # the bootstrap's own names
        main.pop(name, None)
    if code is None:
        sys.argv = args[1:]
        runpy._run_module_as_main(args[1], alter_argv=True)
    else:
        sys.argv = args
        sys.path[0] = os.path.dirname(os.path.abspath(args[0]))
        main.update(__file__=args[0], __cached__=None)
        exec(code, main)


def _attach(path, values, status):
    """`pymem attach`: a snapshot taken from a debugger's call into the process. Never
    raises (an exception would surface in the debugger, not here); the outcome goes to the
    file STATUS for pymem to read."""
    try:
        result = dump(path, values=values)
        message = "ok %d" % result["objects"]
    except BaseException as e:
        message = "error %s: %s" % (type(e).__name__, e)
    try:
        with open(status, "w") as f:
            f.write(message)
    except Exception:
        pass
