"""The Ray backend of the Job seam (issue #10): the same training jobs on a Ray cluster, with
the queue, fairness and grace-period rules kept in this (the server's) process.

    NNPLAY_RAY_ADDRESS=local      a Ray started by this process on this machine
    NNPLAY_RAY_ADDRESS=auto       the Ray cluster this machine belongs to (`ray start`)
    NNPLAY_RAY_ADDRESS=host:6379  a Ray cluster's head

Three parts:

- **Host actors** (`Host`), one per Ray node, long-lived: each trains many jobs at once as
  threads with today's `TrainingJob`, so TensorFlow is imported once per actor (a job's first
  epoch in 1-2.5 s, not the 7-15 s of an actor per job). A host is replaced after
  RECYCLE_AFTER jobs (TensorFlow keeps some memory per job for as long as a process lives).
  Actors are owned, not detached: when the server dies, its jobs die with it.
- **A proxy job** (`RayJob`) per job, on the driver: a `TrainingJob` whose thread takes its
  slot from the ordinary `JobManager`, then starts the job on a host and forwards the
  controls; a paused job gives its slot back, as in the thread backend.
- **Delta pulls.** One poller thread asks each host, in one call per poll, for what changed
  in its jobs since the last pull (`delta`): new history rows, the decision grid as uint8
  only when it was redrawn and a page is looking, status, epoch and ETA. `merge` folds a
  delta into the proxy's `Snapshot`. Both are plain functions (tested without Ray).

Data is rebuilt on the worker from the spec; an uploaded CSV travels as bytes. A finished
model comes back as the bytes of a `.keras` file and is opened in safe mode
(`nnplay.modelfile`), never pickled, so `job.model()` works for the store and Inspect.

Ray is imported here only, and only when the backend is used.
"""
from __future__ import annotations

import hashlib
import logging
import math
import os
import tempfile
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import numpy as np

from . import config
from .jobapi import FINISHED, Snapshot
from .job import JobManager, TrainingJob

log = logging.getLogger(__name__)

POLL_S = 0.25              # a pull every quarter second: what a page polling 4x/s needs
WATCHED_S = 1.5            # a job whose snapshot was read this recently gets its grid pulled
RECYCLE_AFTER = 50         # jobs a host actor trains before a fresh one replaces it
HOST_CONCURRENCY = 16      # calls a host serves at once (its jobs train in their own threads)
CALL_TIMEOUT_S = 60.0
LIVE_MODEL_S = 2.0         # a training job's model copy (for Inspect) is at most this old
SCALARS = ("status", "message", "epoch", "epochs", "samples_per_sec", "elapsed", "eta",
           "learning_rate", "pace", "best_epoch", "final", "task", "compiling",
           "metric_names", "grad_names")
CONTROLS = ("pause", "resume", "step", "stop", "set_learning_rate", "set_pace")


# ---- deltas: what a job changed since the driver last pulled (plain functions) ------------

def new_cursor() -> dict:
    """What the driver has of a job: history rows, the grid's version, the weight stats'."""
    return {"rows": 0, "grid": 0, "stats": None}


def stats_mark(snap: Snapshot):
    """Changes whenever the weight statistics do (a new or replaced entry, thinning)."""
    history = snap.weight_history
    return [len(history), history[-1]["epoch"] if history else None, len(snap.weights)]


def delta(snap: Snapshot, cursor: dict, grid: bool = True) -> dict:
    """What `snap` holds that the driver (at `cursor`) has not: the scalars always, history
    rows after `cursor["rows"]`, the grid (as uint8) if `grid` and it was redrawn, the weight
    statistics if they changed."""
    first = min(cursor["rows"], len(snap.grad_norms))
    out = {name: getattr(snap, name) for name in SCALARS}
    out["first_row"] = first
    out["history"] = {name: values[first:] for name, values in snap.history.items()}
    out["grad_norms"] = snap.grad_norms[first:]
    if grid and snap.grid is not None and snap.grid_version != cursor["grid"]:
        out["grid"], out["grid_version"] = encode_grid(snap.grid), snap.grid_version
        out["grid_epoch"] = snap.grid_epoch
    mark = stats_mark(snap)
    if mark != cursor["stats"]:
        out["weights"], out["weight_history"], out["stats"] = (
            snap.weights, snap.weight_history, mark)
    return out


