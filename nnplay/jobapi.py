"""The Job seam: what pages, the run store, the CLI and Inspect may use of a training job and
of the job manager. Today's backend is threads in this process (`nnplay.job`); a Ray backend
(issue #10) implements the same two protocols, so nothing in `views/` changes with it.

    from nnplay.jobapi import manager
    job = manager().submit(exp, owner=session_id, pace=10)
    job.snapshot().status, manager().queue_info(job).wait

A page never reaches into a job's engine: it asks `job.model()` (None until built, and once a
finished job's run is saved and its model let go) and `job.predict(x)`.

Statuses and `Snapshot` live here, not in `job.py`, so Inspect and the store read them
without importing the thread backend. Nothing here imports TensorFlow.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np

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
    queue_position: int = 0         # while queued: 1 for the next job to start
    queue_wait: float | None = None  # while queued: estimated seconds until a slot frees
    warming_up: bool = False        # TensorFlow is not loaded yet where the job will train
    compiling: bool = False         # XLA is compiling the training step (a long run's first call)
    task: str = ""
    metric_names: list = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def stopped(self) -> str:
        """Why training ended, as the CLI's JSON says it."""
        return self.status if self.finished else ""


@dataclass(frozen=True)
class QueueInfo:
    """Where a job stands in the queue: `position` 1 for the next to start (0: not waiting),
    `wait` the estimated seconds until it gets a slot (None: unknown), `cost` the share of a
    core its slot takes."""
    position: int = 0
    wait: float | None = None
    cost: float = 1.0


Listener = Callable[[Any, str, Any], None]   # (job, event, data): "epochs" rows, "finished" Snapshot


@runtime_checkable
class Job(Protocol):
    """One training run. `exp` is the experiment it trains; `dataset` the data it trains on
    where this process holds it (None before building, after release, or on a remote
    backend: then read the data from `exp.data`)."""
    id: str
    exp: Any
    dataset: Any
    first_point_seen: bool   # its student's browser said it drew the first point

    @property
    def alive(self) -> bool: ...
    def start(self, paused: bool = False) -> "Job": ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def step(self, batches: int | None = None) -> None: ...
    def stop(self) -> None: ...
    def set_learning_rate(self, value: float) -> None: ...
    def set_pace(self, epochs_per_second: float | None) -> None: ...
    def progress(self) -> tuple[str, int]: ...
    def snapshot(self) -> Snapshot: ...
    def shown(self, epoch: int) -> None: ...   # a page draws a frame of it at `epoch` epochs
    def first_point_drawn(self) -> None: ...   # its student's browser drew its first point
    def wait(self, timeout: float | None = None) -> Snapshot: ...
    def add_listener(self, listener: Listener) -> None: ...
    def mark_saved(self, run_id: str) -> None: ...
    def model(self): ...
    def predict(self, x: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class Manager(Protocol):
    """The process-wide queue: fair slots, jobs by id, sessions' jobs stopped after a grace
    period. `submit` and `attach` take further keyword arguments only."""

    def submit(self, exp, dataset=None, owner: str | None = None, paused: bool = False,
               initial_weights: str | None = None, pace: float | None = None) -> Job: ...
    def get(self, job_id: str | None) -> Job | None: ...
    def attach(self, job_id: str, owner: str) -> Job | None: ...
    def release_owner(self, owner: str) -> None: ...
    def queue_info(self, job: Job) -> QueueInfo: ...
    def active(self) -> list[Job]: ...
    def first_points_pending(self, job: Job, own: bool = False) -> bool: ...   # a student
    # (another's, or `job`'s too if `own`) has no first point drawn yet


def backend() -> str:
    """Where this process's jobs train: "thread" (here) or "ray" (setting ray_address)."""
    from . import config
    return "ray" if config.ray_address() else "thread"


_in_use: Manager | None = None      # set by use_manager: a test's own queue


def use_manager(chosen: Manager | None) -> Manager | None:
    """Make `chosen` the manager that `manager()` returns in this process (None: the
    backend's again); returns the one it replaces. Tests give each test its own queue and
    jobs this way, so no test sees another's jobs, slots or owners."""
    global _in_use
    previous, _in_use = _in_use, chosen
    return previous


def manager() -> Manager:
    """The backend's manager for this process: threads here, or Ray when the setting
    ray_address (NNPLAY_RAY_ADDRESS) names a cluster (`nnplay.ray_backend`)."""
    if _in_use is not None:
        return _in_use
    if backend() == "ray":
        from .ray_backend import ray_manager
        return ray_manager()
    from .job import MANAGER
    return MANAGER
