"""Comparing runs in the core: a run's best value follows the one rule of which direction is
better (spec.higher_is_better, as early stopping's mode); long histories cut for display,
settings in words."""
import math

import numpy as np

from nnplay.compare import best_value, comparison_rows, display_history, downsample, setting_in_words
from nnplay.spec import Experiment, higher_is_better
from nnplay.store import RunStore


def test_best_value_is_the_maximum_of_accuracy_like_metrics_and_the_minimum_of_the_rest():
    assert best_value("val_accuracy", [0.5, 0.9, None, 0.7]) == 0.9
    assert best_value("test_auc", [0.6, 0.8]) == 0.8
    assert best_value("val_loss", [0.5, 0.2, 0.3]) == 0.2
    assert best_value("mae", [3.0, 1.5]) == 1.5
    assert best_value("loss", [None]) is None


def test_which_direction_is_better():
    assert [higher_is_better(m) for m in ("accuracy", "val_precision", "test_recall", "auc")] == [True] * 4
    assert [higher_is_better(m) for m in ("loss", "val_mae", "test_mse", "val_loss")] == [False] * 4


def history(n, seed=0):
    rng = np.random.default_rng(seed)
    loss = np.exp(-np.arange(n) / (n / 4)) + rng.normal(0, 0.05, n)
    return {"epoch": list(range(1, n + 1)), "loss": loss.tolist(),
            "val_loss": (loss + rng.normal(0, 0.05, n)).tolist(),
            "val_accuracy": rng.uniform(0.5, 1.0, n).tolist()}


def test_a_short_history_is_drawn_as_it_is():
    h = history(300)
    assert downsample(h, 2000) is h


def test_a_long_history_keeps_its_last_point_its_extremes_and_the_best_epoch():
    h = history(100_000)
    h["val_loss"][31_337] = -5.0          # a spike a display must not hide
    small = downsample(h, 2000, keep=[77_777])
    assert len(small["epoch"]) <= 2001 and len(small["epoch"]) > 500
    assert small["epoch"] == sorted(small["epoch"]) and small["epoch"][0] == 1
    assert small["epoch"][-1] == 100_000 and 77_777 in small["epoch"]
    for name in ("loss", "val_loss", "val_accuracy"):
        assert small[name][-1] == h[name][-1]
        assert min(small[name]) == min(h[name]) and max(small[name]) == max(h[name])
        rows = [h["epoch"].index(e) for e in small["epoch"][::97]]    # values stay on their epochs
        assert small[name][::97] == [h[name][i] for i in rows]
    gaps = np.diff(small["epoch"])       # spread over the whole run, not bunched at one end
    assert gaps.max() <= 2 * 100_000 / (2000 // 7)


def test_missing_values_are_left_out_of_the_extremes():
    h = history(5000)
    h["val_loss"] = [math.nan] * 2500 + h["val_loss"][2500:]
    small = downsample(h, 200)
    assert min(v for v in small["val_loss"] if not math.isnan(v)) == min(h["val_loss"][2500:])


def test_display_history_reads_a_run_once_then_only_its_new_epochs(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(Experiment(), name="long")
    h = history(6000)
    rows = [{"epoch": e, "loss": l, "val_loss": v} for e, l, v in zip(h["epoch"], h["loss"], h["val_loss"])]
    store.add_epochs(run_id, rows[:4000])
    first = display_history(store, store.get_run(run_id), max_points=500)
    assert first["epoch"][-1] == 4000 and len(first["epoch"]) <= 500
    store.add_epochs(run_id, rows[4000:])
    reads = []
    original = store.history
    store.history = lambda rid, after=0: reads.append(after) or original(rid, after)
    later = display_history(store, store.get_run(run_id), max_points=500)
    assert reads == [4000]                               # only the epochs stored since
    assert later["epoch"][-1] == 6000 and later["val_loss"][-1] == h["val_loss"][-1]
    assert min(later["loss"]) == min(h["loss"])
    display_history(store, store.get_run(run_id), max_points=500)
    assert reads == [4000]                               # nothing new: nothing read


def test_settings_are_described_in_words_never_json_paths_or_nan(tmp_path):
    store = RunStore(tmp_path)
    a = Experiment.from_dict({"data": {"dataset": "csv", "path": "upload:0123456789abcdef/prices.csv"},
                              "train": {"regularization": {"l1": 0.001, "l2": 0.01}}})
    b = Experiment.from_dict({"data": {"dataset": "csv", "path": "/home/teacher/nnplay/uploads/rents.csv"},
                              "train": {"lr_schedule": {"type": "ExponentialDecay", "decay_steps": 100}}})
    ids = [store.create_run(e, name=n) for e, n in ((a, "a"), (b, "b"))]
    rows = comparison_rows([store.get_run(i) for i in ids], store.history)
    cells = [str(v) for row in rows for k, v in row.items() if k.startswith(("data.", "train."))]
    assert {"data.path", "train.regularization", "train.lr_schedule"} <= set(rows[0])
    text = " | ".join(cells)
    assert "prices.csv" in text and "rents.csv" in text and "upload:" not in text and "/home" not in text
    assert "{" not in text and "nan" not in text.lower() and "null" not in text
    assert setting_in_words(a, "train.lr_schedule") == "none"
