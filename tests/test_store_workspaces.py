"""RunStore workspaces (hosted mode): each lists, renames and deletes only its own runs,
copies another's, keeps a capped number of runs, and expires when idle."""
import sqlite3
import time

import pytest

from nnplay.spec import Experiment
from nnplay.store import RunAccessError, RunStore, workspace_id

from test_store import FakeModel

A, B = "token-of-student-a", "token-of-student-b"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    return RunStore(tmp_path)


def finished_run(store, workspace, name, epochs=2, model=True):
    run_id = store.create_run(Experiment(), name=name, workspace=workspace)
    store.add_epochs(run_id, [{"epoch": e, "loss": 1 / e, "grad_norms": [e]}
                              for e in range(1, epochs + 1)])
    if model:
        store.save_model(run_id, FakeModel())
    store.finish(run_id, "completed", "", {"loss": 1 / epochs}, epochs)
    return run_id


def test_each_workspace_lists_its_own_runs_and_the_laptop_lists_all(store):
    a, b, laptop = finished_run(store, A, "a's"), finished_run(store, B, "b's"), finished_run(store, "", "mine")
    assert [r.id for r in store.list_runs(A)] == [a]
    assert [r.id for r in store.list_runs(B)] == [b]
    assert [r.id for r in store.list_runs()] == [laptop, b, a]
    assert store.get_run(a).workspace == workspace_id(A) != A        # only a hash is kept
    assert store.get_run(a).belongs_to(A) and not store.get_run(a).belongs_to(B)
    assert store.get_run(a).belongs_to("")                              # the laptop owns all


def test_names_are_unique_within_a_workspace_only(store):
    store.create_run(Experiment(), name="run", workspace=A)
    again = store.create_run(Experiment(), name="run", workspace=A)
    other = store.create_run(Experiment(), name="run", workspace=B)
    assert store.get_run(again).name == "run #2" and store.get_run(other).name == "run"


def test_another_workspace_cannot_rename_or_delete(store):
    a = finished_run(store, A, "a's")
    with pytest.raises(RunAccessError, match="another workspace"):
        store.rename(a, "hacked", workspace=B)
    with pytest.raises(RunAccessError, match="another workspace"):
        store.delete(a, workspace=B)
    assert store.get_run(a).name == "a's" and store.model_path(a) is not None
    store.rename(a, "renamed", workspace=A)
    store.delete(a, workspace=A)
    assert store.list_runs() == [] and store.model_path(a) is None


def test_copy_run_brings_row_epochs_and_model_into_a_workspace(store):
    a = finished_run(store, A, "a's", epochs=3)
    copy = store.copy_run(a, B)
    run, original = store.get_run(copy), store.get_run(a)
    assert [r.id for r in store.list_runs(B)] == [copy] and run.belongs_to(B)
    assert (run.name, run.status, run.epochs, run.final, run.best_epoch, run.spec) == \
        (original.name, original.status, original.epochs, original.final, original.best_epoch,
         original.spec)
    assert store.history(copy) == store.history(a) and store.grad_norms(copy) == store.grad_norms(a)
    assert store.model_path(copy).read_bytes() == b"model" and store.model_path(copy) != store.model_path(a)
    store.delete(copy, workspace=B)                       # the copy is B's own
    assert store.model_path(a) is not None


def test_copy_refuses_a_run_still_training(store):
    live = store.create_run(Experiment(), name="live", workspace=A)
    with pytest.raises(ValueError, match="still training"):
        store.copy_run(live, B)
    with pytest.raises(KeyError):
        store.copy_run("nosuchrun", B)


def test_the_cap_prunes_oldest_finished_runs_and_says_so_once(store, monkeypatch):
    monkeypatch.setenv("NNPLAY_MAX_RUNS_PER_WORKSPACE", "3")
    first = finished_run(store, A, "first")
    live = store.create_run(Experiment(), name="still training", workspace=A)
    second, third = finished_run(store, A, "second"), finished_run(store, A, "third")
    other = [finished_run(store, B, f"b{i}") for i in range(3)]
    assert {r.id for r in store.list_runs(A)} == {live, second, third}
    assert store.model_path(first) is None
    assert store.pop_notice(A) == "Your oldest run “first” was removed: a workspace keeps 3 runs."
    assert store.pop_notice(A) is None
    assert {r.id for r in store.list_runs(B)} == set(other) and store.pop_notice(B) is None
    for name in ("fourth", "fifth"):
        finished_run(store, A, name)
    assert store.pop_notice(A) == ("Your 2 oldest runs (“second”, “third”) were removed: "
                                   "a workspace keeps 3 runs.")