def advance(cursor: dict, d: dict) -> dict:
    """The cursor once `d` is merged."""
    return {"rows": d["first_row"] + len(d["grad_norms"]),
            "grid": d.get("grid_version", cursor["grid"]),
            "stats": d.get("stats", cursor["stats"])}


def merge(snap: Snapshot, d: dict) -> tuple[list[dict], dict | None]:
    """Fold delta `d` into `snap`; return the new epoch rows (as the "epochs" listeners get
    them) and, once the remote job has finished, its end ({status, message, final}). The
    finished status itself is held back: the proxy shows it only after its listeners (the
    store) have run, as the thread backend does."""
    skip = len(snap.grad_norms) - d["first_row"]     # rows the driver already has
    if skip < 0:
        raise ValueError(f"delta starts at row {d['first_row']}, the driver has {len(snap.grad_norms)}")
    for name, values in d["history"].items():
        snap.history.setdefault(name, []).extend(values[skip:])
    norms = d["grad_norms"][skip:]
    snap.grad_norms.extend(norms)
    rows = [{"epoch": d["first_row"] + skip + i + 1,
             **{name: values[skip + i] for name, values in d["history"].items()},
             "grad_norms": g} for i, g in enumerate(norms)]
    end = None
    for name in SCALARS:
        value = d[name]
        if name in ("status", "message") and d["status"] in FINISHED:
            continue
        setattr(snap, name, value)
    if d["status"] in FINISHED:
        end = {"status": d["status"], "message": d["message"], "final": dict(d["final"])}
    if "grid" in d:
        snap.grid, snap.grid_version = decode_grid(d["grid"]), d["grid_version"]
        snap.grid_epoch = d["grid_epoch"]
    if "weights" in d:
        snap.weights, snap.weight_history = d["weights"], list(d["weight_history"])
    return rows, end


def encode_grid(grid: np.ndarray) -> tuple:
    """A decision grid in a quarter of the bytes: class numbers exactly, probabilities and
    values to 1/255 of their range."""
    grid = np.nan_to_num(np.asarray(grid, dtype=np.float32))   # a diverged model's NaNs
    lo, hi = float(np.nanmin(grid)), float(np.nanmax(grid))
    whole = np.all(grid == np.round(grid)) and hi - lo <= 255
    scale = 1.0 if whole else ((hi - lo) / 255 or 1.0)
    return np.round((grid - lo) / scale).astype(np.uint8), lo, scale


def decode_grid(encoded: tuple) -> np.ndarray:
    q, lo, scale = encoded
    return (q.astype(np.float32) * np.float32(scale) + np.float32(lo)).astype(np.float32)


# ---- the worker side: a host actor (a plain class; `ray.remote` wraps it when used) -------

class Host:
    """Trains many jobs at once, each a `TrainingJob` thread, in one Ray worker process
    that imports TensorFlow once (warmed up as the actor starts)."""

    def __init__(self, env: dict):
        # A local Ray's workers inherit the server's environment: without this, the warm-up
        # below would see NNPLAY_RAY_ADDRESS and start hosts of its own.
        os.environ.pop("NNPLAY_RAY_ADDRESS", None)
        os.environ.update(env)
        os.environ["NNPLAY_HOME"] = tempfile.mkdtemp(prefix="nnplay_ray_host_")
        self.jobs: dict[str, TrainingJob] = {}
        self.started = 0
        self._lock = threading.Lock()
        from . import warmup
        warmup.start()

    def start(self, job_id: str, spec_json: str, files: dict, weights: bytes | None,
              paused: bool, pace: float | None, learning_rate: float | None) -> int:
        """Start training a job; `files`: upload digest -> the CSV's bytes."""
        from .spec import Experiment
        folder = config.uploads_dir()
        folder.mkdir(parents=True, exist_ok=True)
        for digest, data in files.items():
            (folder / f"{digest}.csv").write_bytes(data)
        initial = None
        if weights is not None:
            initial = os.path.join(os.environ["NNPLAY_HOME"], f"{job_id}.keras")
            Path(initial).write_bytes(weights)
        job = TrainingJob(Experiment.from_json(spec_json), job_id=job_id, initial_weights=initial)
        job.set_pace(pace)
        if learning_rate is not None:
            job.set_learning_rate(learning_rate)
        with self._lock:
            self.jobs[job_id] = job
            self.started += 1
        job.start(paused=paused)
        return os.getpid()

    def control(self, job_id: str, action: str, *args) -> None:
        if action not in CONTROLS:
            raise ValueError(f"unknown control {action!r}")
        job = self.jobs.get(job_id)
        if job is not None:
            getattr(job, action)(*args)

    def pull(self, cursors: dict, watched: list) -> dict:
        """One call per poll for all of this host's jobs the driver follows: {"ready":
        TensorFlow loaded here, "jobs": {job id: delta, or None when unknown here}}."""
        from . import warmup
        out = {}
        for job_id, cursor in cursors.items():
            job = self.jobs.get(job_id)
            if job is None:
                out[job_id] = None
                continue
            snap = job.snapshot()
            out[job_id] = delta(snap, cursor, grid=job_id in watched or snap.finished)
        return {"ready": warmup.ready(), "jobs": out}

    def model_bytes(self, job_id: str) -> bytes | None:
        """The job's trained model as the bytes of a .keras file (None if it has none)."""
        job = self.jobs.get(job_id)
        model = job.model() if job is not None else None
        if model is None:
            return None
        fd, path = tempfile.mkstemp(suffix=".keras")
        os.close(fd)
        try:
            model.save(path)
            return Path(path).read_bytes()
        finally:
            os.unlink(path)

    def forget(self, job_id: str) -> None:
        with self._lock:
            job = self.jobs.pop(job_id, None)
        if job is not None:
            job.stop()

    def info(self) -> dict:
        return {"pid": os.getpid(), "started": self.started,
                "running": sum(j.alive for j in list(self.jobs.values()))}


