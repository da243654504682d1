"""TrainingJob: a background thread that trains one experiment, with controls and snapshots.

The thread never touches Streamlit. A page calls the controls (pause, resume, step, stop,
set_learning_rate) and polls `snapshot()`, a copy taken under a lock.

    job = TrainingJob(exp).start()
    job.wait()
    job.snapshot().status            # 'completed'

`JobManager` shares the training slots fairly between sessions (the rules are in
`nnplay.slots`) and queues the rest; it keeps jobs by id so a reloaded page can re-attach,
stops jobs whose browser session ended once a grace period has passed without a re-attach,
and lets a finished job's model go once the store has saved its run.

This is the thread backend of the Job seam (`nnplay.jobapi`): pages use only what the `Job`
and `Manager` protocols name, never `job.engine`.
"""
from __future__ import annotations

import copy
import logging
import math
import os
import threading
import time
import traceback
import uuid
from collections import deque

import numpy as np

from . import config, limits, slots
from .jobapi import ACTIVE, FINISHED, QueueInfo, Snapshot  # noqa: F401 (re-exported)
from .spec import Experiment

GRID_EVERY_S = 0.05        # decision grid refresh (>= 10 per second even on a busy machine)
STATS_EVERY_S = 0.5        # weight statistics refresh
WEIGHT_HISTORY_MAX = 60    # histogram snapshots kept for "distribution over epochs"
LIVE_FINISHED = 3          # a session's latest saved jobs that keep their model (Inspect
                           # shows their weights over epochs); older ones let it go
KEEP_FINISHED = 12         # finished jobs (light records) kept per session: a whole race
_TF_LOADED = threading.Event()  # set once a job of this process has imported TensorFlow

