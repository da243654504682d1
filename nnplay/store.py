"""Runs kept on disk: a SQLite database (WAL) and one `.keras` file per trained model.

Every run is written as it trains, so nothing is lost when the app restarts or a tab
closes. A run whose process died while it was active shows as "interrupted", with its
history up to there.

    store = RunStore()                     # $NNPLAY_HOME, default ~/.nnplay
    run_id = attach(TrainingJob(exp), store)   # then job.start()
    store.history(run_id)["val_loss"]

Layout under the home folder: `runs.sqlite` (tables `runs`, `epochs` and `workspaces`) and
`models/<run_id>.keras`.

Workspaces (hosted mode): every run belongs to a workspace, named by the browser's secret
token; the store keeps only a hash of it (`workspace_id`). The empty workspace '' is the
laptop's: it lists, renames and deletes every run. Another workspace lists only its own runs;
it may read any run by id (a shared link), but renaming or deleting a run of another workspace
raises `RunAccessError`; `copy_run` makes it its own. A workspace keeps at most
`config.max_runs_per_workspace()` runs (its oldest finished ones are pruned, and
`pop_notice` says so once), and one not seen for `config.workspace_idle_hours()` is deleted
with its runs and models (`expire_idle`, when `expiry_due()`).

Concurrency: each call takes a connection from a small pool (a connection is used by one
thread at a time), writes are short `BEGIN IMMEDIATE` transactions, and SQLite's busy
timeout makes a writer wait for another thread or process instead of failing. WAL lets
readers (a page listing runs) go on while a job writes.

Liveness: each run row records the writing process's id and a start token (boot id and
process start time on Linux). On opening the store, an active run whose process is gone, or
whose pid now belongs to another process, is marked "interrupted". Runs of other live
processes (a CLI run beside the app) are left alone.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import os
import shutil
import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import config
from .jobapi import ACTIVE, FINISHED
from .spec import Experiment, SpecError

log = logging.getLogger(__name__)

DB_NAME = "runs.sqlite"
SCHEMA_VERSION = 1         # columns added later (runs.workspace) are migrated in place:
                           # an older nnplay still reads and writes such a database
BUSY_TIMEOUT_S = 30.0      # how long a writer waits for another writer before failing
FLUSH_EVERY_S = 0.5        # attach(): at most one epochs transaction per job this often
INTERRUPTED = "interrupted"

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL,
    message     TEXT NOT NULL DEFAULT '',
    created     REAL NOT NULL,
    updated     REAL NOT NULL,
    epochs      INTEGER NOT NULL DEFAULT 0,
    spec        TEXT NOT NULL,
    final       TEXT NOT NULL DEFAULT '{}',
    best_epoch  INTEGER NOT NULL DEFAULT 0,
    job_id      TEXT,
    pid         INTEGER NOT NULL,
    token       TEXT NOT NULL,
    workspace   TEXT NOT NULL DEFAULT ''    -- workspace_id(token), or '' for the laptop's runs
);
CREATE INDEX IF NOT EXISTS runs_by_created ON runs (created);
CREATE TABLE IF NOT EXISTS epochs (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    epoch       INTEGER NOT NULL,
    metrics     TEXT NOT NULL,          -- JSON object: Keras metric name -> value
    grad_norms  TEXT,                   -- JSON list: one norm per trainable variable
    PRIMARY KEY (run_id, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS workspaces (
    id          TEXT PRIMARY KEY,       -- workspace_id(token): the token itself is never stored
    name        TEXT NOT NULL DEFAULT '',   -- the display name the student gave
    created     REAL NOT NULL,
    last_seen   REAL NOT NULL,
    pruned      TEXT NOT NULL DEFAULT '[]'  -- JSON: names of runs pruned since the last notice
);
"""
MAX_WORKSPACE_NAME = 40


class RunAccessError(PermissionError):
    """The run belongs to another workspace: it can be looked at, never changed from here."""


def workspace_id(workspace: str) -> str:
    """What the store keeps of a workspace token: its SHA-256 ('' stays '': the laptop)."""
    return hashlib.sha256(workspace.encode()).hexdigest() if workspace else ""


