"""TrainingJob: a background thread that trains one experiment, with controls and snapshots.

The thread never touches Streamlit. A page calls the controls (pause, resume, step, stop,
set_learning_rate) and polls `snapshot()`, a copy taken under a lock.

    >>> job = TrainingJob(exp).start()
    >>> job.wait()
    >>> job.snapshot().status
    'completed'

`JobManager` bounds how many jobs train at once (the hosted demo) and queues the rest; it
also keeps jobs by id so a reloaded page can re-attach, and stops jobs whose browser session
ended once a grace period has passed without a re-attach.
"""
from __future__ import annotations

import copy
import math
import os
import threading
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from . import limits
from .spec import Experiment

GRID_EVERY_S = 0.05        # decision grid refresh (>= 10 per second even on a busy machine)
STATS_EVERY_S = 0.5        # weight statistics refresh
WEIGHT_HISTORY_MAX = 60    # histogram snapshots kept for "distribution over epochs"
ACTIVE = ("queued", "building", "running", "paused")
FINISHED = ("completed", "early_stopping", "stopped", "failed")


@dataclass
class Snapshot:
    """What a page needs to draw a job; a copy, safe to read without the lock."""
    id: str
    status: str = "queued"          # queued | building | running | paused | completed |
    message: str = ""               # early_stopping | stopped | failed
    epoch: int = 0
    epochs: int = 0
    history: dict = field(default_factory=dict)      # metric name -> list per epoch
    grad_names: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)   # per epoch: a list, one per variable
    samples_per_sec: float = 0.0
    elapsed: float = 0.0
    eta: float | None = None
    learning_rate: float | None = None
    pace: float | None = None       # epochs per second at most (slow motion); None: full speed
    best_epoch: int = 0
    final: dict = field(default_factory=dict)
    grid: np.ndarray | None = None
    grid_epoch: int = 0
    grid_version: int = 0           # +1 each time the grid is redrawn (within an epoch too)
    weights: list = field(default_factory=list)
    weight_history: list = field(default_factory=list)  # [{"epoch": e, "layers": weight_stats}]
    queue_position: int = 0
    task: str = ""
    metric_names: list = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def stopped(self) -> str:
        """Why training ended, as the CLI's JSON says it."""
        return self.status if self.finished else ""