def test_laptop_mode_has_no_cap(store, monkeypatch):
    monkeypatch.delenv("NNPLAY_HOSTED", raising=False)
    for i in range(55):
        store.create_run(Experiment(), name=f"r{i}", workspace=A)
    assert len(store.list_runs(A)) == 55


def test_idle_workspaces_expire_with_their_runs_and_models(store, monkeypatch):
    monkeypatch.setenv("NNPLAY_WORKSPACE_IDLE_HOURS", "1")
    old, live, fresh = finished_run(store, A, "old"), store.create_run(Experiment(), workspace=A), \
        finished_run(store, B, "fresh")
    laptop = finished_run(store, "", "laptop run")
    with sqlite3.connect(store.path) as db:           # A was last seen two hours ago
        db.execute("UPDATE workspaces SET last_seen = ? WHERE id = ?",
                   (time.time() - 7200, workspace_id(A)))
    assert store.expire_idle() == [workspace_id(A)]
    assert {r.id for r in store.list_runs()} == {live, fresh, laptop}   # training runs stay
    assert store.model_path(old) is None and store.model_path(fresh) is not None
    store.finish(live, "stopped")
    assert store.expire_idle() == [workspace_id(A)]
    assert workspace_id(A) not in store.workspaces() and workspace_id(B) in store.workspaces()


def test_expiry_is_due_on_the_first_call_then_at_most_hourly(store):
    assert store.expiry_due()                       # the server's start
    assert not store.expiry_due()                   # within the hour: not again
    assert store.expiry_due(every_s=0)


def test_display_names_are_kept_per_workspace(store):
    store.touch_workspace(A, name="  Ada  ")
    store.touch_workspace(B)
    assert store.workspace_name(A) == "Ada" and store.workspace_name(B) == ""
    assert {w.name for w in store.workspaces().values()} == {"Ada", ""}
    store.touch_workspace(A, name="x" * 100)
    assert len(store.workspace_name(A)) == 40


def test_a_database_from_before_workspaces_is_migrated_in_place(tmp_path):
    path = tmp_path / "runs.sqlite"
    with sqlite3.connect(path) as db:                  # the schema nnplay wrote until now
        db.executescript("""
            CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL,
                message TEXT NOT NULL DEFAULT '', created REAL NOT NULL, updated REAL NOT NULL,
                epochs INTEGER NOT NULL DEFAULT 0, spec TEXT NOT NULL,
                final TEXT NOT NULL DEFAULT '{}', best_epoch INTEGER NOT NULL DEFAULT 0,
                job_id TEXT, pid INTEGER NOT NULL, token TEXT NOT NULL);
            CREATE TABLE epochs (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
                epoch INTEGER NOT NULL, metrics TEXT NOT NULL, grad_norms TEXT,
                PRIMARY KEY (run_id, epoch)) WITHOUT ROWID;
            PRAGMA user_version = 1;""")
        db.execute("INSERT INTO runs (id, name, status, created, updated, spec, pid, token) "
                   "VALUES ('old1', 'old run', 'completed', 1, 1, ?, 1, 'x')",
                   (Experiment().to_json(),))
    store = RunStore(tmp_path)
    (old,) = store.list_runs()
    assert (old.id, old.workspace) == ("old1", "")
    assert store.list_runs(A) == []
    with pytest.raises(RunAccessError):
        store.delete("old1", workspace=A)              # the laptop's runs are not a student's
    new = store.create_run(Experiment(), workspace=A)
    assert [r.id for r in store.list_runs(A)] == [new]
    RunStore(tmp_path)                                  # opening again migrates nothing twice


def test_workspace_settings_have_hosted_defaults_and_refuse_bad_values(monkeypatch):
    from nnplay import config
    monkeypatch.delenv("NNPLAY_HOSTED", raising=False)
    assert config.max_runs_per_workspace() is None and config.workspace_idle_hours() == 72
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    assert config.max_runs_per_workspace() == 50
    monkeypatch.setenv("NNPLAY_MAX_RUNS_PER_WORKSPACE", "lots")
    with pytest.raises(ValueError, match="max_runs_per_workspace .* whole number .*got 'lots'"):
        config.max_runs_per_workspace()
    monkeypatch.setenv("NNPLAY_WORKSPACE_IDLE_HOURS", "nan")
    with pytest.raises(ValueError, match="workspace_idle_hours"):
        config.workspace_idle_hours()
