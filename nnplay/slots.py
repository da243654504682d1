"""Who trains next, what a job's slot costs, and how long a queued job will wait: the rules
of the job queue as plain functions (no threads, no TensorFlow), shared by every backend.

- **Fair order.** Round-robin across sessions, first come first served within one: a
  session's second job (a race variant, a lesson variant) waits behind every other session's
  first, counting the jobs the session already trains; between sessions holding as many, the
  one served longest ago goes first. Jobs without an owner (the CLI) are each their own
  session, so they keep plain submission order.
- **Cost.** Slots add up to the host's cores (setting `slots`). A job at full speed, or any
  convolutional or recurrent model, takes a whole core (1.0). A toy or table model paced for
  watching (slow motion: at most N epochs a second) takes its measured share of a core,
  N × EPOCH_CPU_S (more for more batches per epoch), at least MIN_COST.
- **Wait.** The queue is replayed on the clock: running jobs free their share when their
  time left is up, and the jobs ahead start in fair order as their cost fits.
"""
from __future__ import annotations

import heapq
import json
import math
from dataclasses import dataclass

# Measured on the 2-core host with the Playground default (circle, 500 samples, batch 10,
# 4-2 tanh), CPU time over wall time of a paced job: 1 epoch/s 0.007 of a core, 3/s 0.03,
# 10/s 0.08, 30/s 0.23, 100/s 0.59: 7-9 ms of CPU per paced epoch (its 25 batches and the
# decision grid drawn after every epoch), next to nothing while it sleeps.
EPOCH_CPU_S = 0.009
# Hosted, where a page frame's epochs (15 at 30/s) train in one call and the grid is drawn
# once a frame: 10/s 0.027 of a core, 30/s 0.036, 100/s 0.071 (measured the same way; one
# call an epoch with the grid once a frame took 0.054, 0.105, 0.30): 1-3 ms an epoch, counted
# at 2 ms. Counting 9 ms held a class back in the queue while the server's cores sat idle.
EPOCH_CPU_S_FRAMED = 0.002
MIN_COST = 0.1             # never less, once built and traced
BUILD_COST = 0.5           # until then: building and tracing run at full speed
HEAVY_LAYERS = ("Conv", "LSTM", "GRU", "SimpleRNN", "Bidirectional", "Embedding")
# Before a similar job has been measured: the Playground's 500 epochs take ~1.9 s alone
# (first point after ~0.4 s), with or without XLA.
STARTUP_S = 1.0            # building (and tracing) a small model before its epochs run
EPOCH_S = 0.004            # seconds per full-speed epoch
EPS = 1e-9


def job_cost(exp, pace: float | None, framed: bool = False, warmed: bool = True) -> float:
    """The share of a core a job's slot takes, in (0, 1]. `framed`: the job draws its grid
    once a page frame, not every epoch (hosted). `warmed`: built and traced; until then it
    runs at full speed whatever its pace, so it counts at least BUILD_COST (a class's 16
    models built all at once would each take 16 times as long to show a first point; a few
    at a time, each takes its ~0.5 s)."""
    if pace is None or _heavy(exp):
        return 1.0
    batches = math.ceil(exp.data.samples * (1 - exp.data.validation_split - exp.data.test_split)
                        / max(exp.train.batch_size, 1))
    epoch_cpu = EPOCH_CPU_S_FRAMED if framed else EPOCH_CPU_S
    per_epoch = epoch_cpu * max(batches / 25, 1.0)   # 25 batches: the default's 250 / 10
    floor = MIN_COST if warmed else BUILD_COST
    return float(min(1.0, max(floor, pace * per_epoch)))


FRAMES_PER_S = 12   # page frames a hosted server draws a second, for all its live runs together
STARTING_FRAME_S = 4.0   # a hosted page's frame while other students' runs are being built


def frame_seconds(hosted: bool, live: int = 1, starting: bool = False) -> float:
    """Seconds between two frames of a live run (the page's poll, the job's boundary redraw):
    four a second on a laptop; in a hosted class, whose pages all run in the server's one
    Python process, two, and fewer once `live` runs share FRAMES_PER_S (16 pages polling four
    times a second took more than all of its time; at two, 16 pages' frames held the GIL so
    long that the last of a class's models took a minute to build), down to one in 2 s.
    `starting`: a page whose run already draws while other students' runs are still being
    built (JobManager.first_points_pending) draws one frame in STARTING_FRAME_S until they
    are, so that the server's and the class's browsers' time goes to the first points still
    to come."""
    if not hosted:
        return 0.25
    if starting:
        return STARTING_FRAME_S
    return min(2.0, max(0.5, live / FRAMES_PER_S))


