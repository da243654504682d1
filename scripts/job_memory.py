"""Resident memory over a long series of jobs, as a class's server runs them.

    python scripts/job_memory.py [--jobs 100] [--epochs 20] [--every 20]

Runs small jobs one after another in this process, each submitted to a JobManager under one
of a few session owners and attached to a RunStore in a throwaway home (as the pages do), and
prints the resident memory (RSS) at the start and every `--every` jobs, then MB per finished
job over the series (after the first 10 jobs, which load TensorFlow and warm its caches).
`gc.collect()` runs before each reading; `keras.backend.clear_session()` never does (it is
unsafe under training threads: see ARCHITECTURE.md's Training section). Run it as the host
runs the app: `NNPLAY_HOSTED=1 python scripts/job_memory.py` (short runs skip XLA, whose
compiled programs TensorFlow never frees; see `config.xla_min_batches`).
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
WARMUP_JOBS = 10


def rss_mb() -> float:
    """This process's resident memory, from /proc (Linux), after a full collection."""
    gc.collect()
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kb / 1024


def run_series(jobs: int, epochs: int, every: int, owners: int = 4, out=print) -> float:
    """Run the series; return MB of resident memory per finished job after the warm-up."""
    os.environ["NNPLAY_HOME"] = tempfile.mkdtemp(prefix="nnplay_memory_")
    from nnplay.data import load
    from nnplay.job import JobManager
    from nnplay.spec import Experiment
    from nnplay.store import RunStore, attach
    exp = Experiment()
    exp.train.epochs = epochs
    data = load(exp.data)
    manager, store = JobManager(max_running=1), RunStore()
    out(f"start: {rss_mb():.1f} MB")
    base = None
    for i in range(1, jobs + 1):
        exp.train.seed = i           # a new model each time, as a class's jobs are
        job = manager.submit(exp, dataset=data, owner=f"session-{i % owners}", paused=True)
        attach(job, store)
        job.resume()
        snap = job.wait(120)
        assert snap.finished, snap.status
        if i == WARMUP_JOBS:
            base = rss_mb()
        if i % every == 0 or i == jobs:
            out(f"after {i} jobs: {rss_mb():.1f} MB, {len(manager.jobs)} jobs kept by the manager")
    per_job = (rss_mb() - base) / max(jobs - WARMUP_JOBS, 1)
    out(f"{per_job:.2f} MB per finished job (jobs {WARMUP_JOBS + 1}-{jobs})")
    return per_job


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--every", type=int, default=20)
    args = parser.parse_args(argv)
    run_series(args.jobs, args.epochs, args.every)


if __name__ == "__main__":
    main()
