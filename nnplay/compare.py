"""Comparing runs: what changed between them, and what happened.

    >>> column_title("train.learning_rate"), column_title("final val_loss")
    ('learning rate', 'final validation loss')

`comparison_rows(store.list_runs()[:3], store.history)` gives a row per run. The rows keep machine keys (`train.learning_rate`, `final val_loss`), as exports do; pages
show `column_title(key)` above them.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict

import numpy as np

from .spec import (SETTING_TITLES, describe_value, differing_settings, higher_is_better,
                   setting_title)

METRIC_TITLES = {"loss": "loss", "accuracy": "accuracy", "auc": "AUC", "precision": "precision",
                 "recall": "recall", "mae": "mean absolute error", "mse": "mean squared error"}
ROW_TITLES = {"run": "run", "status": "status", "epochs": "epochs trained", "best epoch": "best epoch"}


def metric_title(name: str) -> str:
    """"val_loss" -> "validation loss", "accuracy" -> "training accuracy"."""
    base = name.removeprefix("val_")
    return ("validation " if name.startswith("val_") else "training ") + METRIC_TITLES.get(
        base, base.replace("_", " "))


def column_title(key: str) -> str:
    """A readable title for a key of `comparison_rows`: "train.learning_rate" -> "learning
    rate", "final val_loss" -> "final validation loss"; unknown keys lose their prefix."""
    if key in SETTING_TITLES:
        return setting_title(key)
    if key in ROW_TITLES:
        return ROW_TITLES[key]
    for prefix in ("final ", "best "):
        if key.startswith(prefix):
            return prefix + metric_title(key.removeprefix(prefix))
    return setting_title(key)


def is_setting(key: str) -> bool:
    """Whether a key of `comparison_rows` is a setting (as opposed to a result)."""
    return key.startswith(("data.", "model.", "train."))