# ---- the driver side ------------------------------------------------------------------------

def _ray():
    import ray
    return ray


class HostHandle:
    """A host actor as the driver sees it: its node, cores, the jobs placed on it."""

    def __init__(self, actor, node_id: str, cpus: float):
        self.actor, self.node_id, self.cpus = actor, node_id, cpus
        self.jobs: set[str] = set()
        self.started = 0
        self.ready = False
        self.retiring = False


class RayCluster:
    """This process's connection to Ray: the host actors (one per node) and the poller."""

    def __init__(self, address: str):
        ray = _ray()
        if not ray.is_initialized():
            _connect(ray, address)
        self.address = address
        self.hosts: list[HostHandle] = []
        self.jobs: dict[str, "RayJob"] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        with self._lock:
            self._cover_nodes()
        self._poller = threading.Thread(target=self._poll_loop, name="nnplay-ray-poll",
                                        daemon=True)
        self._poller.start()

    def capacity(self) -> float:
        """Training slots: the setting ray_slots, else the cluster's CPUs."""
        return config.ray_slots() or float(_ray().cluster_resources().get("CPU", 1.0))

    def _new_host(self, node_id: str, cpus: float) -> HostHandle:
        ray = _ray()
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
        actor = ray.remote(Host).options(
            num_cpus=0, max_concurrency=HOST_CONCURRENCY,
            runtime_env={"env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"}},
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
        ).remote(config.worker_env())
        return HostHandle(actor, node_id, cpus)

    def any_ready(self) -> bool:
        return any(h.ready for h in self.hosts)

    def wait_ready(self, timeout: float) -> bool:
        """Wait until a host has TensorFlow loaded (the bench times warm hosts)."""
        end = time.monotonic() + timeout
        while not self.any_ready() and time.monotonic() < end:
            time.sleep(0.1)
        return self.any_ready()

    def _cover_nodes(self):
        """One working host per live node with CPUs (lock held): a node that joined gets
        one, a node that left loses its own, a host that trained RECYCLE_AFTER jobs is
        replaced by a fresh one (and ends once its jobs have)."""
        live = dict(_nodes(_ray()))
        for host in list(self.hosts):
            if not host.retiring and (host.node_id not in live or host.started >= RECYCLE_AFTER):
                host.retiring = True
                self._kill_if_idle(host)
        covered = {h.node_id for h in self.hosts if not h.retiring}
        for node_id, cpus in live.items():
            if node_id not in covered:
                self.hosts.append(self._new_host(node_id, cpus))

    def place(self, job: "RayJob") -> HostHandle:
        """The least loaded host (jobs per core) takes the job."""
        with self._lock:
            self._cover_nodes()
            host = min((h for h in self.hosts if not h.retiring),
                       key=lambda h: (len(h.jobs) / max(h.cpus, 1e-9), not h.ready))
            host.jobs.add(job.id)
            host.started += 1
            self.jobs[job.id] = job
            return host

    def done(self, job: "RayJob"):
        """The job's end has been collected: the host forgets it."""
        with self._lock:
            self.jobs.pop(job.id, None)
            host = job.host
            if host is None:
                return
            host.jobs.discard(job.id)
            host.actor.forget.remote(job.id)
            self._kill_if_idle(host)

    def _kill_if_idle(self, host: HostHandle):
        if host.retiring and not host.jobs and host in self.hosts:
            self.hosts.remove(host)
            _ray().kill(host.actor)

    # ---- polling ---------------------------------------------------------------------------
    def _poll_loop(self):
        while not self._closed.is_set():
            started = time.monotonic()
            try:
                self.poll()
            except Exception:   # the poller must outlive any one bad pull
                log.exception("nnplay.ray_backend: poll failed")
            self._closed.wait(max(0.0, POLL_S - (time.monotonic() - started)))

    def poll(self):
        """One pull per host, all at once: every job on it, the grid for the watched ones."""
        ray = _ray()
        now = time.monotonic()
        with self._lock:
            # a job placed but not yet started on its host is not pulled: a threaded actor
            # may answer the pull before it runs the start, and the job would seem lost
            plan = [(h, [self.jobs[j] for j in h.jobs if j in self.jobs and self.jobs[j].launched])
                    for h in self.hosts]
        calls = []
        for host, jobs in plan:
            if not jobs and host.ready:
                continue
            cursors = {j.id: j.cursor for j in jobs}
            watched = [j.id for j in jobs if now - j.looked_at <= WATCHED_S]
            calls.append((host, jobs, host.actor.pull.remote(cursors, watched)))
        for host, jobs, ref in calls:
            try:
                answer = ray.get(ref, timeout=CALL_TIMEOUT_S)
            except Exception as e:   # the actor died (its node left) or hangs
                with self._lock:
                    host.retiring, host.jobs = True, set()
                    self._kill_if_idle(host)   # the next job gets a fresh host
                for job in jobs:
                    job.lost(f"the training worker stopped ({type(e).__name__}); train again")
                continue
            host.ready = answer["ready"]
            for job in jobs:
                d = answer["jobs"].get(job.id)
                if d is None:
                    job.lost("the training worker no longer has this job; train again")
                else:
                    job.apply(d)

    def shutdown(self):
        """Stop polling and end the host actors (their jobs end with them)."""
        self._closed.set()
        ray = _ray()
        with self._lock:
            hosts, self.hosts = self.hosts, []
            jobs = list(self.jobs.values())
        for host in hosts:
            ray.kill(host.actor)
        for job in jobs:
            job.lost("the server stopped using Ray; train again")