@dataclass
class WorkspaceInfo:
    """A workspace as the teacher's view lists it."""
    id: str                # workspace_id(token)
    name: str              # display name ('' until the student gives one)
    created: float
    last_seen: float


@dataclass
class RunInfo:
    """One saved run, as `list_runs` and `get_run` return it."""
    id: str
    name: str
    status: str            # queued building running paused | completed early_stopping
    message: str           # stopped failed | interrupted
    created: float         # seconds since the epoch (time.time())
    updated: float
    epochs: int            # epochs stored so far
    spec: Experiment | None  # None only if the stored spec is from a newer nnplay
    final: dict = field(default_factory=dict)
    best_epoch: int = 0
    job_id: str | None = None
    workspace: str = ""    # workspace_id of its owner; '' for the laptop's runs

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def belongs_to(self, workspace: str) -> bool:
        """May `workspace` (a token; '' the laptop) rename or delete this run?"""
        return not workspace or self.workspace == workspace_id(workspace)


# ---- which process wrote a run -----------------------------------------------------------

def _start_token(pid: int) -> str | None:
    """Boot id + start time of process `pid` (Linux), None where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"


_identity: tuple[int, str] | None = None


def process_identity() -> tuple[int, str]:
    """(pid, start token) of this process; recomputed after a fork."""
    global _identity
    pid = os.getpid()
    if _identity is None or _identity[0] != pid:
        _identity = (pid, _start_token(pid) or f"uuid:{uuid.uuid4().hex}")
    return _identity


def _process_alive(pid: int, token: str) -> bool:
    """Is the process that wrote (pid, token) still running?"""
    me, my_token = process_identity()
    if pid == me:
        return token == my_token
    other = _start_token(pid)
    if other is not None:
        return other == token           # a reused pid has another start time
    if os.name != "posix":
        return False                    # cannot tell (os.kill(pid, 0) would kill on Windows)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ---- names --------------------------------------------------------------------------------

def run_name(exp: Experiment) -> str:
    """A short human name: "circle · 4-2 tanh · sgd 0.03"."""
    sizes, activations = [], []
    for layer in exp.model.layers:
        while isinstance(layer.get("layer"), dict):     # Bidirectional(LSTM(...)), ...
            layer = layer["layer"]
        size = layer.get("units", layer.get("filters"))
        if size is not None:
            sizes.append(str(size))
        act = layer.get("activation")
        if act and act not in activations:
            activations.append(act)
    stack = "-".join(sizes) or "no hidden layers"
    if activations:
        stack += " " + "/".join(activations)
    t = exp.train
    return f"{exp.data.dataset} · {stack} · {t.optimizer} {t.learning_rate:g}"


# ---- the store -----------------------------------------------------------------------------

class RunStore:
    """Runs on disk under `home` (default: $NNPLAY_HOME or ~/.nnplay). Thread-safe."""

    def __init__(self, home: str | Path | None = None):
        self.home = Path(home).expanduser() if home is not None else config.home()
        self.models_dir = self.home / "models"
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.home / DB_NAME
        self._pool: list[sqlite3.Connection] = []
        self._pool_pid = os.getpid()
        self._pool_lock = threading.Lock()
        self._last_expiry = -math.inf        # expiry_due(): True on the first call
        self._create_schema()
        self.mark_interrupted()

    # ---- connections ----------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")   # WAL: safe from corruption, no fsync per commit
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @contextmanager
    def _connection(self, write: bool = False):
        """A pooled connection; with `write`, inside one BEGIN IMMEDIATE transaction."""
        with self._pool_lock:
            if self._pool_pid != os.getpid():   # forked: the parent's handles are neither
                self._inherited = self._pool    # used nor closed here (SQLite's rule)
                self._pool, self._pool_pid = [], os.getpid()
            conn = self._pool.pop() if self._pool else None
        conn = conn or self._open()
        try:
            if not write:
                yield conn
            else:
                conn.execute("BEGIN IMMEDIATE")     # take the write lock now: no upgrade deadlock
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:     # SQLite may have rolled back already
                        conn.execute("ROLLBACK")
                    raise
        finally:
            with self._pool_lock:
                if self._pool_pid == os.getpid():
                    self._pool.append(conn)

    def close(self):
        """Close the pooled connections (the store reopens them on the next call)."""
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()

    def _create_schema(self):
        with self._connection(write=True) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path} was written by a newer nnplay "
                                   f"(schema {version}); this one reads up to {SCHEMA_VERSION}")
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            _add_workspace_column(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def mark_interrupted(self) -> list[str]:
        """Mark active runs whose writing process is gone as interrupted; return their ids."""
        marks = ",".join("?" * len(ACTIVE))
        with self._connection() as db:
            active = db.execute(f"SELECT id, pid, token FROM runs WHERE status IN ({marks})",
                                ACTIVE).fetchall()
        dead = [run_id for run_id, pid, token in active if not _process_alive(pid, token)]
        if dead:
            with self._connection(write=True) as db:
                db.executemany(
                    f"UPDATE runs SET status = ?, updated = ?, message = 'interrupted: the "
                    f"process training it ended after epoch ' || epochs "
                    f"WHERE id = ? AND status IN ({marks})",
                    [(INTERRUPTED, time.time(), run_id, *ACTIVE) for run_id in dead])
        return dead

    # ---- writing ---------------------------------------------------------------------------
    def create_run(self, exp: Experiment, name: str | None = None, job_id: str | None = None,
                   workspace: str = "") -> str:
        """Record a new run of `exp` (status "queued") in `workspace` (a token); return its id."""
        def insert(db, run_id, name, ws, now):
            db.execute("INSERT INTO runs (id, name, status, created, updated, spec, job_id, pid, "
                       "token, workspace) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, name, now, now, exp.to_json(indent=None), job_id,
                        *process_identity(), ws))
        return self._add_run(workspace, name or run_name(exp), insert)

    def copy_run(self, run_id: str, workspace: str) -> str:
        """Copy a finished run (row, epochs, model file) into `workspace`; return the copy's id.
        KeyError if there is no such run, ValueError while it still trains."""
        source = self.get_run(run_id)
        if source.active:
            raise ValueError(f"“{source.name}” is still training: copy it once it has finished")

        def insert(db, new_id, name, ws, now):
            db.execute("INSERT INTO runs (id, name, status, message, created, updated, epochs, "
                       "spec, final, best_epoch, pid, token, workspace) SELECT ?, ?, status, "
                       "message, ?, ?, epochs, spec, final, best_epoch, ?, ?, ? FROM runs "
                       "WHERE id = ?", (new_id, name, now, now, *process_identity(), ws, run_id))
            db.execute("INSERT INTO epochs (run_id, epoch, metrics, grad_norms) SELECT ?, epoch, "
                       "metrics, grad_norms FROM epochs WHERE run_id = ?", (new_id, run_id))
        new_id = self._add_run(workspace, source.name, insert)
        model = self.model_path(run_id)
        if model is not None:
            partial = self.models_dir / f"{new_id}.{os.getpid()}.partial.keras"
            shutil.copyfile(model, partial)
            os.replace(partial, self.models_dir / f"{new_id}.keras")
        return new_id

    def _add_run(self, workspace: str, name: str, insert) -> str:
        """Insert a run with `insert(db, run_id, unique_name, ws, now)`, then keep the
        workspace's cap (pruning its oldest finished runs)."""
        run_id, ws, now = uuid.uuid4().hex[:12], workspace_id(workspace), time.time()
        pruned = []
        with self._connection(write=True) as db:
            insert(db, run_id, self._unique_name(db, ws, name), ws, now)
            if ws:
                _touch(db, ws, now)
                pruned = _prune(db, ws, config.max_runs_per_workspace())
        self._unlink_models(pruned)
        return run_id

    def _unlink_models(self, run_ids):
        for run_id in run_ids:
            (self.models_dir / f"{run_id}.keras").unlink(missing_ok=True)

    @staticmethod
    def _unique_name(db, ws: str, name: str) -> str:
        """`name`, or `name #2`, `#3`, ... so that legends and lists tell a workspace's runs
        apart."""
        taken = {row[0] for row in db.execute(
            "SELECT name FROM runs WHERE workspace = ? AND (name = ? OR name LIKE ?)",
            (ws, name, name + " #%"))}
        if name not in taken:
            return name
        return f"{name} #{next(k for k in range(2, len(taken) + 3) if f'{name} #{k}' not in taken)}"

    def add_epochs(self, run_id: str, rows: list[dict]):
        """Store epoch rows ({"epoch", metrics..., "grad_norms"}) in one transaction.

        An epoch stored twice keeps the later row. Rows for a deleted run are dropped."""
        if not rows:
            return
        records = []
        for row in rows:
            metrics = {k: v for k, v in row.items() if k not in ("epoch", "grad_norms")}
            grads = row.get("grad_norms")
            records.append((run_id, int(row["epoch"]), _json(metrics),
                            None if grads is None else _json(grads)))
        last = max(r[1] for r in records)
        with self._connection(write=True) as db:
            found = db.execute(
                "UPDATE runs SET epochs = max(epochs, ?), updated = ?, status = CASE WHEN status "
                "IN ('queued', 'building') THEN 'running' ELSE status END WHERE id = ?",
                (last, time.time(), run_id)).rowcount
            if found:
                db.executemany("INSERT OR REPLACE INTO epochs (run_id, epoch, metrics, grad_norms) "
                               "VALUES (?, ?, ?, ?)", records)

    def finish(self, run_id: str, status: str, message: str = "", final: dict | None = None,
               best_epoch: int = 0):
        """Record how the run ended: one of completed early_stopping stopped failed."""
        if status not in FINISHED:
            raise ValueError(f"status must be one of {', '.join(FINISHED)}, got {status!r}")
        with self._connection(write=True) as db:
            db.execute("UPDATE runs SET status = ?, message = ?, final = ?, best_epoch = ?, "
                       "updated = ? WHERE id = ?",
                       (status, message or "", _json(final or {}), int(best_epoch or 0),
                        time.time(), run_id))

    def save_model(self, run_id: str, keras_model) -> Path | None:
        """Save the model as models/<run_id>.keras (atomically); None if the run is gone."""
        if not self._exists(run_id):
            return None
        path = self.models_dir / f"{run_id}.keras"
        partial = self.models_dir / f"{run_id}.{os.getpid()}-{threading.get_ident()}.partial.keras"
        try:
            keras_model.save(partial)
            os.replace(partial, path)     # a reader never sees half a file
        finally:
            partial.unlink(missing_ok=True)
        if not self._exists(run_id):      # deleted while saving
            path.unlink(missing_ok=True)
            return None
        return path

    def rename(self, run_id: str, name: str, workspace: str = ""):
        """Rename a run of `workspace` (RunAccessError for another workspace's run)."""
        name = (name or "").strip()
        if not name:
            raise ValueError("a run name cannot be empty")
        with self._connection(write=True) as db:
            if not self._may_change(db, run_id, workspace):
                raise KeyError(f"no run {run_id!r}")
            db.execute("UPDATE runs SET name = ? WHERE id = ?", (name, run_id))

    def delete(self, run_id: str, workspace: str = ""):
        """Forget a run of `workspace`, its epochs and its model file (a missing run is not an
        error; another workspace's run raises RunAccessError)."""
        with self._connection(write=True) as db:
            if self._may_change(db, run_id, workspace):
                db.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        self._unlink_models([run_id])

    @staticmethod
    def _may_change(db, run_id: str, workspace: str) -> bool:
        """False when there is no such run; RunAccessError when it is another workspace's."""
        row = db.execute("SELECT workspace FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            return False
        if workspace and row[0] != workspace_id(workspace):
            raise RunAccessError("this run belongs to another workspace: it can be looked at, "
                                 "not renamed or deleted (copy it into your workspace first)")
        return True

    # ---- workspaces ------------------------------------------------------------------------
    def touch_workspace(self, workspace: str, name: str | None = None):
        """Record a visit of `workspace` (creating it), and its display name if given."""
        ws = workspace_id(workspace)
        if not ws:
            return
        with self._connection(write=True) as db:
            _touch(db, ws, time.time())
            if name is not None:
                db.execute("UPDATE workspaces SET name = ? WHERE id = ?",
                           (name.strip()[:MAX_WORKSPACE_NAME], ws))

    def workspace_name(self, workspace: str) -> str:
        with self._connection() as db:
            row = db.execute("SELECT name FROM workspaces WHERE id = ?",
                             (workspace_id(workspace),)).fetchone()
        return row[0] if row else ""

    def workspaces(self) -> dict[str, WorkspaceInfo]:
        """Every workspace by id (the teacher's view names runs' owners with it)."""
        with self._connection() as db:
            rows = db.execute("SELECT id, name, created, last_seen FROM workspaces").fetchall()
        return {row[0]: WorkspaceInfo(*row) for row in rows}

    def pop_notice(self, workspace: str) -> str | None:
        """What the workspace should be told once: which of its runs the cap removed."""
        ws = workspace_id(workspace)
        with self._connection() as db:    # read first: most page runs have nothing to say
            row = db.execute("SELECT pruned FROM workspaces WHERE id = ?", (ws,)).fetchone()
        if row is None or row[0] == "[]":
            return None
        with self._connection(write=True) as db:
            # only the session that clears the list says it (two tabs of one workspace)
            if not db.execute("UPDATE workspaces SET pruned = '[]' WHERE id = ? AND pruned = ?",
                              (ws, row[0])).rowcount:
                return None
        names = json.loads(row[0])
        keeps = f"a workspace keeps {config.max_runs_per_workspace()} runs"
        if len(names) == 1:
            return f"Your oldest run “{names[0]}” was removed: {keeps}."
        shown = ", ".join(f"“{n}”" for n in names[:3]) + (", …" if len(names) > 3 else "")
        return f"Your {len(names)} oldest runs ({shown}) were removed: {keeps}."

    def expire_idle(self, idle_hours: float | None = None) -> list[str]:
        """Delete the workspaces nobody opened for `idle_hours` (default: the host's
        setting) with their runs and model files; return their ids. Runs still training are
        kept (and so is their workspace, until they end)."""
        hours = config.workspace_idle_hours() if idle_hours is None else idle_hours
        marks = ",".join("?" * len(ACTIVE))
        with self._connection(write=True) as db:
            idle = [row[0] for row in db.execute("SELECT id FROM workspaces WHERE last_seen < ?",
                                                 (time.time() - hours * 3600,))]
            runs = [row[0] for ws in idle for row in db.execute(
                f"SELECT id FROM runs WHERE workspace = ? AND status NOT IN ({marks})",
                (ws, *ACTIVE))]
            db.executemany("DELETE FROM runs WHERE id = ?", [(r,) for r in runs])
            db.executemany("DELETE FROM workspaces WHERE id = ? AND NOT EXISTS "
                           "(SELECT 1 FROM runs WHERE workspace = ?)", [(ws, ws) for ws in idle])
        self._unlink_models(runs)
        if idle:
            log.info("nnplay.store: expired %d idle workspaces (%d runs)", len(idle), len(runs))
        return idle

    def expiry_due(self, every_s: float = 3600.0) -> bool:
        """Whether `expire_idle()` should run now: True on the first call in this process,
        then at most once per `every_s` (the caller then runs it, off the page's thread:
        expiring a class's workspaces takes about a second)."""
        with self._pool_lock:
            now = time.monotonic()
            if now < self._last_expiry + every_s:
                return False
            self._last_expiry = now
            return True

    # ---- reading ---------------------------------------------------------------------------
    _COLUMNS = ("id, name, status, message, created, updated, epochs, spec, final, best_epoch, "
                "job_id, workspace")

    def list_runs(self, workspace: str = "") -> list[RunInfo]:
        """The runs of `workspace` (a token; '': every run), newest first."""
        where, args = ("", ())
        if workspace:
            where, args = "WHERE workspace = ? ", (workspace_id(workspace),)
        with self._connection() as db:
            rows = db.execute(f"SELECT {self._COLUMNS} FROM runs {where}"
                              "ORDER BY created DESC, rowid DESC", args).fetchall()
        return [_run_info(r) for r in rows]

    def get_run(self, run_id: str) -> RunInfo:
        with self._connection() as db:
            row = db.execute(f"SELECT {self._COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no run {run_id!r}")
        return _run_info(row)

    def history(self, run_id: str, after: int = 0) -> dict[str, list[float]]:
        """{"epoch": [1, 2, ...], "loss": [...], "val_loss": [...], ...} in epoch order;
        `after`: only the epochs past that one (a page that has the rest)."""
        rows = self._epoch_rows(run_id, after, grads=False)
        names = _metric_names(metrics for _, metrics, _ in rows)
        out = {"epoch": [epoch for epoch, _, _ in rows]}
        out.update({n: [m.get(n, math.nan) for _, m, _ in rows] for n in names})
        return out

    def grad_norms(self, run_id: str) -> list[list[float]]:
        """Per epoch, the gradient norm of each trainable variable (as the engine reports)."""
        return [grads or [] for _, _, grads in self._epoch_rows(run_id)]

    def model_path(self, run_id: str) -> Path | None:
        path = self.models_dir / f"{run_id}.keras"
        return path if path.is_file() else None

    def metrics_csv(self, run_ids: list[str]) -> str:
        """Wide CSV: run_id, run_name, epoch, then every metric of the runs (blank if absent)."""
        runs = [(self.get_run(run_id), self._epoch_rows(run_id)) for run_id in run_ids]
        names = _metric_names(m for _, rows in runs for _, m, _ in rows)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["run_id", "run_name", "epoch", *names])
        for info, rows in runs:
            for epoch, metrics, _ in rows:
                writer.writerow([info.id, info.name, epoch,
                                 *(repr(metrics[n]) if n in metrics else "" for n in names)])
        return out.getvalue()

    def _epoch_rows(self, run_id: str, after: int = 0,
                    grads: bool = True) -> list[tuple[int, dict, list | None]]:
        # without the gradient norms when not asked for: they are most of a row's JSON
        with self._connection() as db:
            rows = db.execute(f"SELECT epoch, metrics, {'grad_norms' if grads else 'NULL'} FROM "
                              "epochs WHERE run_id = ? AND epoch > ? ORDER BY epoch",
                              (run_id, after)).fetchall()
        return [(e, json.loads(m), json.loads(g) if g else None) for e, m, g in rows]

    def _exists(self, run_id: str) -> bool:
        with self._connection() as db:
            return db.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is not None


