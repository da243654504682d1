"""Comparing runs: what changed between them, and what happened.

    >>> rows = comparison_rows(store.list_runs()[:3], store.history)
"""
from __future__ import annotations

from .spec import differing_settings, flatten

_HIGHER_IS_BETTER = ("accuracy", "auc", "precision", "recall")


def best_value(name: str, values: list) -> float | None:
    """The best value a metric reached: the maximum for accuracy-like metrics, else the minimum."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    return max(values) if name.removeprefix("val_") in _HIGHER_IS_BETTER else min(values)


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
