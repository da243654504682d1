"""RunStore: runs kept on disk (SQLite in WAL mode + .keras files), recovery, concurrency."""
import logging
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import nnplay.store as store_mod
from nnplay.data import load
from nnplay.job import TrainingJob
from nnplay.spec import Experiment
from nnplay.store import RunStore, attach, run_name

from conftest import make_exp

ROOT = Path(__file__).resolve().parents[1]


def row(epoch: int, run: int = 0) -> dict:
    """An epoch row as the engine emits it, with values that identify run and epoch."""
    return {"epoch": epoch, "loss": run + epoch / 1000, "accuracy": 0.5 + epoch / 1e6,
            "val_loss": run + epoch / 999, "val_accuracy": 0.25, "grad_norms": [epoch, run / 3]}


class FakeModel:
    def save(self, path):
        Path(path).write_bytes(b"model")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def circle():
    return load(make_exp().data)


def python(script: str, home: Path, **kwargs) -> subprocess.Popen:
    """Run `script` in a second Python process on the same store."""
    env = {**os.environ, "NNPLAY_HOME": str(home),
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            **kwargs)


# ---- the basics --------------------------------------------------------------------------

def test_round_trip_create_add_finish_list_history_rename_delete(home):
    store = RunStore()                      # from $NNPLAY_HOME
    assert store.path == home / "runs.sqlite"
    exp = Experiment()
    first = store.create_run(exp, job_id="job1")
    second = store.create_run(make_exp(data={"dataset": "xor"}), name="mine")
    info = store.get_run(first)
    assert (info.name, info.status, info.epochs, info.job_id) == \
        ("circle · 4-2 tanh · sgd 0.03", "queued", 0, "job1")
    assert info.spec == exp and info.final == {} and info.created <= info.updated

    store.add_epochs(first, [row(1), row(2)])
    store.add_epochs(first, [row(3)])
    assert store.get_run(first).status == "running" and store.get_run(first).epochs == 3
    history = store.history(first)
    assert list(history) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert history["epoch"] == [1, 2, 3]
    assert history["val_loss"] == [row(e)["val_loss"] for e in (1, 2, 3)]
    assert store.grad_norms(first) == [[1, 0], [2, 0], [3, 0]]

    store.finish(first, "completed", "finished all 3 epochs", {"loss": 0.003, "val_loss": 0.25}, 2)
    info = store.get_run(first)
    assert (info.status, info.message, info.final, info.best_epoch) == \
        ("completed", "finished all 3 epochs", {"loss": 0.003, "val_loss": 0.25}, 2)
    with pytest.raises(ValueError, match="status must be one of"):
        store.finish(first, "done")

    assert [r.id for r in store.list_runs()] == [second, first]      # newest first
    store.rename(first, "  baseline ")
    assert store.get_run(first).name == "baseline"
    with pytest.raises(ValueError):
        store.rename(first, " ")

    path = store.save_model(first, FakeModel())
    assert path == home / "models" / f"{first}.keras" == store.model_path(first)
    assert store.model_path(second) is None
    store.delete(first)
    assert not path.exists() and [r.id for r in store.list_runs()] == [second]
    assert store.history(first) == {"epoch": []}
    with pytest.raises(KeyError):
        store.get_run(first)
    store.add_epochs(first, [row(4)])          # a job still writing to a deleted run: dropped
    assert store.save_model(first, FakeModel()) is None and store.model_path(first) is None


def test_wal_mode_and_schema(home):
    store = RunStore(home)
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == store_mod.SCHEMA_VERSION


def test_run_names_say_data_stack_and_optimizer():
    exp = make_exp(data={"dataset": "digits"},
                   model={"layers": [{"type": "Conv2D", "filters": 8, "activation": "relu"},
                                     {"type": "Flatten"}, {"type": "Dropout", "rate": 0.2},
                                     {"type": "Dense", "units": 32, "activation": "tanh"}]},
                   train={"optimizer": "adam", "learning_rate": 0.001})
    assert run_name(exp) == "digits · 8-32 relu/tanh · adam 0.001"
    lstm = make_exp(model={"layers": [{"type": "Bidirectional", "layer": {"type": "LSTM", "units": 16}}]})
    assert run_name(lstm) == "circle · 16 · sgd 0.03"
    assert run_name(make_exp(model={"layers": []})) == "circle · no hidden layers · sgd 0.03"