def _run_info(row) -> RunInfo:
    run_id, name, status, message, created, updated, epochs, spec, final, best, job_id, ws = row
    try:
        exp = Experiment.from_json(spec)
    except SpecError:
        exp = None
    return RunInfo(run_id, name, status, message, created, updated, epochs, exp,
                   json.loads(final), best, job_id, ws)


def _add_workspace_column(db):
    """Migrate a database from before workspaces: its runs become the laptop's ('')."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    if "workspace" not in columns:
        db.execute("ALTER TABLE runs ADD COLUMN workspace TEXT NOT NULL DEFAULT ''")
    db.execute("CREATE INDEX IF NOT EXISTS runs_by_workspace ON runs (workspace, created)")


def _touch(db, ws: str, now: float):
    db.execute("INSERT INTO workspaces (id, created, last_seen) VALUES (?, ?, ?) "
               "ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen", (ws, now, now))


def _prune(db, ws: str, cap: int | None) -> list[str]:
    """Delete the workspace's oldest finished runs beyond `cap`; remember their names for
    the notice; return their ids (their model files are the caller's to delete)."""
    if cap is None:
        return []
    excess = db.execute("SELECT count(*) FROM runs WHERE workspace = ?", (ws,)).fetchone()[0] - cap
    if excess <= 0:
        return []
    marks = ",".join("?" * len(ACTIVE))
    oldest = db.execute(f"SELECT id, name FROM runs WHERE workspace = ? AND status NOT IN "
                        f"({marks}) ORDER BY created, rowid LIMIT ?",
                        (ws, *ACTIVE, excess)).fetchall()
    db.executemany("DELETE FROM runs WHERE id = ?", [(run_id,) for run_id, _ in oldest])
    (pending,) = db.execute("SELECT pruned FROM workspaces WHERE id = ?", (ws,)).fetchone()
    db.execute("UPDATE workspaces SET pruned = ? WHERE id = ?",
               (json.dumps(json.loads(pending) + [name for _, name in oldest]), ws))
    return [run_id for run_id, _ in oldest]


def _json(value) -> str:
    """JSON that also takes numpy scalars and arrays (NaN/inf kept, as Python's json does)."""
    return json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else float(o))