WATCHABLE_PACE = 30   # epochs/s: TensorFlow Playground's order; the boundary forms as you watch


def default_pace(exp) -> float | None:
    """The pace a new run starts at on the Train page (its Speed, changeable while it runs).
    A 2-D toy run is paced for watching, as in TensorFlow Playground: the boundary forms
    epoch by epoch instead of in the two or three frames a full-speed run lasts, and on a
    hosted server a paced run takes ~0.25 of a core instead of a whole one, so many students
    train at once. Every other kind of data: full speed (None). The CLI is never paced."""
    from .data import DATASETS
    entry = DATASETS.get(exp.data.dataset)
    if entry is not None and entry.kind == "toy" and not _heavy(exp):
        return WATCHABLE_PACE
    return None


def _heavy(exp) -> bool:
    types = [layer.get("type", "") for layer in exp.model.layers]
    return any(t.startswith(HEAVY_LAYERS) for t in types) or exp.data.dataset in (
        "mnist", "fashion_mnist", "cifar10", "imdb")


def fair_order(waiting: list[tuple[str, str | None]], holding: dict,
               served: dict | None = None) -> list[str]:
    """Job ids of `waiting` [(job id, owner)] (in submission order) in the order they get a
    slot: by how many jobs their owner holds plus their place among the owner's waiting
    jobs, then by when the owner last got a slot (`served`: owner -> a rising count; never
    served first), then submission order. `holding`: owner -> jobs holding a slot now."""
    served = served or {}
    seen: dict = {}
    keyed = []
    for seq, (job_id, owner) in enumerate(waiting):
        who = owner_key(owner, job_id)
        rank = seen.get(who, 0)
        seen[who] = rank + 1
        keyed.append((holding.get(who, 0) + rank, served.get(who, -1), seq, job_id))
    return [key[-1] for key in sorted(keyed)]


def owner_key(owner: str | None, job_id: str):
    """Whose turn a job counts against: its session, or the job itself when it has none."""
    return owner if owner is not None else ("job", job_id)


def admit(order: list[str], cost: dict, used: float, capacity: float) -> list[str]:
    """The jobs at the head of `order` that start now: each in turn while its cost fits in
    what is free (no skipping ahead, so a whole-core job is never starved by small ones). A
    job dearer than the whole capacity starts alone."""
    started = []
    for job_id in order:
        c = cost[job_id]
        if used + c > capacity + EPS and (used > EPS or started):
            break
        started.append(job_id)
        used += c
    return started


@dataclass
class Planned:
    """A job as the wait estimate sees it: its slot cost and seconds it will still train."""
    cost: float
    seconds: float


def estimate_wait(capacity: float, running: list[Planned], ahead: list[Planned],
                  cost: float) -> float:
    """Seconds until a job of `cost` starts, if the jobs `ahead` start in order as space frees
    and every job runs for its estimated seconds."""
    clock, used = 0.0, sum(r.cost for r in running)
    ends = [(r.seconds, r.cost) for r in running]
    heapq.heapify(ends)

    def free_for(c: float):
        nonlocal clock, used
        while ends and used + c > capacity + EPS:
            clock, freed = heapq.heappop(ends)
            used -= freed

    for job in ahead:
        free_for(job.cost)
        heapq.heappush(ends, (clock + job.seconds, job.cost))
        used += job.cost
    free_for(cost)
    return max(clock, 0.0)


def seconds_left(epochs_left: int, pace: float | None, epoch_s: float, eta: float | None,
                 started: bool) -> float:
    """A job's remaining training time: the job's own ETA once it has measured its speed, else
    its epochs at the measured speed of similar jobs (or its pace, if slower), plus building
    and compiling if it has not started."""
    if eta is not None and started and pace is None:
        return eta
    per_epoch = max(epoch_s, 1.0 / pace) if pace else epoch_s
    return epochs_left * per_epoch + (0.0 if started else STARTUP_S)


def trace_key(exp) -> str:
    """Specs whose runs share one traced training graph in a process (`nnplay.graphs`; the
    engine checks the real key, this only prices slots): everything but the epochs."""
    spec = exp.to_dict()
    spec["train"] = {k: v for k, v in spec["train"].items() if k != "epochs"}
    return json.dumps(spec, sort_keys=True)


def similar_key(exp) -> tuple:
    """Jobs with the same data size, batch and layers train at the same speed."""
    layers = tuple(tuple(sorted((k, str(v)) for k, v in layer.items())) for layer in exp.model.layers)
    return exp.data.dataset, exp.data.samples, exp.train.batch_size, layers