def test_metrics_csv_has_one_header_and_a_row_per_epoch(home):
    store = RunStore(home)
    a, b = store.create_run(Experiment()), store.create_run(Experiment(), name="b, quoted")
    store.add_epochs(a, [row(e, 1) for e in range(1, 6)])
    store.add_epochs(b, [{"epoch": e, "loss": 0.5, "mae": 0.1} for e in range(1, 4)])
    lines = store.metrics_csv([a, b]).splitlines()
    assert lines[0] == "run_id,run_name,epoch,loss,accuracy,val_loss,val_accuracy,mae"
    assert len(lines) == 1 + 5 + 3
    assert lines[1].startswith(f"{a},circle · 4-2 tanh · sgd 0.03,1,1.001,")
    assert lines[-1] == f'{b},"b, quoted",3,0.5,,,,0.1'


# ---- nothing is lost on restart ----------------------------------------------------------

def test_runs_survive_reopening_and_cut_off_runs_show_interrupted(home, monkeypatch):
    store = RunStore(home)
    done = store.create_run(Experiment())
    store.add_epochs(done, [row(1), row(2)])
    store.finish(done, "completed", "finished all 2 epochs", {"loss": 0.002}, 2)
    live = store.create_run(Experiment())          # a run this process is still training
    store.add_epochs(live, [row(1)])
    # a run written by an earlier life of this process id (another start token), left running
    monkeypatch.setattr(store_mod, "_identity", (os.getpid(), "earlier-start-token"))
    cut = store.create_run(Experiment())
    store.add_epochs(cut, [row(e) for e in range(1, 8)])
    monkeypatch.setattr(store_mod, "_identity", None)

    reopened = RunStore(home)
    runs = {r.id: r for r in reopened.list_runs()}
    assert runs[done].status == "completed" and runs[done].final == {"loss": 0.002}
    assert reopened.history(done)["loss"] == [row(1)["loss"], row(2)["loss"]]
    assert runs[live].status == "running"
    assert runs[cut].status == "interrupted" and "after epoch 7" in runs[cut].message
    assert reopened.history(cut)["epoch"] == list(range(1, 8))


def test_a_process_that_dies_while_training_leaves_an_interrupted_run(home):
    proc = python("""
        import os
        from nnplay.spec import Experiment
        from nnplay.store import RunStore
        store = RunStore()
        run = store.create_run(Experiment(), name="killed")
        store.add_epochs(run, [{"epoch": e, "loss": 1 / e} for e in range(1, 6)])
        print(run, flush=True)
        os._exit(0)             # no finish(), no cleanup: as if the app was killed
    """, home)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    run = out.strip()
    info = RunStore(home).get_run(run)
    assert info.status == "interrupted" and info.epochs == 5
    assert RunStore(home).history(run)["loss"] == [1 / e for e in range(1, 6)]


# ---- concurrent writers ------------------------------------------------------------------

WRITER = """
    import sys
    import time
    from nnplay.spec import Experiment
    from nnplay.store import RunStore
    store = RunStore()          # opening must not mark the other process's live runs interrupted
    runs = [store.create_run(Experiment(), name=f"process {i}") for i in range(2)]
    print(" ".join(runs), flush=True)
    sys.stdin.readline()        # go
    print(time.time(), flush=True)
    for epoch in range(1, 301):
        for i, run in enumerate(runs):
            store.add_epochs(run, [{"epoch": epoch, "loss": 100 + i + epoch / 1000}])
    for run in runs:
        store.finish(run, "completed", "", {"loss": 1.0}, 300)
    print(time.time(), flush=True)
"""


def test_threads_and_a_second_process_write_at_once_without_losing_rows(home):
    store = RunStore(home)
    stores = [store] * 4 + [RunStore(home) for _ in range(4)]   # shared and own instances
    runs = [s.create_run(Experiment(), name=f"thread {i}") for i, s in enumerate(stores)]
    for i, (s, run) in enumerate(zip(stores, runs)):
        s.add_epochs(run, [row(1, i)])                             # active before the process opens
    proc = python(WRITER, home)
    proc_runs = proc.stdout.readline().split()
    assert len(proc_runs) == 2, proc.stderr.read()

    errors, spans, go = [], [], threading.Barrier(len(runs) + 1)

    def write(i):
        try:
            go.wait()
            started = time.time()
            for epoch in range(2, 201):                         # one transaction per epoch
                stores[i].add_epochs(runs[i], [row(epoch, i)])
            stores[i].finish(runs[i], "completed", "", {"loss": i}, 200)
            spans.append((started, time.time()))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(runs))]
    for t in threads:
        t.start()
    proc.stdin.write("go\n")
    proc.stdin.flush()
    go.wait()
    while any(t.is_alive() for t in threads):                   # readers are not blocked
        store.list_runs()
        store.history(runs[0])
    for t in threads:
        t.join()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert not errors
    process_start, process_end = map(float, out.split())
    assert process_start < min(end for _, end in spans) and max(s for s, _ in spans) < process_end, \
        "the process and the threads did not write at the same time"

    for i, run in enumerate(runs):
        info, history = store.get_run(run), store.history(run)
        assert info.status == "completed" and info.epochs == 200
        assert history["epoch"] == list(range(1, 201))
        assert history["loss"] == [row(e, i)["loss"] for e in range(1, 201)]
    for i, run in enumerate(proc_runs):
        assert store.get_run(run).status == "completed"
        assert store.history(run)["loss"] == [100 + i + e / 1000 for e in range(1, 301)]
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT count(*) FROM epochs").fetchone()[0] == 8 * 200 + 2 * 300