def _connect(ray, address: str):
    """Start or join Ray: workers at normal priority (Ray's default nice 15 halved training
    speed next to a busy server); no dashboard for a Ray of our own; workers' logs stay in
    Ray's log folder (the CLI's last line of stdout is its JSON)."""
    if address == "local":
        os.environ.setdefault("RAY_worker_niceness", "0")
        cpus = config.ray_slots() or os.cpu_count() or 2
        _in_lasting_thread(lambda: ray.init(num_cpus=math.ceil(cpus), include_dashboard=False,
                                            log_to_driver=False))
    else:   # another machine has no copy of this code: it travels with the job
        ray.init(address=address, log_to_driver=False,
                 runtime_env={"py_modules": [str(Path(__file__).parent)]})


_FOREVER = threading.Event()   # never set: the thread that started a local Ray waits on it


def _in_lasting_thread(start):
    """`start()` (returned or raised here) in a thread that lives as long as the process.
    A local Ray's own processes (GCS, raylet) die with the *thread* that started them
    (prctl PR_SET_PDEATHSIG, which Linux ties to the parent thread): started from a page's
    script thread, which ends with its run, they were killed a moment later and the server
    exited a minute after ("Failed to connect to GCS within 60 seconds"). A daemon thread:
    they still end with the server."""
    started: Future = Future()

    def run():
        try:
            started.set_result(start())
        except BaseException as e:   # handed to the caller, who reports it
            started.set_exception(e)
        _FOREVER.wait()

    threading.Thread(target=run, name="nnplay-ray-local", daemon=True).start()
    return started.result()


def _nodes(ray) -> list[tuple[str, float]]:
    nodes = [(n["NodeID"], float(n["Resources"].get("CPU", 0))) for n in ray.nodes()
             if n.get("Alive") and n["Resources"].get("CPU", 0) > 0]
    if not nodes:
        raise RuntimeError("the Ray cluster has no node with CPUs to train on")
    return nodes