log = logging.getLogger(__name__)


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
        self.saved_as = None           # the run id, once the store has saved the finished run
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._snap = Snapshot(self.id, epochs=exp.train.epochs)
        self._pause = False
        self._stop = False
        self._steps = 0
        self._step_batches = None      # a step of this many batches instead of an epoch
        self._lr = None
        self._pace = None
        self._thread = None
        self._started_at = None
        self._trained_s = 0.0          # seconds spent training, for the host's time limit
        # A hosted class: the boundary and weights are redrawn once a page frame
        # (slots.frame_seconds), not every epoch of a fast paced run; on a laptop a paced
        # run draws every epoch, as slow motion promises.
        self.framed = config.hosted()   # its slot costs less for it (slots.job_cost)
        self._frame = (0.0, -math.inf)  # (the frame's seconds, perf_counter when looked up)
        self.warmed = False            # built and traced: a paced job's slot costs its pace
        self._samples = deque(maxlen=20)  # (time, samples seen) for samples/s
        self._end = None               # the final status, message and metrics, once decided
        self.created = time.time()
        self.slot_at = None            # time.time() when the job got its slot
        self._steps_at = []            # (step, time.time()) of its preparation, for the log
        self._build_waited_s = 0.0     # of it, waiting for other builds (build._BUILD_LOCK)
        self.first_epoch_at: float | None = None   # time.monotonic() its first epoch was ready
        # Its student's page (TrainingJob.shown) is drawing it; its browser drew the first
        # point (TrainingJob.first_point_drawn)
        self.watched = False
        self._point_drawn = False
        self._point_sent_at: float | None = None   # time.monotonic() a page first drew a point

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

    def step(self, batches: int | None = None):
        """Train exactly one more epoch (or `batches` mini-batches: Inspect's One step), then
        stay paused."""
        with self._lock:
            self._pause = True
            self._steps += 1
            self._step_batches = batches
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
        if self.manager is not None:
            self.manager.reprice(self)   # a paced job takes a smaller share of a core

    @property
    def pace(self) -> float | None:
        return self._pace

    def shown(self, epoch: int) -> None:
        """A page is drawing a frame of this job with `epoch` epochs."""
        self.watched = True
        if epoch > 0 and self._point_sent_at is None:
            self._point_sent_at = time.monotonic()

    def first_point_drawn(self) -> None:
        """Its student's browser says it has drawn the run's first point (the chart reports
        it: nnplay.ui.train_view.first_point_routes)."""
        self._point_drawn = True

    @property
    def first_point_seen(self) -> bool:
        """Its student has seen the first point, as the browser that drew it said (not the
        server's frames: under a class's burst a browser drew a frame up to 20 s after the
        server sent it; JobManager.first_points_pending), or it is given up on: a browser
        that had the point FIRST_POINT_SEEN_MAX_S ago and did not say (it could not, or its
        tab went), or a page that has not asked for the point FIRST_POINT_UNSENT_MAX_S after
        the epoch (its tab went). Counted from the epoch alone, a browser too starved to ask
        for its point within 15 s (a 16-student burst, in the soak) set the class's runs
        going at full pace and starved it further: its point went out 30 s after the epoch."""
        if self._point_drawn:
            return True
        now = time.monotonic()
        if self._point_sent_at is not None:
            return now - self._point_sent_at >= FIRST_POINT_SEEN_MAX_S
        return (self.first_epoch_at is not None
                and now - self.first_epoch_at >= FIRST_POINT_UNSENT_MAX_S)

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
        s.warming_up = not _TF_LOADED.is_set()
        if self.manager is not None and s.status == "queued":
            # outside the job's lock: the manager's lock is never taken inside it
            queue = self.manager.queue_info(self)
            s.queue_position, s.queue_wait = max(queue.position, 1), queue.wait
        return s

    def add_listener(self, listener):
        """`listener(job, event, data)` is called from the job's thread: "epochs" with the new
        rows, "finished" with the final Snapshot (before pages see the job finished)."""
        self.listeners.append(listener)

    def mark_saved(self, run_id: str):
        """The store has saved this finished run (model included): the manager may let the
        model and data go, and pages read the run from the store."""
        self.saved_as = run_id

    def model(self):
        """The Keras model being trained; None before it is built and once released."""
        engine = self.engine
        return engine.model if engine is not None else None

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The model's outputs for `x` (batched, training=False)."""
        engine = self.engine
        if engine is None:
            raise LookupError("this job's model is not built yet or was let go after its run "
                              "was saved; read the saved run instead")
        return engine.predict(x)

    def release_model(self):
        """Let the model, engine and data go (the run is saved): what stays is a light record,
        the final snapshot without weight statistics, enough for the Train and Race pages."""
        with self._lock:
            self.engine = self.dataset = self._grid_points = None
            self.listeners = []
            self._snap.weights, self._snap.weight_history, self._snap.grad_norms = [], [], []

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
            self._end_run()

    def _end_run(self):
        """Tell the listeners first (the store saves the run and its model), then show the
        job finished: a page that sees it finished finds its run saved."""
        final = self.snapshot()
        for name, value in (self._end or {"status": "stopped"}).items():
            setattr(final, name, value)
        self._emit("finished", final)
        self._set(**(self._end or {"status": "stopped"}))
        if self.manager is not None:
            self.manager.retire(self)

    def _acquire_slot(self):
        if self.manager is None or self.manager.holds(self):
            return
        self._set(status="queued")
        self.manager.acquire(self, lambda: self._stop)
        self.slot_at = time.time()

    def _prepare(self):
        from . import data as data_mod
        from .build import build
        from .engine import Engine
        self._set(status="building")
        _TF_LOADED.set()   # build imported TensorFlow
        if self.dataset is None:
            self.dataset = data_mod.load(self.exp.data)
        self._steps_at = [("data loaded", time.time())]
        built = build(self.exp, self.dataset.info)
        if self.initial_weights:
            built.model.load_weights(self.initial_weights)
        self._steps_at.append(("model built", time.time()))
        self._build_waited_s = built.waited_s
        self.engine = Engine(built, self.dataset, self.exp.train)
        self._steps_at.append(("engine made", time.time()))
        self._grid_points = None
        from .inspection import grid_points, on_plane
        if on_plane(self.dataset):
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

    def _take_turns(self):
        """Give the training slot to a student whose run has drawn nothing yet, and queue
        for the next turn (the page shows the place and the wait meanwhile)."""
        self.manager.release(self, taking_turns=True)
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
            pace = self._pace   # read once: a student may switch to full speed meanwhile
            paced = pace is not None
            compiling = self.engine.xla and self.engine.step > 0 and not (
                self.engine.compiled_calls or self.engine.shares_graph())
            if compiling:   # the page says so rather than sit on epoch 1 for a second or more
                self._set(compiling=True)
            # While another student's run, or this one, is on its way to its first point
            # drawn, at most CROWDED_PACE epochs a second (JobManager.first_points_pending).
            crowded = paced and self.manager is not None and self.manager.first_points_pending(
                self, own=True)
            if crowded:
                pace = min(pace, CROWDED_PACE)
            epochs = self._epochs_per_frame(pace)
            if action == "step" and self._step_batches:
                rows = self.engine.run_chunk(max_steps=self._step_batches)
            elif action == "step":
                rows = self.engine.run_epoch()
            else:
                rows = self.engine.run_epochs(epochs) if paced else self.engine.run_chunk()
            if compiling:
                self._set(compiling=False)
            self._trained_s += time.perf_counter() - started   # not paused, not paced sleep
            # A paced call is one frame (or one epoch, if slower): each gets its grid, shown
            # with its epochs (not a frame's epochs behind them while it is drawn). The first
            # epoch shows before its grid: the first grid builds the predict graph.
            force = action == "step" or paced
            finite = all(math.isfinite(r["loss"]) for r in rows)
            with_rows = finite and self._snap.grid is not None
            views = self._grid_fields(force) if with_rows else {}
            self._record(rows, views)
            if not finite:
                bad = next(r["epoch"] for r in rows if not math.isfinite(r["loss"]))
                raise FloatingPointError(
                    f"the loss became NaN/inf at epoch {bad}: the learning rate is probably too "
                    "high for this model; lower it (try a tenth) and train again")
            self._refresh_views(force, grid=not views)
            if paced:   # these epochs' share of a second, at the pace they trained at
                self._sleep_for_pace(started + (len(rows) or 1) / pace, crowded)
            if self.manager is not None and self.manager.should_yield(self):
                self._take_turns()
        self._finish("early_stopping" if self.engine.stopped_early else "completed")

    def _catch_up_views(self):
        """On pause: the grid and weights of the epoch the job stopped at, unless the last
        refresh (a step's) already drew that epoch."""
        s, epoch = self._snap, self.engine.epoch
        grid_behind = self._grid_points is not None and s.grid_epoch != epoch
        if grid_behind or not s.weight_history or s.weight_history[-1]["epoch"] != epoch:
            self._refresh_views(force=True)

    def _epochs_per_frame(self, pace: float | None) -> int:
        """Epochs a paced run trains in one call: those of one page frame on a hosted server
        (its page draws once a frame, so it shows the same, and one call per frame costs a
        third of the CPU of one per epoch: 0.5-0.8 ms an epoch against 1.7-1.9 measured on
        the Playground default), else one (a laptop draws every epoch of a paced run). The
        first epoch is always alone, so that it shows before any tracing."""
        if pace is None or not self.framed or self.engine.step == 0:
            return 1
        return max(1, int(pace * self._frame_seconds()))

    def _frame_seconds(self) -> float:
        """A hosted page's frame as the class's pages now draw it (slots.frame_seconds: longer
        as more runs share the server), looked up at most once a second: a grid drawn or an
        epoch call made more often than the page asks for it is CPU a class's builds wait for."""
        seconds, at = self._frame
        now = time.perf_counter()
        if now - at >= 1.0:
            live = len(self.manager.active()) if self.manager is not None else 1
            seconds = slots.frame_seconds(True, live)
            self._frame = (seconds, now)
        return seconds

    def _sleep_for_pace(self, until: float, crowded: bool = False):
        """Wait until `until` (time.perf_counter) for a paced run's epochs; pause, stop or a
        new pace end the wait early (other controls, such as the learning rate, do not), and
        so, for a run slowed to CROWDED_PACE (`crowded`), does the class's last first point
        drawn: its epochs go on at their pace at once, not a CROWDED_PACE epoch later."""
        with self._lock:
            pace = self._pace
        while True:
            with self._lock:
                if pace is None or self._pace != pace or self._stop or self._pause:
                    return
                left = until - time.perf_counter()
                if left <= 0:
                    return
                self._wake.wait(min(left, CROWDED_CHECK_S) if crowded else left)
            # asked outside the job's lock: the answer reads the other holders' locks
            if crowded and not self.manager.first_points_pending(self, own=True):
                return

    def _record(self, rows: list[dict], views: dict):
        """The epochs' rows into the snapshot, with `views` (a new grid) at the same time."""
        if not rows:
            if views:
                self._set(**views)
            return
        now = time.perf_counter()
        eng = self.engine
        if eng.compiled_calls:   # the time before includes building and tracing: not a speed
            self._samples.append((now, eng.step * eng.batch_size))
            self._warmed_up()
        with self._lock:
            s = self._snap
            first = s.epoch == 0
            if first:   # with the epoch, never after it (first_points_pending reads both)
                self.first_epoch_at = time.monotonic()
            for r in rows:
                for name in eng.names:
                    s.history[name].append(r[name])
                s.grad_norms.append(r["grad_norms"])
            s.epoch = rows[-1]["epoch"]
            s.best_epoch = eng.best_epoch
            s.elapsed = now - self._started_at
            s.samples_per_sec = self._rate()
            s.eta = self._eta(s.epochs - s.epoch, s.samples_per_sec)
            for name, value in views.items():
                setattr(s, name, value)
        if first:   # the server's own part of a student's wait (the page's frame then sends it)
            # each step's time since the submission: where a class's burst waits
            steps = ([("its slot after", self.slot_at)] if self.slot_at else []) + self._steps_at
            said = ", ".join(f"{name} {at - self.created:.2f} s" for name, at in steps)
            if self._build_waited_s >= 0.01:
                said += f"; {self._build_waited_s:.2f} s of it waiting for other builds"
            log.info("first epoch of job %s ready %.2f s after it was submitted%s", self.id,
                     time.time() - self.created, f" ({said})" if said else "")
        self._emit("epochs", rows)

    def _warmed_up(self):
        """Built and traced: from now on a paced job's slot costs its pace (slots.job_cost)."""
        if not self.warmed:
            self.warmed = True
            if self.manager is not None:
                self.manager.reprice(self)

    def _eta(self, epochs_left: int, samples_per_sec: float) -> float | None:
        """Seconds left, from the recent speed, not the average (the first epochs include
        building and tracing). A paced run goes at its pace unless it is measured slower
        over a second or more: a first few epochs timed close together do not make it read
        "237 h left"."""
        epoch_samples = max(len(self.dataset.x_train), 1)
        measured = samples_per_sec / epoch_samples if samples_per_sec > 0 else None
        pace = self._pace
        if pace is not None:
            window = self._samples[-1][0] - self._samples[0][0] if len(self._samples) > 1 else 0.0
            per_s = min(pace, measured) if measured and window >= 1.0 else pace
            return epochs_left / per_s
        return epochs_left / measured if measured else None

    def _rate(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self._samples[0], self._samples[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0

    def _grid_fields(self, force: bool) -> dict:
        """The decision grid of the current weights, for the snapshot, when one is due
        (throttled by wall time, not by epoch); else nothing."""
        from .inspection import grid_values
        now = time.perf_counter()
        every = self._frame_seconds() if self.framed else GRID_EVERY_S
        if self._grid_points is None or not (force or now - self._last_grid >= every):
            return {}
        self._last_grid = now
        grid = grid_values(self.engine.predict(self._grid_points), self.dataset.info.task,
                           logits=self.engine.logits)
        return {"grid": grid, "grid_epoch": self.engine.epoch,
                "grid_version": self._snap.grid_version + 1}

    def _refresh_views(self, force: bool = False, grid: bool = True):
        """Decision grid and weight statistics, throttled by wall time, not by epoch."""
        from .inspection import weight_stats
        now = time.perf_counter()
        if grid and (views := self._grid_fields(force)):
            self._set(**views)
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
        self._end = {"status": status, "final": final, "message": message or reason}

    def _fail(self, error: Exception):
        said = isinstance(error, (FloatingPointError, ValueError))  # their text says what to change
        if not (said or isinstance(error, MemoryError)):
            traceback.print_exception(error)   # not the student's doing: the host's log gets it
        message = str(error) if said else f"{type(error).__name__}: {error}"
        if "OOM" in message or isinstance(error, MemoryError):
            message = "out of memory: use a smaller model, batch size or dataset"
        self._end = {"status": "failed",
                     "message": message.splitlines()[0][:500] if message else "failed"}


CROWDED_PACE = 0.2   # epochs/s of a hosted paced run while a class's first points are on
                     # their way: an epoch in 5 s, all but still (its page holds its charts
                     # meanwhile), so that the server's cores go to the builds and, in the
                     # soak, to the browsers drawing (16 at once: the last first point 11.7
                     # and 14.6 s, against 21.9-32.9 s at 5 epochs/s)
CROWDED_CHECK_S = 0.25   # how often a crowded run's wait asks whether the class is done
FIRST_POINT_SEEN_MAX_S = 15.0   # after a page had a run's first point: its browser has drawn
                                # it by then, or its tab has gone (a closed tab must not slow
                                # the class long)
FIRST_POINT_UNSENT_MAX_S = 60.0   # after a run's first epoch, if no page has asked for it
TRACED_KEPT = 64   # specs remembered as traced (graphs.SHARED_MAX graphs are kept; a miss
                   # only prices one job's build too low)
PENDING_FRESH_S = 0.1   # first_points_pending's answer is reused this long (asked every epoch)
QUANTUM_S = 2.0   # a turn: how long a running job keeps its slot while a new one waits
TURN_WAIT_MAX_S = 15.0   # a run that gave its turn waits at most about this for the next


def default_slots() -> float:
    """Training slots of this host: the setting `slots` (NNPLAY_SLOTS), default the cores."""
    value = config.setting("slots", None)
    try:
        slots_ = float(value) if value is not None else float(os.cpu_count() or 2)
    except ValueError:
        raise ValueError(f"the setting slots must be a number of cores, got {value!r}") from None
    if not (math.isfinite(slots_) and slots_ > 0):
        raise ValueError(f"the setting slots must be a positive number of cores, got {value!r}")
    return slots_


def _first_point_to_come(job: TrainingJob) -> bool:
    """Whether `job`'s student is still waiting for its first point (see
    JobManager.first_points_pending): its first epoch not trained yet, or not yet drawn by
    the page watching it (a job no page watches, such as a race variant, only the first)."""
    if job.first_epoch_at is None:
        return job.progress() in (("building", 0), ("running", 0))
    return job.watched and not job.first_point_seen


class JobManager:
    """Process-wide: jobs share `max_running` training slots (cores; a paced toy job takes a
    fraction of one), handed out fairly between sessions (see `nnplay.slots`)."""

    def __init__(self, max_running: float | None = None, grace_seconds: float | None = None,
                 quantum_s: float | None = None, job_factory=None):
        self.max_running = max_running or default_slots()
        # What runs a job once it has its slot: TrainingJob trains it in a thread here; the
        # Ray backend passes a factory of driver-side proxies (the queue rules stay here).
        self.job_factory = job_factory or TrainingJob
        # slots.trace_key of the specs traced in this process (the oldest dropped): their
        # next jobs share the graph. Not for other backends: their jobs train elsewhere.
        self._traced: dict | None = {} if job_factory is None else None
        self.grace_seconds = config.grace_seconds() if grace_seconds is None else grace_seconds
        self._reaper: threading.Thread | None = None   # one thread for every closed tab
        # Turns (see should_yield) on a hosted server; a laptop's own jobs queue as before.
        self.quantum_s = quantum_s if quantum_s is not None else (
            QUANTUM_S if config.hosted() else math.inf)
        self._slot_since: dict[str, float] = {}  # job id -> when it last got its slot
        self.jobs: dict[str, TrainingJob] = {}
        self._owners: dict[str, set] = {}
        self._owner_of: dict[str, str | None] = {}  # job id -> the session that submitted it
        self._detached: dict[str, float] = {}   # job id -> when its session ended
        self._running: dict[str, float] = {}    # job id -> the cost of its slot
        self._waiting: list = []                # job ids in submission order
        self._cost: dict[str, float] = {}
        self._finished: dict = {}               # owner -> finished job ids, oldest first
        self._epoch_s: dict = {}                # similar_key -> measured seconds per epoch
        self._served: dict = {}                 # owner -> admission count when last served
        self._admissions = 0
        self._queued_at: dict[str, float] = {}  # job id -> when it gave its slot for a turn
        self._pending = (frozenset(), -math.inf)   # first_points_pending's look: the holders
                                                   # still on their way to a first point, when
        self._lock = threading.Condition()

    def submit(self, exp: Experiment, dataset=None, owner: str | None = None,
               paused: bool = False, initial_weights: str | None = None,
               pace: float | None = None, workspace: str = "") -> TrainingJob:
        job = self.job_factory(exp, dataset=dataset, manager=self,
                               initial_weights=initial_weights)
        job.workspace = workspace     # its run is stored there; only it may re-attach the job
        with self._lock:
            self.jobs[job.id] = job
            self._owner_of[job.id] = owner
            self._waiting.append(job.id)
            if owner:
                self._owners.setdefault(owner, set()).add(job.id)
        job.set_pace(pace)
        return job.start(paused=paused)

    def get(self, job_id: str | None) -> TrainingJob | None:
        with self._lock:
            return self.jobs.get(job_id) if job_id else None

    # ---- slots ----------------------------------------------------------------------------
    def reprice(self, job: TrainingJob):
        """The job's pace changed, or it is built and traced: its slot costs what it needs
        now (a running job keeps its slot; the next admissions count the new cost)."""
        if job.warmed:
            self.note_traced(job.exp)
        with self._lock:
            cost = self._job_cost(job)
            self._cost[job.id] = cost
            if job.id in self._running:
                self._running[job.id] = cost
            self._lock.notify_all()

    def note_traced(self, exp: Experiment):
        """A job of `exp` traced its training graph in this process: the jobs of that spec
        waiting for a slot (a class on the teacher's link) now cost what a running one does."""
        if self._traced is None:
            return
        key = slots.trace_key(exp)
        with self._lock:
            if key in self._traced:
                return
            self._traced[key] = True
            while len(self._traced) > TRACED_KEPT:
                self._traced.pop(next(iter(self._traced)))
            for job_id in self._waiting:
                job = self.jobs.get(job_id)
                if job is not None and job_id in self._cost and slots.trace_key(job.exp) == key:
                    self._cost[job_id] = self._job_cost(job)
            self._lock.notify_all()

    def _job_cost(self, job: TrainingJob) -> float:
        """What the job's slot costs: warmed up once it is traced, or as soon as it starts
        when a job of the same spec was traced in this process (it shares that graph,
        `nnplay.graphs`: a class on the teacher's link builds its 16 models in ~0.1 s each)."""
        warmed = job.warmed or (self._traced is not None
                                and slots.trace_key(job.exp) in self._traced)
        return slots.job_cost(job.exp, job.pace, framed=job.framed, warmed=warmed)

    def acquire(self, job: TrainingJob, cancelled):
        with self._lock:
            if job.id not in self._waiting:  # submit() already queued it, in submission order
                self._waiting.append(job.id)
            if job.id not in self._cost:
                self._cost[job.id] = self._job_cost(job)
            while True:
                self._admit()
                if job.id in self._running:
                    return
                if cancelled():
                    self._waiting.remove(job.id)
                    self._lock.notify_all()
                    return
                self._lock.wait(0.25)

    def _admit(self):
        """Start the jobs whose turn it is, while their cost fits (lock held)."""
        started = slots.admit(self._order(), self._cost, sum(self._running.values()),
                              self.max_running)
        for job_id in started:
            self._waiting.remove(job_id)
            self._running[job_id] = self._cost[job_id]
            self._slot_since[job_id] = time.monotonic()
            self._queued_at.pop(job_id, None)
            self._admissions += 1
            self._served[slots.owner_key(self._owner_of.get(job_id), job_id)] = self._admissions
        if started:
            self._lock.notify_all()

    def _order(self) -> list[str]:
        holding: dict = {}
        for job_id in self._running:
            who = slots.owner_key(self._owner_of.get(job_id), job_id)
            holding[who] = holding.get(who, 0) + 1
        waiting = [(j, self._owner_of.get(j)) for j in self._waiting if j in self._cost]
        # A run that gave its slot for a turn and has waited TURN_WAIT_MAX_S goes first, so
        # a stream of new sessions (each first in line: never served) cannot starve it.
        served = dict(self._served)
        now = time.monotonic()
        for job_id, owner in waiting:
            if now - self._queued_at.get(job_id, now) > TURN_WAIT_MAX_S:
                served[slots.owner_key(owner, job_id)] = -2
        return slots.fair_order(waiting, holding, served)

    def should_yield(self, job: TrainingJob) -> bool:
        """Whether a running job should give its slot back for a turn: it has held it for
        `quantum_s` while the next job in the fair order has drawn nothing yet and does not
        fit in the free capacity. So when a class presses Train together, every student sees a
        first point within a few turns, instead of waiting for whole runs ahead to end."""
        with self._lock:
            since = self._slot_since.get(job.id)
            if since is None or job.id not in self._running or not self._waiting:
                return False
            if time.monotonic() - since < self.quantum_s:
                return False
            order = self._order()
            nxt = self.jobs.get(order[0]) if order else None
            if nxt is None or nxt.progress()[1] > 0:
                return False
            free = self.max_running - sum(self._running.values())
            return self._cost.get(nxt.id, 1.0) > free + slots.EPS

    def first_points_pending(self, job: TrainingJob, own: bool = False) -> bool:
        """Whether another job holding a slot (or `job` itself, if `own`) is still on its way
        to its student's first point, on a hosted server: building, tracing, in its first
        epoch, or (watched by a page) trained it but its student's browser has not yet said
        it drew it (TrainingJob.first_point_seen). A class pressing Train together: the
        paced runs then go at CROWDED_PACE, and the pages that have drawn their first points
        keep their charts and draw one frame in slots.STARTING_FRAME_S, until every student
        has a first point, since the server is one Python process whose paced epochs and
        frames would slow every build (measured: paced epochs took half the server's samples
        during a 16-student burst), and its students' browsers draw their first points with
        what the class leaves them (in the soak, on the same 2 cores: once the first points
        were sent, the others' frames and epochs at full pace left the last tab drawing its
        own 24 s after the server sent it). Asked after every paced epoch, so answered from
        a 0.1 s old look at the slots."""
        if self.quantum_s == math.inf:      # a laptop's own jobs: no class to make way for
            return False
        now = time.monotonic()
        with self._lock:
            waiting, at = self._pending
            if now - at >= PENDING_FRESH_S:
                holders = [h for h in map(self.jobs.get, self._running) if h is not None]
                waiting = None
        if waiting is None:   # the holders' own locks, outside the manager's
            waiting = frozenset(h.id for h in holders if _first_point_to_come(h))
            with self._lock:
                self._pending = (waiting, now)
        return bool(waiting if own else waiting - {job.id})

    def release(self, job: TrainingJob, taking_turns: bool = False):
        with self._lock:
            self._running.pop(job.id, None)
            self._slot_since.pop(job.id, None)
            if taking_turns:
                self._queued_at[job.id] = time.monotonic()
            else:
                self._queued_at.pop(job.id, None)
            if job.id in self._waiting:
                self._waiting.remove(job.id)
            self._lock.notify_all()

    def holds(self, job: TrainingJob) -> bool:
        with self._lock:
            return job.id in self._running

    def queue_position(self, job: TrainingJob) -> int:
        """1 for the next job to start; 0 when the job is not waiting."""
        return self.queue_info(job).position

    def queue_info(self, job: TrainingJob) -> QueueInfo:
        """The job's place in the fair order and its estimated wait: the running jobs' time
        left and the time of the jobs ahead, replayed on the slots (`slots.estimate_wait`)."""
        with self._lock:
            order = self._order()
            cost = self._cost.get(job.id, 1.0)
            if job.id not in order:
                return QueueInfo(0, None, cost)
            position = order.index(job.id) + 1
            running = [self._planned(self.jobs[j], c) for j, c in self._running.items()
                       if j in self.jobs]
            ahead = [self._planned(self.jobs[j], self._cost[j]) for j in order[:position - 1]
                     if j in self.jobs]
            capacity = self.max_running
        wait = slots.estimate_wait(capacity, running, ahead, cost)
        return QueueInfo(position, wait, cost)

    def _planned(self, job: TrainingJob, cost: float) -> slots.Planned:
        status, epoch = job.progress()
        eta = job._snap.eta       # a float read: no lock needed (the manager's is held)
        epoch_s = self._epoch_s.get(slots.similar_key(job.exp), slots.EPOCH_S)
        left = slots.seconds_left(job.exp.train.epochs - epoch, job.pace, epoch_s, eta,
                                  started=status not in ("queued", "building"))
        return slots.Planned(cost, left)

    # ---- finished jobs ---------------------------------------------------------------------
    def retire(self, job: TrainingJob):
        """A job ended (its listeners have run): learn its speed. Of a session's jobs whose
        runs the store has saved, the LIVE_FINISHED latest keep their model; older ones let
        model and data go (light records), and at most KEEP_FINISHED are kept at all (the
        oldest are dropped: pages read those runs from the store)."""
        snap = job.snapshot()
        with self._lock:
            if snap.epoch and snap.elapsed > 0 and job.pace is None:
                self._epoch_s[slots.similar_key(job.exp)] = snap.elapsed / snap.epoch
            self._cost.pop(job.id, None)
            self._queued_at.pop(job.id, None)
            self._served.pop(slots.owner_key(None, job.id), None)
            if job.saved_as is None:
                return
            owner = self._owner_of.get(job.id)
            kept = self._finished.setdefault(owner, [])
            kept.append(job.id)
            dropped = kept[:-KEEP_FINISHED]
            del kept[:-KEEP_FINISHED]
            for job_id in dropped:
                self._forget(job_id)
            light = [self.jobs[j] for j in kept[:max(len(kept) - LIVE_FINISHED, 0)]
                     if j in self.jobs]
        for old in light:
            old.release_model()

    def _forget(self, job_id: str):
        """Drop a saved, finished job from the manager (lock held)."""
        self.jobs.pop(job_id, None)
        owner = self._owner_of.pop(job_id, None)
        self._owners.get(owner, set()).discard(job_id)
        self._detached.pop(job_id, None)

    # ---- sessions --------------------------------------------------------------------------
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
            self._served.pop(owner, None)
            for job_id in self._owners.pop(owner, set()):
                self._detached[job_id] = now
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap_while_detached,
                                                name="nnplay-reaper", daemon=True)
                self._reaper.start()

    def _reap_while_detached(self):
        """Wake when the oldest closed tab's grace period ends, reap, repeat; end when no
        job is detached. One thread for the whole class, not one per closed tab."""
        while True:
            with self._lock:
                if not self._detached:
                    self._reaper = None
                    return
                due = min(self._detached.values()) + self.grace_seconds - time.time()
            if due > 0:
                time.sleep(due + 0.05)
            self.reap()

    def reap(self):
        """Stop jobs detached for longer than the grace period; forget the saved finished
        ones (their runs are in the store)."""
        now = time.time()
        with self._lock:
            expired = [j for j, t in self._detached.items() if now - t >= self.grace_seconds]
            for job_id in expired:
                del self._detached[job_id]
            jobs = [self.jobs[j] for j in expired if j in self.jobs]
            for job in jobs:
                if job.saved_as is not None and not job.alive:
                    self._forget(job.id)
                    for kept in self._finished.values():
                        if job.id in kept:
                            kept.remove(job.id)
        for job in jobs:
            job.stop()

    def active(self) -> list[TrainingJob]:
        with self._lock:
            return [j for j in self.jobs.values() if j.alive]


MANAGER = JobManager()