def _metric_names(metric_dicts) -> list[str]:
    """Metric names in the order they first appear (dicts keep the engine's order)."""
    names = {}
    for metrics in metric_dicts:
        names.update(dict.fromkeys(metrics))
    return list(names)


# ---- recording a TrainingJob ----------------------------------------------------------------

def attach(job, store: RunStore, name: str | None = None) -> str:
    """Create a run for `job` (in the job's workspace) and record it as it trains; return
    the run id.

    Call it before `job.start()`; attached later, the epochs so far are copied from the
    job's snapshot. Epoch rows are written in batches (at most one transaction per
    FLUSH_EVERY_S), and at the end the final status, metrics and the model."""
    run_id = store.create_run(job.exp, name=name, job_id=job.id,
                              workspace=getattr(job, "workspace", ""))
    _Recorder(store, run_id).listen_to(job)
    return run_id


class _Recorder:
    """The listener `attach` puts on a job: buffers epoch rows and writes them in batches."""

    def __init__(self, store: RunStore, run_id: str, every: float = FLUSH_EVERY_S):
        self.store, self.run_id, self.every = store, run_id, every
        self._rows: list[dict] = []
        self._lock = threading.Lock()
        self._last_flush = -math.inf
        self._timer: threading.Timer | None = None
        self._done = False

    def listen_to(self, job):
        with self._lock:    # the job's own events wait until the rows so far are copied
            job.add_listener(self)
            snap = job.snapshot()
            self._rows[:0] = [
                {"epoch": i + 1, **{n: v[i] for n, v in snap.history.items() if i < len(v)},
                 "grad_norms": snap.grad_norms[i] if i < len(snap.grad_norms) else None}
                for i in range(snap.epoch)]
        if snap.finished:
            self.on_finished(job, snap)
        elif snap.epoch:
            self.flush()

    def __call__(self, job, event: str, data):
        if event == "epochs":
            self.on_epochs(data)
        elif event == "finished":
            self.on_finished(job, data)

    def on_epochs(self, rows: list[dict]):
        with self._lock:
            if self._done:
                return
            self._rows.extend(rows)
            wait = self._last_flush + self.every - time.monotonic()
            if wait > 0:
                # a timer writes the rows even if no more epochs come (paused, stuck)
                if self._timer is None:
                    self._timer = threading.Timer(wait, self.flush)
                    self._timer.daemon = True
                    self._timer.start()
                return
        self.flush()

    def flush(self):
        with self._lock:
            self._flush_locked()

    def _flush_locked(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        rows, self._rows = self._rows, []
        self._last_flush = time.monotonic()
        if not rows:
            return
        try:
            self.store.add_epochs(self.run_id, rows)
        except Exception:
            self._rows[:0] = rows         # kept for the next flush; training goes on
            log.exception("nnplay.store: could not save %d epochs of run %s to %s; "
                          "will retry", len(rows), self.run_id, self.store.path)

    def on_finished(self, job, snap):
        with self._lock:
            if self._done:
                return
            self._done = True
            self._flush_locked()
            epochs_saved = not self._rows
        model_saved = self._save_model(job, snap)
        try:
            self.store.finish(self.run_id, snap.status, snap.message, snap.final, snap.best_epoch)
        except Exception:
            log.exception("nnplay.store: could not record the end of run %s in %s",
                          self.run_id, self.store.path)
            return
        if epochs_saved and model_saved:
            job.mark_saved(self.run_id)   # the manager may now let the job's model go

    def _save_model(self, job, snap) -> bool:
        """Keep the trained model, unless the run failed (its weights may be NaN); False when
        a model to keep could not be written."""
        model = job.model()
        if model is None or snap.status == "failed" or not snap.epoch:
            return True
        started = time.perf_counter()
        try:
            self.store.save_model(self.run_id, model)
        except Exception:
            log.exception("nnplay.store: could not save the model of run %s", self.run_id)
            return False
        log.debug("saved model of run %s in %.3f s", self.run_id, time.perf_counter() - started)
        return True
