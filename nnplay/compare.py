"""Comparing runs: what changed between them, and what happened.

    >>> column_title("train.learning_rate"), column_title("final val_loss")
    ('learning rate', 'final validation loss')

`comparison_rows(store.list_runs()[:3], store.history)` gives a row per run. The rows keep machine keys (`train.learning_rate`, `final val_loss`), as exports do; pages
show `column_title(key)` above them.
"""
from __future__ import annotations

from .spec import SETTING_TITLES, differing_settings, flatten, higher_is_better, setting_title

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


def comparison_rows(runs: list, history_of) -> list[dict]:
    """One row per run: its name, the settings that differ between the runs, and its final
    and best validation metrics (training metrics when it has no validation split)."""
    specs = [r.spec for r in runs if r.spec is not None]
    changed = differing_settings(specs) if len(specs) > 1 else []
    rows = []
    for run in runs:
        row = {"run": run.name, "status": run.status, "epochs": run.epochs}
        flat = flatten(run.spec) if run.spec is not None else {}
        row.update({key: flat.get(key) for key in changed})
        history = history_of(run.id)
        shown = [n for n in history if n.startswith("val_")] or [n for n in history if n != "epoch"]
        for name in shown:
            values = history[name]
            row[f"final {name}"] = values[-1] if values else None
            row[f"best {name}"] = best_value(name, values)
        row["best epoch"] = run.best_epoch
        rows.append(row)
    return rows


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
