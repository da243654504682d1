"""Splits and normalization: seeded (stratified) shuffles, time-order splits, scalers fitted
on the training split only, and `assemble`, which turns arrays and index parts into a Dataset.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import DataError, Dataset, DatasetInfo


@dataclass(frozen=True)
class Scaler:
    """Maps x to (x - offset) / scale; fitted on the training split only."""
    offset: np.ndarray | float = 0.0
    scale: np.ndarray | float = 1.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.offset) / self.scale).astype(np.float32)


NORMALIZE_NOTES = {"standard": "standardized to mean 0 and standard deviation 1",
                   "minmax": "rescaled to the range 0..1"}


def fit_scaler(x: np.ndarray, method: str, axis: int | None) -> Scaler:
    """A `method` scaler ("standard", "minmax" or "none") fitted on x along `axis`."""
    if method not in ("standard", "minmax", "none"):
        raise DataError(f"normalize must be one of standard, minmax, none; got {method!r}")
    if method == "none" or x.size == 0:
        return Scaler()
    if method == "standard":  # float64 sums without a float64 copy of a big image set
        offset, spread = x.mean(axis=axis, dtype=np.float64), x.std(axis=axis, dtype=np.float64)
    else:
        offset, spread = x.min(axis=axis), x.max(axis=axis) - x.min(axis=axis)
    spread = np.where(spread > 0, spread, 1.0)  # a constant column stays put, no division by 0
    return Scaler(np.asarray(offset, np.float32), np.asarray(spread, np.float32))


def split_sizes(n: int, validation_split: float, test_split: float, what: str) -> tuple:
    """(train, validation, test) counts for n examples; DataError when training gets too few."""
    n_test = int(n * test_split + 0.5)
    n_val = int(n * validation_split + 0.5)
    # a requested split never comes out empty: one example is better than a silent no-op
    n_test = max(n_test, 1) if test_split > 0 else 0
    n_val = max(n_val, 1) if validation_split > 0 else 0
    n_train = n - n_val - n_test
    if n_train < 2:
        raise DataError(f"{what} has only {n} examples, too few to split into training "
                        f"({max(n_train, 0)}), validation ({n_val}) and test ({n_test}): "
                        "add rows, or lower validation_split or test_split")
    return n_train, n_val, n_test


def shuffled_split(y: np.ndarray, spec, what: str, stratify: bool) -> tuple:
    """Seeded (train, val, test) index arrays, stratified by class when `stratify`, and notes."""
    _, n_val, n_test = split_sizes(len(y), spec.validation_split, spec.test_split, what)
    if not stratify:
        return _draw_parts(len(y), None, n_val, n_test, spec.seed), []
    try:
        parts = _draw_parts(len(y), y, n_val, n_test, spec.seed)
        return parts, ["Splits are stratified: each keeps the class proportions of the whole set."]
    except ValueError:  # sklearn refuses when a class has too few members for every split
        return _draw_parts(len(y), None, n_val, n_test, spec.seed), [
            "A class has too few examples to appear in every split, so the split is random, "
            "not stratified."]


def _draw_parts(n: int, strata, n_val: int, n_test: int, seed: int) -> tuple:
    rest, test = _draw(np.arange(n), strata, n_test, seed)
    train, val = _draw(rest, strata, n_val, seed)
    # shuffled even when nothing was drawn, so training never sees one class after another
    return np.random.default_rng(seed).permutation(train), val, test


def _draw(index: np.ndarray, strata, k: int, seed: int) -> tuple:
    """Split k indices off `index`: (kept, taken)."""
    if k == 0:
        return index, index[:0]
    from sklearn.model_selection import train_test_split  # slow import, kept off describe()
    return tuple(train_test_split(index, test_size=k, random_state=seed,
                                  stratify=None if strata is None else strata[index]))


def chronological_split(n: int, spec, what: str) -> tuple:
    n_train, n_val, _ = split_sizes(n, spec.validation_split, spec.test_split, what)
    index = np.arange(n)
    return index[:n_train], index[n_train:n_train + n_val], index[n_train + n_val:]


def assemble(info: DatasetInfo, x: np.ndarray, y: np.ndarray, parts: tuple, spec, *,
              scaling: str, notes: list) -> tuple:
    """The Dataset for index `parts`, with scalers fitted on the training part.

    scaling: "per_feature" (a column each), "global" (one mean/std for all pixels) or "off".
    Regression targets of tables get their own scaler: toys' targets are already in [-1, 1]
    and series scale inputs and targets together before windowing.
    Returns (dataset, input scaler).
    """
    train = parts[0]
    x_scaler = Scaler() if scaling == "off" else fit_scaler(
        x[train], spec.normalize, 0 if scaling == "per_feature" else None)
    scales_target = info.task == "regression" and info.kind in ("table", "csv")
    y_scaler = fit_scaler(y[train], spec.normalize, None) if scales_target else Scaler()
    y_type = np.float32 if info.task == "regression" else np.int32
    arrays = []
    for index in parts:
        arrays.append(x[index] if scaling == "off" else x_scaler(x[index]))
        arrays.append(y_scaler(y[index]) if scales_target else y[index].astype(y_type))
    notes = notes + _normalize_notes(spec.normalize, scaling, y_scaler if scales_target else None)
    return Dataset(info, *arrays, notes=notes, target_offset=float(y_scaler.offset),
                   target_scale=float(y_scaler.scale), input_scaler=x_scaler), x_scaler


def _normalize_notes(method: str, scaling: str, y_scaler: Scaler | None) -> list:
    if method == "none" or scaling == "off":
        return []
    how = NORMALIZE_NOTES[method]
    notes = [f"Inputs {how} with statistics of the training split only "
             f"({'one value for all pixels' if scaling == 'global' else 'per column'})."]
    if y_scaler is not None:
        notes.append(f"The target is {how} the same way; original value = "
                     f"{float(y_scaler.offset):.4g} + prediction x {float(y_scaler.scale):.4g}.")
    return notes


def seeded_subset(n: int, samples: int | None, seed: int) -> np.ndarray:
    """The first `samples` indices of a seeded shuffle of range(n) (all n for None)."""
    return np.random.default_rng(seed).permutation(n)[:samples]


def subset_note(kept: int, total: int, what: str, seed: int) -> str:
    return (f"Using {kept:,} of the {total:,} training {what}, drawn at random with seed {seed}; "
            "raise samples for more.")


def keras_split(train: tuple, test: tuple, spec, what: str, stratify: bool,
                capped: bool = True) -> tuple:
    """(x, y, parts, notes) for a set Keras splits itself, `train` and `test` being its
    (x, y) parts: at most `samples` training examples (a seeded draw), split into training
    and validation by validation_split; Keras's test examples (at most `samples`) as the
    test part when test_split > 0; a table (`capped` False) keeps every row. Only the chosen
    examples are copied."""
    (x_train, y_train), (x_test, y_test) = train, test
    cap = spec.samples if capped else None
    keep = seeded_subset(len(y_train), cap, spec.seed)
    _, n_val, _ = split_sizes(len(keep), spec.validation_split, 0.0, f"the training {what} used")
    try:
        fit, val = _draw(keep, y_train if stratify else None, n_val, spec.seed)
    except ValueError:  # a class too small to appear in both parts
        fit, val = _draw(keep, None, n_val, spec.seed)
    fit = np.random.default_rng(spec.seed).permutation(fit)
    tested = seeded_subset(len(y_test), cap, spec.seed) if spec.test_split > 0 else keep[:0]
    x = np.concatenate([x_train[fit], x_train[val], x_test[tested]])
    y = np.concatenate([y_train[fit], y_train[val], y_test[tested]])
    bounds = np.cumsum([0, len(fit), len(val), len(tested)])
    parts = tuple(np.arange(bounds[i], bounds[i + 1]) for i in range(3))
    notes = [subset_note(len(keep), len(y_train), what, spec.seed)] if len(keep) < len(y_train) else []
    if len(tested):
        notes.append(f"The test part is Keras's own test set ({len(tested):,} of its "
                     f"{len(y_test):,} {what}), never drawn from the training {what}.")
    return x, y, parts, notes
