"""Warm start: import TensorFlow and train a tiny model once, in the background, as the
server starts, so that the first student to press Train does not wait for either.

On a quiet 2-core machine `import tensorflow` takes several seconds and the first traced and
XLA-compiled training function a few more; paid by whoever presses Train first, they are the
longest wait a class sees. The run is the Playground's default, so a class pressing Train on
it finds its training graph traced already (`nnplay.graphs`). `start()` pays them once per process, on a daemon thread, as the
server starts (app.py's st.App lifespan; main.py calls it again, which does nothing, for a
server started without app.py); `ready()` tells pages whether TensorFlow is loaded yet.
"""
from __future__ import annotations

import logging
import sys
import threading

_started = threading.Lock()
_ready = threading.Event()
_thread: threading.Thread | None = None
WARMUP_EPOCHS = 40   # past the eager first call and the compiled second one
# A class's server runs its pages' scripts and its jobs in one interpreter. A model being
# built hands the GIL back at each of its many small TensorFlow calls and, with pages' scripts
# running, waits up to the switch interval (5 ms by default) to get it again. At 0.5 ms, 16
# builds beside 16 threads busy 15-30 ms twice a second (a class's polling pages) drew their
# last first point in 2.6-5.1 s instead of 3.8-7.4 s (paired, 4 runs).
HOSTED_SWITCH_S = 0.0005


def start() -> None:
    """Begin warming up on a background thread (once per process; later calls do nothing).
    A hosted server also hands the GIL around more often (HOSTED_SWITCH_S)."""
    global _thread
    from . import config
    if config.hosted():
        sys.setswitchinterval(HOSTED_SWITCH_S)
    with _started:
        if _thread is None:
            _thread = threading.Thread(target=_warm, name="nnplay-warmup", daemon=True)
            _thread.start()


def ready() -> bool:
    """Whether TensorFlow is imported and a training function has run in this process."""
    return _ready.is_set()


def wait(timeout: float | None = None) -> bool:
    return _ready.wait(timeout)


def _warm() -> None:
    try:
        from .jobapi import backend, manager
        if backend() == "ray":
            manager()   # join Ray now: its host actors import TensorFlow while pages load
        from .job import TrainingJob
        from .spec import Experiment
        exp = Experiment()     # the Playground default: what a class opens first
        exp.train.epochs = WARMUP_EPOCHS
        TrainingJob(exp).start().wait(120)
        if backend() == "thread":   # its graph is there to share (nnplay.graphs)
            manager().note_traced(exp)
    except Exception:  # a failed warm-up only means the first real job pays the start-up
        logging.getLogger(__name__).exception("warm-up failed")
    finally:
        _ready.set()