class RayJob(TrainingJob):
    """A job that trains on a Ray host, seen from the server: the controls, slots, listeners
    and snapshot of a `TrainingJob`, with the training itself done remotely."""

    cluster: RayCluster   # set by `ray_manager`'s factory
    launched = False      # True once its host has started it (polls wait for that)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.host: HostHandle | None = None
        self.cursor = new_cursor()
        self.looked_at = -math.inf
        self._model = None             # the finished model, opened from the worker's bytes
        self._live = (None, -math.inf)  # a copy of the training model, and when it was taken
        self._live_lock = threading.Lock()
        self._remote_end: dict | None = None
        self._sent_run = None          # the last run/pause state sent to the host
        self._sent_pace = None         # the last pace sent to the host
        self._in_queue = False         # waiting here for a slot: "queued", whatever the host says

    # ---- what pages and the store read ----------------------------------------------------
    def snapshot(self) -> Snapshot:
        self.looked_at = time.monotonic()
        s = super().snapshot()
        s.warming_up = not (self.host.ready if self.host is not None else self.cluster.any_ready())
        return s

    def model(self):
        """The model, opened from the bytes of a .keras file the worker saved: once the job
        has finished, its trained model; while it trains, a copy at most LIVE_MODEL_S old
        (Inspect); None before it is built and once released."""
        if self._remote_end is not None or self.host is None:
            return self._model
        with self._live_lock:
            model, taken = self._live
            if time.monotonic() - taken >= LIVE_MODEL_S:
                try:
                    model = self._fetch_model()
                except Exception:   # the host is busy or gone: the last copy will do
                    log.exception("nnplay.ray_backend: no model copy of job %s", self.id)
                self._live = (model, time.monotonic())
            return model

    def predict(self, x: np.ndarray) -> np.ndarray:
        model = self.model()
        if model is None:
            raise LookupError("this job's model is not built yet or was let go after its run "
                              "was saved; read the saved run instead")
        return np.concatenate([np.asarray(model(x[i:i + 1024], training=False))
                               for i in range(0, len(x), 1024)]) if len(x) else np.zeros((0,))

    def release_model(self):
        super().release_model()
        self._model, self._live = None, (None, -math.inf)

    # ---- fed by the poller ------------------------------------------------------------------
    def apply(self, d: dict):
        """Merge a pulled delta; tell the listeners of new rows before the job can end."""
        with self._lock:
            rows, end = merge(self._snap, d)
            self.cursor = advance(self.cursor, d)
            if self.first_epoch_at is None and self._snap.epoch:   # first_point_seen's clock
                self.first_epoch_at = time.monotonic()
            if self._in_queue or (self._snap.status == "paused" and not self._pause):
                self._snap.status = "queued"   # waiting for a slot, or paused for a turn
        if rows:
            if self._snap.epoch >= 2:   # built and traced on its host
                self._warmed_up()
            self._emit("epochs", rows)
        if end is not None:
            self._remote_ended(end)

    def lost(self, message: str):
        self._remote_ended({"status": "failed", "message": message, "final": {}})

    def _remote_ended(self, end: dict):
        with self._lock:
            if self._remote_end is None:
                self._remote_end = end
            self._wake.notify_all()

    # ---- the proxy's thread (TrainingJob._main: slot, _prepare, _train_loop, end) ------------
    def _acquire_slot(self):
        self._in_queue = True
        try:
            super()._acquire_slot()
        finally:
            self._in_queue = False

    def _prepare(self):
        self._set(status="building")
        self.host = self.cluster.place(self)
        spec, files = remote_spec(self.exp)
        weights = Path(self.initial_weights).read_bytes() if self.initial_weights else None
        with self._lock:
            paused, pace, lr, self._lr = self._pause, self._pace, self._lr, None
        self._sent_run, self._sent_pace = not paused, pace
        _ray().get(self.host.actor.start.remote(self.id, spec, files, weights, paused, pace, lr),
                   timeout=CALL_TIMEOUT_S)
        self.launched = True

    def _send(self, action: str, *args):
        """One control, waited for: a threaded actor may run calls out of order, and a
        pause overtaken by the resume after it would leave the job paused."""
        _ray().get(self.host.actor.control.remote(self.id, action, *args), timeout=CALL_TIMEOUT_S)

    def _wait_remote(self, done, timeout: float = 0.5):
        with self._lock:
            self._wake.wait_for(lambda: self._remote_end is not None or done(), timeout)

    def _train_loop(self):
        """Forward the controls; hold a slot only while the remote job may train."""
        while self._remote_end is None:
            action = self._controls()
            if action == "wait":
                if self._sent_run is not False:
                    self._send("pause")
                    self._sent_run = False
                self._wait_remote(lambda: self._snap.status == "paused", timeout=5.0)
                if self._remote_end is None:
                    self._wait_while_paused()
            elif action == "stop":
                self._send("stop")
                self._wait_remote(lambda: False, timeout=CALL_TIMEOUT_S)
            elif action == "step":
                epoch = self._snap.epoch
                self._send("step")
                self._sent_run = False
                self._wait_remote(lambda: self._snap.epoch > epoch, timeout=CALL_TIMEOUT_S)
            else:
                if self._sent_run is not True:
                    self._send("resume")
                    self._sent_run = True
                self._wait_remote(lambda: self._pause or self._stop or self._steps
                                  or self._lr is not None or self._pace != self._sent_pace)
                if self.manager is not None and self.manager.should_yield(self):
                    self._take_turns()
        self._collect()

    def _take_turns(self):
        """A turn, as a thread job takes one: the host pauses the job while a newcomer's run
        starts, and the page shows it queued, not paused; the loop resumes it once the slot
        is back."""
        self._in_queue = True
        self._send("pause")
        self._sent_run = False
        super()._take_turns()

    def _controls(self) -> str:
        """The pending control, as TrainingJob's, with the learning rate and pace sent on."""
        with self._lock:
            lr, self._lr = self._lr, None
            pace = self._pace if self._pace != self._sent_pace else False
            self._sent_pace = self._pace
            action = ("stop" if self._stop else "step" if self._steps else
                      "wait" if self._pause else "run")
            if action == "step":
                self._steps -= 1
        if lr is not None:
            self._send("set_learning_rate", lr)
        if pace is not False:
            self._send("set_pace", pace)
        return action

    def _collect(self):
        """The remote job has ended: bring its model back, then end as TrainingJob does."""
        end = self._remote_end
        try:
            if end["status"] != "failed" and self._snap.epoch:
                self._model = self._fetch_model()
        except Exception:   # the run's metrics stand; only its model is missing
            log.exception("nnplay.ray_backend: could not bring back the model of job %s", self.id)
        finally:
            self.cluster.done(self)
            self._end = end

    def _fetch_model(self):
        data = _ray().get(self.host.actor.model_bytes.remote(self.id), timeout=CALL_TIMEOUT_S)
        if data is None:
            return None
        from .modelfile import load_model_file
        # weight paths as on the worker: the snapshot's weight statistics name them so
        return load_model_file(data, keep_paths=True)

    def _fail(self, error: Exception):
        super()._fail(error)
        if self.host is not None and self._remote_end is None:
            try:
                self._send("stop")
            except Exception:   # the host is gone: nothing left to stop
                pass
            self.cluster.done(self)


