"""The Ray backend's delta pulls and merges, its settings and its shipped spec, without Ray."""
import json

import numpy as np
import pytest

from nnplay import config, uploads
from nnplay.jobapi import Snapshot, backend
from nnplay.ray_backend import (advance, decode_grid, delta, encode_grid, merge, new_cursor,
                                remote_spec)
from nnplay.spec import Experiment


def _grow(snap: Snapshot, n: int):
    """The worker's job trains `n` more epochs."""
    for _ in range(n):
        e = snap.epoch + 1
        snap.history.setdefault("loss", []).append(1.0 / e)
        snap.history.setdefault("val_loss", []).append(2.0 / e)
        snap.grad_norms.append([0.1 * e, 0.2 * e])
        snap.epoch = e


def _pull(worker: Snapshot, driver: Snapshot, cursor: dict, grid: bool = True):
    d = delta(worker, cursor, grid=grid)
    rows, end = merge(driver, d)
    return rows, end, advance(cursor, d), d


def test_pulls_bring_only_new_rows_and_rebuild_the_history():
    worker, driver, cursor = Snapshot("j", status="running"), Snapshot("j"), new_cursor()
    seen = []
    for n in (3, 0, 5, 1):
        _grow(worker, n)
        rows, end, cursor, d = _pull(worker, driver, cursor)
        assert len(d["grad_norms"]) == n          # only what the driver lacks travels
        seen += rows
        assert end is None
    assert driver.history == worker.history and driver.grad_norms == worker.grad_norms
    assert [r["epoch"] for r in seen] == list(range(1, 10))
    assert seen[3] == {"epoch": 4, "loss": 0.25, "val_loss": 0.5,
                       "grad_norms": [pytest.approx(0.4), pytest.approx(0.8)]}
    assert driver.epoch == 9 and driver.status == "running"


def test_a_repeated_delta_adds_nothing_twice():
    worker, driver = Snapshot("j"), Snapshot("j")
    _grow(worker, 4)
    d = delta(worker, new_cursor())
    merge(driver, d)
    rows, _ = merge(driver, d)
    assert rows == [] and len(driver.history["loss"]) == 4


def test_the_grid_travels_as_uint8_only_when_redrawn_and_watched():
    worker, driver, cursor = Snapshot("j"), Snapshot("j"), new_cursor()
    worker.grid = np.linspace(0, 1, 100 * 100, dtype=np.float32).reshape(100, 100)
    worker.grid_version, worker.grid_epoch = 1, 3
    _, _, cursor, d = _pull(worker, driver, cursor, grid=False)
    assert "grid" not in d and driver.grid is None          # nobody is looking
    _, _, cursor, d = _pull(worker, driver, cursor)
    assert d["grid"][0].dtype == np.uint8 and d["grid"][0].nbytes == 10_000
    assert np.abs(driver.grid - worker.grid).max() <= 0.5 / 255 + 1e-6
    assert driver.grid_version == 1 and driver.grid_epoch == 3
    _, _, cursor, d = _pull(worker, driver, cursor)
    assert "grid" not in d                                  # not redrawn since


def test_grids_of_classes_come_back_exactly():
    classes = np.random.default_rng(0).integers(0, 7, size=(100, 100)).astype(np.float32)
    assert np.array_equal(decode_grid(encode_grid(classes)), classes)
    flat = np.full((10, 10), 0.5, dtype=np.float32)
    assert np.array_equal(decode_grid(encode_grid(flat)), flat)


def test_weight_statistics_travel_when_they_change():
    worker, driver, cursor = Snapshot("j"), Snapshot("j"), new_cursor()
    worker.weights = [{"layer": "dense"}]
    worker.weight_history = [{"epoch": 0, "layers": worker.weights}]
    _, _, cursor, d = _pull(worker, driver, cursor)
    assert driver.weight_history == worker.weight_history
    _, _, cursor, d = _pull(worker, driver, cursor)
    assert "weights" not in d
    worker.weight_history.append({"epoch": 5, "layers": worker.weights})
    _, _, cursor, d = _pull(worker, driver, cursor)
    assert [h["epoch"] for h in driver.weight_history] == [0, 5]


def test_a_finished_status_is_held_back_for_the_listeners():
    worker, driver, cursor = Snapshot("j", status="running"), Snapshot("j"), new_cursor()
    _grow(worker, 2)
    _pull(worker, driver, cursor)
    worker.status, worker.message, worker.final = "completed", "finished all 2 epochs", {"loss": 0.5}
    _, end, _, _ = _pull(worker, driver, cursor)
    assert end == {"status": "completed", "message": "finished all 2 epochs", "final": {"loss": 0.5}}
    assert driver.status == "running" and not driver.finished


def test_settings_pick_the_backend(monkeypatch):
    monkeypatch.delenv("NNPLAY_RAY_ADDRESS", raising=False)
    assert config.ray_address() is None and backend() == "thread"
    monkeypatch.setenv("NNPLAY_RAY_ADDRESS", " local ")
    assert config.ray_address() == "local" and backend() == "ray"
    monkeypatch.setenv("NNPLAY_RAY_SLOTS", "6")
    assert config.ray_slots() == 6.0
    monkeypatch.setenv("NNPLAY_RAY_SLOTS", "many")
    with pytest.raises(ValueError, match="ray_slots"):
        config.ray_slots()


def test_workers_get_the_hosts_settings_but_not_its_paths(monkeypatch):
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    monkeypatch.setenv("NNPLAY_MAX_EPOCHS", "300")
    monkeypatch.setenv("NNPLAY_RAY_ADDRESS", "auto")
    monkeypatch.setenv("NNPLAY_TEACHER_KEY", "secret")
    env = config.worker_env()
    assert env["NNPLAY_HOSTED"] == "1" and env["NNPLAY_MAX_EPOCHS"] == "300"
    assert not {"NNPLAY_HOME", "NNPLAY_RAY_ADDRESS", "NNPLAY_TEACHER_KEY"} & set(env)


def test_an_uploaded_csv_travels_as_bytes_under_its_reference():
    data = b"x,y\n1,2\n3,4\n"
    ref = uploads.save(data, "my data.csv")
    exp = Experiment.from_dict({"data": {"dataset": "csv", "path": ref, "target": "y"}})
    spec, files = remote_spec(exp)
    assert files == {uploads.upload_digest(ref): data}
    assert json.loads(spec)["data"]["path"] == ref
    assert remote_spec(Experiment()) == (Experiment().to_json(), {})
