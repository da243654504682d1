"""Which runs Inspect can show: the followed job, this app's jobs and the saved runs, with a
label a student reads ("circle · adam — completed, 30 epochs") and the one to show first.

Plain objects in (the followed job, the store's runs, a lookup for live jobs), plain objects
out, so the page only draws the picker.
"""
from __future__ import annotations

from typing import Callable

LIVE = ("queued", "building", "running")
STATUS_WORDS = {"early_stopping": "stopped early", "stopped": "stopped by hand",
                "interrupted": "cut off", "building": "being built"}


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


class Choice:
    """One entry of the run picker: the followed job, a job of this app, or a saved run."""

    def __init__(self, key, name, run=None, job=None):
        self.key, self.name, self.run, self.job = key, name, run, job
        self.label = self._label()     # once: the widget formats its options more than once

    def _label(self) -> str:
        if self.job is not None:
            status, epochs = self.job.progress()
        else:
            status, epochs = self.run.status, self.run.epochs
        word = status_word(status)
        if status in LIVE or status == "paused":
            word = "training now" if status == "running" else word
            return f"{self.name} — {word}"     # no epoch: the label would change every second
        return f"{self.name} — {word}, {epochs} epoch{'s' if epochs != 1 else ''}"


def choices(followed, runs: list, job_of: Callable, has_model_file: Callable
            ) -> tuple[list[Choice], str | None]:
    """Every run Inspect can show, newest first, and the key of the one to show by default:
    the followed job, else the newest saved run with a model, else the newest run.

    `job_of(job_id)` is the manager's live job (or None); `has_model_file(run_id)` whether the
    store holds the run's .keras file."""
    from .store import run_name
    found, default = [], None
    if followed is not None and not any(r.job_id == followed.id for r in runs):
        found.append(Choice(f"job:{followed.id}", run_name(followed.exp), job=followed))
        default = found[0].key
    for run in runs:
        job = job_of(run.job_id)
        if job is not None and not job.alive and job.model() is None:
            job = None      # finished and let go: its run is read from the store
        found.append(Choice(f"run:{run.id}", run.name, run=run, job=job))
        if followed is not None and run.job_id == followed.id:
            default = found[-1].key
    if default is None:  # the newest run with a model: stop at the first (a file check each)
        first = next((c for c in found if c.run is not None and
                      (c.job is not None or has_model_file(c.run.id))),
                     found[0] if found else None)
        default = first.key if first is not None else None
    return found, default


def why_no_model(run, has_model_file: bool) -> tuple[str, str] | None:
    """Why a saved run cannot be looked inside, as (level "info" | "warning", message), or
    None when it can."""
    if run.spec is None:
        return "warning", (f"“{run.name}” was saved by a newer version of nnplay; this one "
                           "cannot read its settings.")
    if has_model_file:
        return None
    if run.active:
        return "info", (f"“{run.name}” is still training in another window of the app (or was "
                        "cut off). Its model is saved when it finishes; come back then.")
    if run.status == "failed":
        return "warning", (f"“{run.name}” failed ({run.message or 'no reason recorded'}), so no "
                           "model was saved. Pick another run, or train it again on the Train page.")
    return "warning", (f"The model file of “{run.name}” is missing (it may have been deleted or "
                       "never finished saving), so there is nothing to look inside. Pick another "
                       "run, or train it again on the Train page.")


def unreadable_model(run, error: Exception) -> str:
    """One line for a damaged or foreign .keras file (never a stack trace)."""
    first = str(error).splitlines()[0][:300] if str(error) else type(error).__name__
    return (f"The model file of “{run.name}” cannot be opened ({first}). Pick another run, or "
            "train it again on the Train page.")