def best_value(name: str, values: list) -> float | None:
    """The best value a metric reached: the maximum for accuracy-like metrics, else the minimum."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return max(values) if higher_is_better(name) else min(values)


def setting_in_words(exp, key: str) -> str:
    """A setting of a run in words ("SGD", "L1 0.001, l2 0.01", "data.csv"), from the spec's
    own value: never a server path, raw JSON or `nan`."""
    if exp is None:
        return "unknown (the run's settings could not be read)"
    section, name = key.split(".", 1)
    return describe_value(key, exp.to_dict()[section].get(name))


def comparison_rows(runs: list, history_of) -> list[dict]:
    """One row per run: its name, the settings that differ between the runs (in words), and
    its final and best validation metrics (training metrics when it has no validation split)."""
    specs = [r.spec for r in runs if r.spec is not None]
    changed = differing_settings(specs) if len(specs) > 1 else []
    rows = []
    for run in runs:
        row = {"run": run.name, "status": run.status, "epochs": run.epochs}
        row.update({key: setting_in_words(run.spec, key) for key in changed})
        history = history_of(run.id)
        shown = [n for n in history if n.startswith("val_")] or [n for n in history if n != "epoch"]
        for name in shown:
            values = history[name]
            row[f"final {name}"] = values[-1] if values else None
            row[f"best {name}"] = best_value(name, values)
        row["best epoch"] = run.best_epoch
        rows.append(row)
    return rows


# ---- long histories, for display ------------------------------------------------------

MAX_POINTS = 2000   # epochs per run drawn or tabled: a 100,000-epoch run opens as fast as a short one


def downsample(history: dict, max_points: int = MAX_POINTS, keep=()) -> dict:
    """A history ({"epoch": [...], metric: [...]}) cut to about `max_points` epochs for
    display. Epochs fall into buckets of equal span; each bucket keeps its first epoch and
    the epochs of every metric's lowest and highest value, and the first and last epochs and
    those in `keep` (the best epoch) stay: the curves keep their shape, and each metric's
    final, lowest and highest values are exact."""
    epochs = np.asarray(history.get("epoch") or [])
    names = [k for k in history if k != "epoch"]
    if len(epochs) <= max_points:
        return history
    buckets = max(1, max_points // (1 + 2 * len(names)))
    span = epochs[-1] - epochs[0] + 1
    bucket = (epochs - epochs[0]) * buckets // span
    kept = {0, len(epochs) - 1, *np.unique(bucket, return_index=True)[1].tolist()}
    at = np.searchsorted(epochs, list(keep)).tolist()
    kept.update(i for i, e in zip(at, keep) if i < len(epochs) and epochs[i] == e)
    for name in names:
        kept.update(_bucket_extremes(bucket, np.asarray(history[name], dtype=float)))
    rows = sorted(i for i in kept if 0 <= i < len(epochs))
    return {k: [v[i] for i in rows] for k, v in history.items()}


def _bucket_extremes(bucket: np.ndarray, values: np.ndarray) -> list[int]:
    """Indices of the lowest and the highest value in each bucket (NaN left out)."""
    index = np.nonzero(~np.isnan(values))[0]
    if not len(index):
        return []
    order = index[np.lexsort((values[index], bucket[index]))]   # by bucket, then by value
    b = bucket[order]
    new = np.r_[True, b[1:] != b[:-1]]
    last = np.r_[b[1:] != b[:-1], True]
    return order[new].tolist() + order[last].tolist()


_displayed: OrderedDict = OrderedDict()   # (store folder, run id) -> (last epoch read, history)
_displayed_lock = threading.Lock()
DISPLAYED_RUNS = 256


def display_history(store, run, max_points: int = MAX_POINTS) -> dict:
    """A run's history for charts and tables, downsampled (`downsample`). Read once per
    server: later calls read only the epochs stored since (a run still training), so a
    class opening Compare on a long run parses its rows once, not once a second each."""
    key = (str(store.home), run.id)
    with _displayed_lock:
        last, history = _displayed.get(key, (0, {"epoch": []}))
    if last >= run.epochs and last:
        return history
    new = store.history(run.id, after=last)
    if new["epoch"]:
        history = downsample(_joined(history, new), max_points, keep=[run.best_epoch])
        last = new["epoch"][-1]
    with _displayed_lock:
        _displayed[key] = (last, history)
        _displayed.move_to_end(key)
        while len(_displayed) > DISPLAYED_RUNS:
            _displayed.popitem(last=False)
    return history


def _joined(old: dict, new: dict) -> dict:
    """Two histories one after the other; a metric missing from one is NaN there."""
    n_old, n_new = len(old["epoch"]), len(new["epoch"])
    names = dict.fromkeys([*old, *new])
    return {k: list(old.get(k, [math.nan] * n_old)) + list(new.get(k, [math.nan] * n_new))
            for k in names}


# ---- the teacher's view ------------------------------------------------------------------

LAPTOP_OWNER = "this server's own runs"


def owner_name(workspace: str, workspaces: dict) -> str:
    """Who a run belongs to, as the teacher's view names it: the display name the student
    gave, else "unnamed" and the start of the workspace id (never the token)."""
    if not workspace:
        return LAPTOP_OWNER
    info = workspaces.get(workspace)
    return info.name if info is not None and info.name else f"unnamed {workspace[:6]}"


def class_runs(runs: list, workspaces: dict) -> list:
    """The class's runs grouped by owner (owners by name, each one's runs newest first), each
    named "owner · run" so that runs of the same experiment by two students tell apart."""
    from dataclasses import replace
    named = [replace(r, name=f"{owner_name(r.workspace, workspaces)} · {r.name}") for r in runs]
    order = {id(r): i for i, r in enumerate(named)}      # runs arrive newest first
    return sorted(named, key=lambda r: (owner_name(r.workspace, workspaces).casefold(),
                                        order[id(r)]))


def latest_per_owner(runs: list) -> list[str]:
    """The id of each owner's newest run (runs arrive newest first): the whole class's latest
    experiment, one curve per student."""
    latest = {}
    for r in runs:
        latest.setdefault(r.workspace, r.id)
    return list(latest.values())
