"""A class presses Train at once: N sessions submit the Playground's default experiment (one
link, one spec) to the server's JobManager together; prints when each saw its first epoch (headless: no pages, no
browsers, so it measures the queue and the training, not Streamlit).

    NNPLAY_HOSTED=1 python scripts/class_burst.py [--sessions 16] [--pace 10] [--slots 2] [--cold]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=16)
    parser.add_argument("--pace", type=float, default=None, help="epochs/s (default: full speed)")
    parser.add_argument("--slots", type=float, default=2)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--cold", action="store_true", help="skip the server's warm start")
    args = parser.parse_args(argv)
    os.environ["NNPLAY_HOME"] = tempfile.mkdtemp(prefix="nnplay_burst_")
    from nnplay.data import load
    from nnplay.job import MANAGER as manager   # the server's, which the warm start told
    from nnplay.spec import Experiment
    from nnplay.store import RunStore, attach
    if not args.cold:   # as a server does when it starts (nnplay.warmup)
        from nnplay import warmup
        warmup.start()
        warmup.wait(120)
    exp = Experiment()
    exp.train.epochs = args.epochs
    data, store = load(exp.data), RunStore()
    manager.max_running = args.slots
    start = time.perf_counter()
    jobs = []
    for i in range(args.sessions):
        job = manager.submit(exp, dataset=data, owner=f"student-{i}", pace=args.pace)
        attach(job, store)
        jobs.append(job)
    first: dict = {}
    waits = {job.id: job.snapshot().queue_wait for job in jobs}
    while len(first) < len(jobs):
        for job in jobs:
            if job.id not in first and job.progress()[1] >= 1:
                first[job.id] = time.perf_counter() - start
        time.sleep(0.02)
    for job in jobs:
        job.wait(600)
    done = time.perf_counter() - start
    told = ", ".join(f"{waits[j.id]:.0f}" if waits[j.id] is not None else "-" for j in jobs)
    print(f"{args.sessions} sessions, pace {args.pace}, {args.slots} slots: first point after "
          f"{min(first.values()):.1f}-{max(first.values()):.1f} s (last), all finished after "
          f"{done:.1f} s; waits announced at submit (s): {told}")


if __name__ == "__main__":
    main()