class TrainingJob:
    """Train `exp` in a background thread. `dataset` may be passed to skip loading."""

    def __init__(self, exp: Experiment, dataset=None, manager: "JobManager | None" = None,
                 job_id: str | None = None, initial_weights: str | None = None):
        self.exp = exp.copy()
        self.initial_weights = initial_weights  # a saved .keras model to continue from
        self.id = job_id or uuid.uuid4().hex[:12]
        self.dataset = dataset
        self.manager = manager
        self.engine = None
        self.listeners = []            # callables (job, event, data): "epochs", "finished"
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._snap = Snapshot(self.id, epochs=exp.train.epochs)
        self._pause = False
        self._stop = False
        self._steps = 0
        self._lr = None
        self._pace = None
        self._thread = None
        self._started_at = None
        self._trained_s = 0.0          # seconds spent training, for the host's time limit
        self._samples = deque(maxlen=20)  # (time, samples seen) for samples/s
        self.created = time.time()

    # ---- controls -------------------------------------------------------------------------
    def start(self, paused: bool = False) -> "TrainingJob":
        with self._lock:
            if self._thread is None:
                self._pause = paused
                self._thread = threading.Thread(target=self._main, name=f"nnplay-job-{self.id}",
                                                daemon=True)
                self._thread.start()
        return self

    def pause(self):
        with self._lock:
            self._pause = True
            self._wake.notify_all()

    def resume(self):
        with self._lock:
            self._pause = False
            self._wake.notify_all()

    def step(self):
        """Train exactly one more epoch, then stay paused."""
        with self._lock:
            self._pause = True
            self._steps += 1
            self._wake.notify_all()

    def stop(self):
        with self._lock:
            self._stop = True
            self._wake.notify_all()

    def set_learning_rate(self, value: float):
        if not (isinstance(value, (int, float)) and 0 < value <= 10):
            raise ValueError(f"learning rate must be in (0, 10], got {value!r}")
        if self.exp.train.lr_schedule:
            raise ValueError("a learning-rate schedule sets the rate; remove the schedule to "
                             "change it by hand")
        with self._lock:
            self._lr = float(value)
            self._wake.notify_all()

    def set_pace(self, epochs_per_second: float | None):
        """Slow motion: at most this many epochs a second, one epoch at a time, so the
        boundary can be watched forming; None: full speed. The results do not change."""
        if epochs_per_second is not None and not (
                isinstance(epochs_per_second, (int, float)) and epochs_per_second > 0):
            raise ValueError(f"pace must be a positive number of epochs per second or None, "
                             f"got {epochs_per_second!r}")
        with self._lock:
            self._pace = None if epochs_per_second is None else float(epochs_per_second)
            self._snap.pace = self._pace
            self._wake.notify_all()

    def progress(self) -> tuple[str, int]:
        """(status, epoch), without the copy of the whole history `snapshot()` makes: for
        labels and short waits."""
        with self._lock:
            return self._snap.status, self._snap.epoch

    def snapshot(self) -> Snapshot:
        with self._lock:
            s = copy.copy(self._snap)
            s.history = {k: list(v) for k, v in self._snap.history.items()}
            s.grad_norms = list(self._snap.grad_norms)
            s.weight_history = list(self._snap.weight_history)
            s.final = dict(self._snap.final)
            if self.manager is not None and s.status == "queued":
                s.queue_position = self.manager.queue_position(self)
        return s

    def wait(self, timeout: float | None = None) -> Snapshot:
        """Block until the job ends (or `timeout` seconds pass); return a snapshot."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.snapshot()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- the thread -------------------------------------------------------------------------
    def _set(self, **values):
        with self._lock:
            for k, v in values.items():
                setattr(self._snap, k, v)

    def _emit(self, event: str, data=None):
        for listener in list(self.listeners):
            try:
                listener(self, event, data)
            except Exception:  # a broken listener must not kill training
                traceback.print_exc()

    def _main(self):
        try:
            self._acquire_slot()
            if not self._stop:
                self._prepare()
                self._train_loop()
        except Exception as e:  # the thread must end with a status, never silently
            self._fail(e)
        finally:
            if self.manager is not None:
                self.manager.release(self)
            with self._lock:
                if self._snap.status not in FINISHED:
                    self._snap.status = "stopped"
            self._emit("finished", self.snapshot())

    def _acquire_slot(self):
        if self.manager is None or self.manager.holds(self):
            return
        self._set(status="queued")
        self.manager.acquire(self, lambda: self._stop)

    def _prepare(self):
        from . import data as data_mod
        from .build import build
        from .engine import Engine
        self._set(status="building")
        if self.dataset is None:
            self.dataset = data_mod.load(self.exp.data)
        built = build(self.exp, self.dataset.info)
        if self.initial_weights:
            built.model.load_weights(self.initial_weights)
        self.engine = Engine(built, self.dataset, self.exp.train)
        self._grid_points = None
        if self.dataset.raw_train is not None and self.dataset.info.kind == "toy":
            from .inspect import grid_points
            self._grid_points = self.dataset.features_for(grid_points(self.dataset.grid_bounds))
        self._set(task=self.dataset.info.task, metric_names=list(self.engine.names),
                  grad_names=list(self.engine.grad_names),
                  history={n: [] for n in self.engine.names},
                  learning_rate=self.engine.current_learning_rate)
        self._started_at = time.perf_counter()
        self._last_grid = self._last_stats = -math.inf
        self._last_stats_epoch = 0
        # Weights at epoch 0 now (plain numpy); the grid after the first epoch, since tracing
        # its predict function first would delay the first point the student sees.
        self._refresh_views(force=True, grid=False)

    def _controls(self) -> str:
        """Apply pending controls; return 'stop', 'step', 'run' (or block while paused)."""
        with self._lock:
            while True:
                if self._lr is not None:
                    self.engine.set_learning_rate(self._lr)
                    self._snap.learning_rate = self._lr
                    self._lr = None
                if self._stop:
                    return "stop"
                if self._steps:
                    self._steps -= 1
                    return "step"
                if not self._pause:
                    self._snap.status = "running"
                    return "run"
                self._snap.status = "paused"
                return "wait"

    def _wait_while_paused(self):
        """A paused job gives its training slot to the next in the queue."""
        if self.manager is not None:
            self.manager.release(self)
        with self._lock:
            while self._pause and not self._stop and not self._steps:
                self._wake.wait(0.5)
        self._acquire_slot()

    def _train_loop(self):
        while not self.engine.done:
            action = self._controls()
            if action == "wait":
                self._catch_up_views()
                self._wait_while_paused()
                continue
            over_time = limits.training_time_over(self._trained_s)  # the host's cap per job
            if action == "stop" or over_time:
                self._finish("stopped", over_time)
                return
            started = time.perf_counter()
            paced = self._pace is not None
            rows = self.engine.run_epoch() if action == "step" or paced else self.engine.run_chunk()
            self._trained_s += time.perf_counter() - started   # not paused, not paced sleep
            self._record(rows)
            if any(not math.isfinite(r["loss"]) for r in rows):
                bad = next(r["epoch"] for r in rows if not math.isfinite(r["loss"]))
                raise FloatingPointError(
                    f"the loss became NaN/inf at epoch {bad}: the learning rate is probably too "
                    "high for this model; lower it (try a tenth) and train again")
            self._refresh_views(force=action == "step" or paced)
            if paced:
                self._sleep_for_pace(started)
        self._finish("early_stopping" if self.engine.stopped_early else "completed")

    def _catch_up_views(self):
        """On pause: the grid and weights of the epoch the job stopped at, unless the last
        refresh (a step's) already drew that epoch."""
        s, epoch = self._snap, self.engine.epoch
        grid_behind = self._grid_points is not None and s.grid_epoch != epoch
        if grid_behind or not s.weight_history or s.weight_history[-1]["epoch"] != epoch:
            self._refresh_views(force=True)

    def _sleep_for_pace(self, started: float):
        """Wait out the rest of this epoch's share of a second; pause, stop or a new pace
        end the wait early (other controls, such as the learning rate, do not)."""
        with self._lock:
            pace = self._pace
            while pace is not None and self._pace == pace and not (self._stop or self._pause):
                left = started + 1.0 / pace - time.perf_counter()
                if left <= 0:
                    return
                self._wake.wait(left)

    def _record(self, rows: list[dict]):
        if not rows:
            return
        now = time.perf_counter()
        eng = self.engine
        self._samples.append((now, eng.step * eng.batch_size))
        with self._lock:
            s = self._snap
            for r in rows:
                for name in eng.names:
                    s.history[name].append(r[name])
                s.grad_norms.append(r["grad_norms"])
            s.epoch = rows[-1]["epoch"]
            s.best_epoch = eng.best_epoch
            s.elapsed = now - self._started_at
            s.samples_per_sec = self._rate()
            # From the recent speed, not the average: the first epochs include compilation.
            samples_left = (s.epochs - s.epoch) * len(self.dataset.x_train)
            s.eta = samples_left / s.samples_per_sec if s.samples_per_sec > 0 else None
        self._emit("epochs", rows)

    def _rate(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def _refresh_views(self, force: bool = False, grid: bool = True):
        """Decision grid and weight statistics, throttled by wall time, not by epoch."""
        from .inspect import grid_values, weight_stats
        now = time.perf_counter()
        if grid and self._grid_points is not None and (force or now - self._last_grid >= GRID_EVERY_S):
            grid = grid_values(self.engine.predict(self._grid_points), self.dataset.info.task,
                               logits=self.engine.logits)
            self._last_grid = now
            self._set(grid=grid, grid_epoch=self.engine.epoch,
                      grid_version=self._snap.grid_version + 1)
        epoch = self.engine.epoch
        # Snapshots every 0.5 s, and also every 2% of the run, so that a run that finishes
        # in a second still shows how its weights moved over the epochs.
        spaced = epoch - self._last_stats_epoch >= max(1, self.exp.train.epochs // 50)
        if force or now - self._last_stats >= STATS_EVERY_S or spaced:
            stats = weight_stats(self.engine.model)
            self._last_stats, self._last_stats_epoch = now, epoch
            with self._lock:
                self._snap.weights = stats
                history = self._snap.weight_history
                if history and history[-1]["epoch"] == epoch:  # pause after step: same epoch
                    history.pop()
                history.append({"epoch": epoch, "layers": stats})
                if len(self._snap.weight_history) > WEIGHT_HISTORY_MAX:
                    del self._snap.weight_history[1::2]  # keep the first, thin the rest evenly

    def _finish(self, status: str, message: str | None = None):
        eng = self.engine
        restored = status == "early_stopping" and eng.restore_best()
        at = eng.best_epoch - 1 if restored else -1  # the epoch whose weights the model keeps
        final = {n: v[at] for n, v in self.snapshot().history.items() if v}
        final.update(eng.evaluate(self.dataset.x_test, self.dataset.y_test, prefix="test_"))
        self._refresh_views(force=True)
        reason = {"completed": f"finished all {eng.train.epochs} epochs",
                  "early_stopping": f"early stopping: no improvement for "
                                    f"{eng.early['patience'] if eng.early else 0} epochs"
                                    + (f", best weights (epoch {eng.best_epoch}) restored"
                                       if restored else ""),
                  "stopped": f"stopped by hand at epoch {eng.epoch}"}[status]
        self._set(status=status, final=final, message=message or reason)

    def _fail(self, error: Exception):
        message = str(error) if isinstance(error, (FloatingPointError, ValueError)) else \
            f"{type(error).__name__}: {error}"
        if "OOM" in message or isinstance(error, MemoryError):
            message = "out of memory: use a smaller model, batch size or dataset"
        self._set(status="failed", message=message.splitlines()[0][:500] if message else "failed")


class JobManager:
    """Process-wide: at most `max_running` jobs train at once; the rest wait in order."""

    def __init__(self, max_running: int | None = None, grace_seconds: float = 120.0):
        self.max_running = max_running or os.cpu_count() or 2
        self.grace_seconds = grace_seconds
        self.jobs: dict[str, TrainingJob] = {}
        self._owners: dict[str, set] = {}
        self._detached: dict[str, float] = {}   # job id -> when its session ended
        self._running: set = set()
        self._waiting: list = []
        self._lock = threading.Condition()

    def submit(self, exp: Experiment, dataset=None, owner: str | None = None,
               paused: bool = False, initial_weights: str | None = None,
               pace: float | None = None, workspace: str = "") -> TrainingJob:
        job = TrainingJob(exp, dataset=dataset, manager=self, initial_weights=initial_weights)
        job.set_pace(pace)
        job.workspace = workspace     # its run is stored there; only it may re-attach the job
        with self._lock:
            self.jobs[job.id] = job
            self._waiting.append(job.id)
            if owner:
                self._owners.setdefault(owner, set()).add(job.id)
        return job.start(paused=paused)

    def get(self, job_id: str | None) -> TrainingJob | None:
        with self._lock:
            return self.jobs.get(job_id) if job_id else None

    def acquire(self, job: TrainingJob, cancelled):
        with self._lock:
            if job.id not in self._waiting:  # submit() already queued it, in submission order
                self._waiting.append(job.id)
            while job.id in self._waiting and (
                    len(self._running) >= self.max_running or self._waiting[0] != job.id):
                if cancelled():
                    self._waiting.remove(job.id)
                    return
                self._lock.wait(0.25)
            self._waiting.remove(job.id)
            self._running.add(job.id)
            self._lock.notify_all()

    def release(self, job: TrainingJob):
        with self._lock:
            self._running.discard(job.id)
            if job.id in self._waiting:
                self._waiting.remove(job.id)
            self._lock.notify_all()

    def holds(self, job: TrainingJob) -> bool:
        with self._lock:
            return job.id in self._running

    def queue_position(self, job: TrainingJob) -> int:
        """1 for the next job to start; 0 when the job is not waiting."""
        with self._lock:
            return self._waiting.index(job.id) + 1 if job.id in self._waiting else 0

    def attach(self, job_id: str, owner: str, workspace: str = "") -> TrainingJob | None:
        """A (reloaded) session takes the job back: it will not be stopped as abandoned.
        None for a job of another workspace (a `?job=` link is not a way into it)."""
        with self._lock:
            job = self.jobs.get(job_id)
            if job is not None and getattr(job, "workspace", "") != workspace:
                return None
            if job is not None:
                self._detached.pop(job_id, None)
                self._owners.setdefault(owner, set()).add(job_id)
            return job

    def release_owner(self, owner: str):
        """A browser session ended: its jobs are stopped after the grace period unless a
        reload re-attaches them (missing polls are no signal: background tabs slow timers)."""
        now = time.time()
        with self._lock:
            for job_id in self._owners.pop(owner, set()):
                self._detached[job_id] = now
        timer = threading.Timer(self.grace_seconds + 0.1, self.reap)
        timer.daemon = True
        timer.start()

    def reap(self):
        """Stop jobs detached for longer than the grace period."""
        now = time.time()
        with self._lock:
            expired = [j for j, t in self._detached.items() if now - t >= self.grace_seconds]
            for job_id in expired:
                del self._detached[job_id]
            jobs = [self.jobs[j] for j in expired if j in self.jobs]
        for job in jobs:
            job.stop()

    def active(self) -> list[TrainingJob]:
        with self._lock:
            return [j for j in self.jobs.values() if j.alive]


MANAGER = JobManager()