def remote_spec(exp) -> tuple[str, dict]:
    """The spec a worker trains from, and the CSV it needs as bytes: a data.path (an upload
    or, on a laptop, a local file) becomes an upload reference to the shipped bytes."""
    path = exp.data.path
    if not path:
        return exp.to_json(), {}
    from . import uploads
    data = uploads.read(path)
    digest = hashlib.sha256(data).hexdigest()[:16]
    shipped = exp.copy()
    shipped.data.path = uploads.reference(digest, uploads.display_name(path))
    return shipped.to_json(), {digest: data}


_MANAGER: JobManager | None = None
_MANAGER_LOCK = threading.Lock()


def ray_manager() -> JobManager:
    """The process's job manager on Ray (created, and Ray joined, on first use)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is None:
            cluster = RayCluster(config.ray_address() or "local")
            factory = type("BoundRayJob", (RayJob,), {"cluster": cluster})
            _MANAGER = JobManager(max_running=cluster.capacity(), job_factory=factory)
            _MANAGER.cluster = cluster
        return _MANAGER


def reset_manager():
    """End this process's Ray jobs and hosts (tests; a later `ray_manager()` starts over)."""
    global _MANAGER
    with _MANAGER_LOCK:
        if _MANAGER is not None:
            _MANAGER.cluster.shutdown()
        _MANAGER = None
