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
import threading

_started = threading.Lock()
_ready = threading.Event()
_thread: threading.Thread | None = None
WARMUP_EPOCHS = 40   # past the eager first call and the compiled second one


def start() -> None:
    """Begin warming up on a background thread (once per process; later calls do nothing)."""
    global _thread
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