# ---- recording a TrainingJob -------------------------------------------------------------

def test_attach_records_a_training_job_with_its_model(home, circle):
    import keras
    exp = Experiment()
    exp.train.epochs = 40
    store = RunStore()
    job = TrainingJob(exp, circle)
    run = attach(job, store)
    snap = job.start().wait(120)
    assert snap.status == "completed"

    info = store.get_run(run)
    assert (info.status, info.message, info.epochs, info.best_epoch, info.job_id) == \
        ("completed", snap.message, 40, snap.best_epoch, job.id)
    assert info.final == snap.final and info.spec == exp
    history = store.history(run)
    assert history.pop("epoch") == list(range(1, 41))
    assert history == snap.history                       # the same floats, bit for bit
    assert store.grad_norms(run) == snap.grad_norms

    model = keras.models.load_model(store.model_path(run))
    x = circle.x_val[:50]
    np.testing.assert_allclose(model.predict(x, verbose=0), job.engine.predict(x), rtol=1e-6)


def test_attach_writes_epochs_in_batches(home, circle, monkeypatch):
    store = RunStore(home)
    writes = []
    add_epochs = store.add_epochs
    monkeypatch.setattr(store, "add_epochs", lambda run, rows: (writes.append(len(rows)),
                                                                add_epochs(run, rows)))
    job = TrainingJob(make_exp(train={"epochs": 1500}), circle)
    run = attach(job, store)
    started = time.perf_counter()
    snap = job.start().wait(120)
    seconds = time.perf_counter() - started
    assert snap.status == "completed" and store.get_run(run).epochs == 1500
    assert sum(writes) == 1500
    assert len(writes) <= seconds / store_mod.FLUSH_EVERY_S + 3, (writes, seconds)


def test_attach_after_the_job_finished_copies_its_snapshot(home, circle):
    store = RunStore(home)
    job = TrainingJob(make_exp(train={"epochs": 15}), circle)
    snap = job.start().wait(120)
    run = attach(job, store, name="late")
    info = store.get_run(run)
    assert (info.name, info.status, info.epochs) == ("late", "completed", 15)
    assert {k: v for k, v in store.history(run).items() if k != "epoch"} == snap.history
    assert store.model_path(run) is not None


def test_a_job_that_fails_before_building_is_stored_failed_without_a_model(home):
    store = RunStore(home)
    job = TrainingJob(make_exp(data={"dataset": "no-such-dataset"}))
    run = attach(job, store)
    snap = job.start().wait(60)
    info = store.get_run(run)
    assert snap.status == info.status == "failed" and info.message == snap.message
    assert info.epochs == 0 and store.model_path(run) is None


def test_store_errors_are_logged_and_training_goes_on(home, circle, monkeypatch, caplog):
    store = RunStore(home)

    def broken(run, rows):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "add_epochs", broken)
    job = TrainingJob(make_exp(train={"epochs": 30}), circle)
    run = attach(job, store)
    with caplog.at_level(logging.ERROR, logger="nnplay.store"):
        snap = job.start().wait(120)
    assert snap.status == "completed" and snap.epoch == 30
    assert "could not save" in caplog.text and run in caplog.text
    assert store.get_run(run).status == "completed"           # the end is still recorded


def test_runs_of_the_same_experiment_get_told_apart(tmp_path):
    store = RunStore(tmp_path)
    exp = Experiment()
    ids = [store.create_run(exp) for _ in range(3)]
    names = [store.get_run(i).name for i in ids]
    assert names[1] == names[0] + " #2" and names[2] == names[0] + " #3"
