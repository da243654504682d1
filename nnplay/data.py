"""Datasets: a registry of what can be trained on, loaders, preprocessing and splits.

Offline first. `describe(spec)` tells a dataset's shape and task cheaply (no TensorFlow), so a
spec can be validated before anything is loaded; `load(spec)` returns arrays ready to train.

    >>> from nnplay.spec import DataSpec
    >>> describe(DataSpec(dataset="xor", features=["x1", "x2", "x1*x2"])).input_shape
    (3,)

Contract (the rest of nnplay relies on it):
- x arrays are float32 (int32 word ids for text); images are (n, h, w, channels) in [0, 1]
  before normalization; sequences are (n, window, 1).
- y is int32 of shape (n,) for classes (0..n_classes-1), float32 of shape (n,) for regression.
- normalization is fitted on the training split only; `Dataset.features_for(points)` maps raw
  2-D toy points (n, 2) to model inputs (extra features + normalization), for decision grids.
- regression targets of tables, CSVs and series are normalized like the inputs (train
  statistics); `target_offset + y * target_scale` gives them back in the file's own unit.
- every failure a user can cause raises DataError with a message that says what to do.

Families:
- toys: the 2-D sets of TensorFlow Playground (src/dataset.ts), same formulas and noise scale
  (spec noise 0.5 is the Playground's slider at 50), labels -1/+1 mapped to classes 0/1.
- tables and 8x8 digits: scikit-learn's bundled files.
- series (sine, sunspots, co2): predict the next value from the last `window`; split in time
  order, never shuffled.
- Keras sets (mnist, fashion_mnist, cifar10, imdb, boston_housing): read from the Keras cache
  ($KERAS_HOME or ~/.keras, subfolder datasets, Keras's own file names); when missing, one
  download through `keras.utils.get_file`, and when that fails a DataError saying how to get
  the file. `samples` caps how many training examples of the big sets are used.
- csv: the user's own table; see `load_csv_frame`, `infer_task` and `load_csv`.

CSV task inference (`infer_task`): a text target is a classification; a numeric target is a
classification when every value is a whole number and either it has exactly 2 distinct
values, or at most 20 distinct values with at least 5 rows per value on average; otherwise
it is a regression. Two classes make the task binary, more make it multiclass.
"""
from __future__ import annotations

import csv
import functools
import io
import os
import pickle
import socket
import threading
import urllib.parse
import zipfile
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import uploads
from .layers import cut, shown
from .spec import TOY_FEATURES


class DataError(ValueError):
    """A dataset that cannot be loaded, with a message a student can act on."""


@dataclass(frozen=True)
class DatasetInfo:
    """What a model needs to know about a dataset: shape per sample and task.

    `feature_names` is filled by `describe()` for toys and CSV files; other tables name their
    columns once loaded.
    """
    name: str
    kind: str                       # toy | table | image | sequence | text | csv
    task: str                       # binary | multiclass | regression
    input_shape: tuple              # per sample, e.g. (2,), (8, 8, 1), (20, 1), (200,)
    n_classes: int = 0              # 0 for regression
    class_names: tuple = ()
    feature_names: tuple = ()
    vocab_size: int | None = None   # text only


@dataclass
class Dataset:
    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    raw_train: np.ndarray | None = None   # toys: the 2-D points before features/normalization
    raw_val: np.ndarray | None = None
    grid_bounds: tuple = (-6.0, 6.0)      # toys: square region the decision grid covers
    notes: list = field(default_factory=list)  # what preprocessing did, for the page
    _transform: object = None             # toys: raw (n, 2) -> model inputs
    target_offset: float = 0.0            # regression: original y = offset + y * scale
    target_scale: float = 1.0
    input_scaler: object = None           # x as loaded -> model inputs (fitted on training)

    def features_for(self, points: np.ndarray) -> np.ndarray:
        """Model inputs for raw 2-D points (toy datasets only)."""
        if self._transform is None:
            raise DataError(f"{self.info.name} is not a 2-D dataset; it has no decision grid")
        return self._transform(np.asarray(points, dtype=np.float32))


# ---- registry ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DatasetEntry:
    """One choosable dataset. `task` is "inferred" for a CSV file (it depends on the file)."""
    name: str
    title: str
    kind: str           # toy | table | image | sequence | text | csv
    task: str           # binary | multiclass | regression | inferred
    description: str    # one sentence a student understands
    needs_download: bool = False


DATASETS: dict[str, DatasetEntry] = {e.name: e for e in (
    DatasetEntry("circle", "Circle", "toy", "binary",
                 "Blue points inside a circle, orange points in a ring around it."),
    DatasetEntry("xor", "Exclusive or", "toy", "binary",
                 "Points are blue where x1 and x2 have the same sign and orange where they differ."),
    DatasetEntry("gauss", "Two Gaussians", "toy", "binary",
                 "Two round clouds of points, one per class; more noise makes them overlap."),
    DatasetEntry("spiral", "Spiral", "toy", "binary",
                 "Two spirals wound into each other, the hardest toy: try extra features or more layers."),
    DatasetEntry("moons", "Two moons", "toy", "binary",
                 "Two interlocking half circles, one per class."),
    DatasetEntry("plane", "Plane", "toy", "regression",
                 "A value that rises evenly from one corner to the other: predict a number, not a class."),
    DatasetEntry("reg-gauss", "Multi-Gaussian", "toy", "regression",
                 "Six hills and valleys side by side: predict the height at each point."),
    DatasetEntry("iris", "Iris flowers", "table", "multiclass",
                 "Four measurements of a flower's petals and sepals; predict which of three irises it is."),
    DatasetEntry("wine", "Wine", "table", "multiclass",
                 "13 chemical measurements of a wine; predict which of three growers made it."),
    DatasetEntry("breast_cancer", "Breast cancer", "table", "binary",
                 "30 measurements of cells in a biopsy; predict whether the tumour is malignant or benign."),
    DatasetEntry("diabetes", "Diabetes", "table", "regression",
                 "Age, BMI, blood pressure and blood tests of a patient; predict how much their "
                 "diabetes progressed a year later."),
    DatasetEntry("digits", "Digits 8x8", "image", "multiclass",
                 "1,797 tiny 8x8 pictures of handwritten digits; predict which digit each one shows."),
    DatasetEntry("sine", "Noisy sine waves", "sequence", "regression",
                 "A wavy signal made of two sine waves plus noise; predict the next value from the last few."),
    DatasetEntry("sunspots", "Sunspots (yearly)", "sequence", "regression",
                 "How many sunspots were seen each year from 1700 to 2008; predict next year's number."),
    DatasetEntry("co2", "CO2 at Mauna Loa (weekly)", "sequence", "regression",
                 "Carbon dioxide in the air measured every week in Hawaii from 1958 to 2001; "
                 "predict next week's value."),
    DatasetEntry("mnist", "MNIST digits", "image", "multiclass",
                 "28x28 grey photos of handwritten digits; predict which digit each one shows.", True),
    DatasetEntry("fashion_mnist", "Fashion-MNIST", "image", "multiclass",
                 "28x28 grey pictures of 10 kinds of clothes and shoes; predict the kind.", True),
    DatasetEntry("cifar10", "CIFAR-10", "image", "multiclass",
                 "32x32 colour photos of planes, cars, birds, cats and six more; predict which.", True),
    DatasetEntry("imdb", "IMDB movie reviews", "text", "binary",
                 "Movie reviews written as lists of word numbers; predict whether a review is positive.",
                 True),
    DatasetEntry("boston_housing", "Boston housing", "table", "regression",
                 "13 facts about Boston neighbourhoods in the 1970s; predict the median house price "
                 "(in $1000s).", True),
    DatasetEntry("csv", "Your CSV file", "csv", "inferred",
                 "A table of your own: choose the column to predict and the other columns become inputs."),
)}


def list_datasets() -> list[DatasetEntry]:
    """Every dataset, toys first, in the order a page lists them."""
    return list(DATASETS.values())


def is_available_offline(name: str) -> bool:
    """True when `name` loads without a network: always, except Keras sets not yet cached."""
    entry = _entry(name)
    return not entry.needs_download or _cached_keras_dir(name) is not None


def datasets_table() -> list[dict]:
    """One row per dataset for `python -m nnplay datasets`."""
    return [{"name": e.name, "kind": e.kind, "task": e.task, "title": e.title,
             "offline": is_available_offline(e.name), "needs_download": e.needs_download}
            for e in list_datasets()]


def _entry(name) -> DatasetEntry:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {shown(name)}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


# ---- describe and load ------------------------------------------------------------------

DIGIT_NAMES = tuple(str(d) for d in range(10))
BOSTON_COLUMNS = ("CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX",
                  "PTRATIO", "B", "LSTAT")

# Shapes known without loading, so describe() never reads a file or imports a library.
_KNOWN_INFO = {info.name: info for info in (
    DatasetInfo("iris", "table", "multiclass", (4,), 3, ("setosa", "versicolor", "virginica")),
    DatasetInfo("wine", "table", "multiclass", (13,), 3, ("class_0", "class_1", "class_2")),
    DatasetInfo("breast_cancer", "table", "binary", (30,), 2, ("malignant", "benign")),
    DatasetInfo("diabetes", "table", "regression", (10,)),
    DatasetInfo("digits", "image", "multiclass", (8, 8, 1), 10, DIGIT_NAMES),
    DatasetInfo("mnist", "image", "multiclass", (28, 28, 1), 10, DIGIT_NAMES),
    DatasetInfo("fashion_mnist", "image", "multiclass", (28, 28, 1), 10,
                ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot")),
    DatasetInfo("cifar10", "image", "multiclass", (32, 32, 3), 10,
                ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck")),
    DatasetInfo("boston_housing", "table", "regression", (13,), feature_names=BOSTON_COLUMNS),
)}


def describe(spec) -> DatasetInfo:
    """Shape and task of `spec.dataset` without loading it (a CSV file is read, nothing else)."""
    entry = _entry(spec.dataset)
    if entry.kind == "toy":
        return _toy_info(entry, _checked_features(spec.features))
    if entry.kind == "sequence":
        return DatasetInfo(entry.name, "sequence", "regression", (spec.window, 1))
    if entry.kind == "text":
        return _imdb_info(spec)
    if entry.kind == "csv":
        return _prepare_csv(load_csv_frame(_csv_path(spec)), spec.target).info
    return _KNOWN_INFO[entry.name]


def load(spec) -> Dataset:
    """Arrays ready to train for `spec` (a `DataSpec`), split and normalized."""
    entry = _entry(spec.dataset)
    if entry.kind == "toy":
        return _load_toy(spec)
    if entry.kind == "sequence":
        return _load_series(spec)
    if entry.kind == "csv":
        return load_csv(_csv_path(spec), spec)
    if entry.needs_download:
        return _KERAS_LOADERS[entry.name](spec)
    return _load_sklearn(spec)


# ---- splits and normalization -----------------------------------------------------------

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


def _shuffled_split(y: np.ndarray, spec, what: str, stratify: bool) -> tuple:
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


def _chronological_split(n: int, spec, what: str) -> tuple:
    n_train, n_val, _ = split_sizes(n, spec.validation_split, spec.test_split, what)
    index = np.arange(n)
    return index[:n_train], index[n_train:n_train + n_val], index[n_train + n_val:]


def _assemble(info: DatasetInfo, x: np.ndarray, y: np.ndarray, parts: tuple, spec, *,
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


# ---- 2-D toys (TensorFlow Playground's src/dataset.ts) ----------------------------------

TOY_RADIUS = 6.0


def _checked_features(features) -> tuple:
    unknown = [f for f in features if f not in TOY_FEATURES]
    if unknown or not features:
        raise DataError(f"input features must be some of {', '.join(TOY_FEATURES)}; "
                        f"got {', '.join(map(repr, unknown)) or 'none'}")
    return tuple(features)


def _toy_info(entry: DatasetEntry, features: tuple) -> DatasetInfo:
    classes = dict(n_classes=2, class_names=("orange", "blue")) if entry.task == "binary" else {}
    return DatasetInfo(entry.name, "toy", entry.task, (len(features),),
                       feature_names=features, **classes)


TOY_FEATURE_FUNCTIONS = {
    "x1": lambda x1, x2: x1, "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1, "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1), "sin(x2)": lambda x1, x2: np.sin(x2),
}


def expand_features(points: np.ndarray, features) -> np.ndarray:
    """The chosen input features (Playground's INPUTS) of raw (n, 2) points, as (n, k) float32."""
    x1, x2 = points[:, 0].astype(np.float32), points[:, 1].astype(np.float32)
    return np.stack([TOY_FEATURE_FUNCTIONS[f](x1, x2) for f in features], axis=1)


def _uniform_noise(rng, n: int, half_width: float, noise: float) -> np.ndarray:
    """Playground's randUniform(-w, w) * noise for x and y of n points."""
    return rng.uniform(-half_width, half_width, (n, 2)) * noise


def _polar(r, angle) -> np.ndarray:
    return np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)


def _class_sizes(n: int) -> tuple:
    return n - n // 2, n // 2


def toy_circle(n: int, noise: float, rng) -> tuple:
    """Positives inside radius 2.5, negatives in the ring 3.5..5; labels from the noisy point."""
    radius = 5.0
    inner, outer = _class_sizes(n)
    r = np.concatenate([rng.uniform(0, radius * 0.5, inner), rng.uniform(radius * 0.7, radius, outer)])
    points = _polar(r, rng.uniform(0, 2 * np.pi, n))
    noisy = points + _uniform_noise(rng, n, radius, noise)
    return points, (np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5).astype(np.int32)


def toy_xor(n: int, noise: float, rng) -> tuple:
    """Uniform points kept 0.3 off the axes; positive where x1 and x2 share a sign."""
    points = rng.uniform(-5, 5, (n, 2))
    points += np.where(points > 0, 0.3, -0.3)
    noisy = points + _uniform_noise(rng, n, 5, noise)
    return points, (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int32)


def toy_gauss(n: int, noise: float, rng) -> tuple:
    """Two Gaussian clouds at (2, 2) and (-2, -2); variance 0.5 at no noise, 4 at noise 0.5."""
    std = np.sqrt(0.5 + noise * 7.0)
    pos, neg = _class_sizes(n)
    points = np.concatenate([rng.normal(2, std, (pos, 2)), rng.normal(-2, std, (neg, 2))])
    return points, np.repeat(np.int32([1, 0]), [pos, neg])


def toy_spiral(n: int, noise: float, rng) -> tuple:
    """Two spirals of 1.75 turns out to radius 5, the second rotated by pi."""
    arms = [_spiral_arm(count, delta, noise, rng) for count, delta in zip(_class_sizes(n), (0, np.pi))]
    return np.concatenate(arms), np.repeat(np.int32([1, 0]), _class_sizes(n))


def _spiral_arm(count: int, delta_t: float, noise: float, rng) -> np.ndarray:
    step = np.arange(count) / max(count, 1)
    points = _polar(step * 5, 1.75 * step * 2 * np.pi + delta_t)
    return points + rng.uniform(-1, 1, (count, 2)) * noise


def toy_moons(n: int, noise: float, rng) -> tuple:
    """scikit-learn's two moons, stretched from about [-1, 2] x [-0.5, 1] onto [-6, 6].

    Noise 0.5 adds Gaussian noise of standard deviation 1 after stretching, about as much
    overlap as the Playground's sets get at its 50%.
    """
    from sklearn.datasets import make_moons
    points, labels = make_moons(n, noise=noise * 0.5, random_state=int(rng.integers(2**31)))
    return (points - [0.5, 0.25]) * 4.0, labels.astype(np.int32)


def toy_plane(n: int, noise: float, rng) -> tuple:
    """Target (x1 + x2) / 10 of the noisy point: -1.2 .. 1.2."""
    points = rng.uniform(-TOY_RADIUS, TOY_RADIUS, (n, 2))
    noisy = points + _uniform_noise(rng, n, TOY_RADIUS, noise)
    return points, (noisy.sum(axis=1) / 10.0).astype(np.float32)


GAUSSIAN_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                           [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


def toy_reg_gauss(n: int, noise: float, rng) -> tuple:
    """Six bumps of height +-1 falling to 0 at distance 2; each point takes the strongest one."""
    points = rng.uniform(-TOY_RADIUS, TOY_RADIUS, (n, 2))
    noisy = points + _uniform_noise(rng, n, TOY_RADIUS, noise)
    distance = np.linalg.norm(noisy[:, None, :] - GAUSSIAN_BUMPS[None, :, :2], axis=2)
    heights = GAUSSIAN_BUMPS[:, 2] * np.clip(1 - distance / 2, 0, 1)
    strongest = np.abs(heights).argmax(axis=1)
    return points, heights[np.arange(n), strongest].astype(np.float32)


TOY_GENERATORS = {"circle": toy_circle, "xor": toy_xor, "gauss": toy_gauss, "spiral": toy_spiral,
                  "moons": toy_moons, "plane": toy_plane, "reg-gauss": toy_reg_gauss}


def toy_points(name: str, samples: int, noise: float, seed: int) -> tuple:
    """(points (n, 2) float32, labels) of a toy; the same seed gives the same points."""
    points, labels = TOY_GENERATORS[name](samples, noise, np.random.default_rng(seed))
    return points.astype(np.float32), labels


def _load_toy(spec) -> Dataset:
    entry = _entry(spec.dataset)
    features = _checked_features(spec.features)
    info = _toy_info(entry, features)
    points, labels = toy_points(entry.name, spec.samples, spec.noise, spec.seed)
    parts, notes = _shuffled_split(labels, spec, entry.title, stratify=info.task != "regression")
    dataset, scaler = _assemble(info, expand_features(points, features), labels, parts, spec,
                                scaling="per_feature", notes=notes)
    dataset.raw_train, dataset.raw_val = points[parts[0]], points[parts[1]]
    dataset.grid_bounds = (-TOY_RADIUS, TOY_RADIUS)
    dataset._transform = lambda raw: scaler(expand_features(raw, features))
    return dataset


# ---- scikit-learn tables and digits -----------------------------------------------------

SKLEARN_LOADERS = {"iris": "load_iris", "wine": "load_wine", "breast_cancer": "load_breast_cancer",
                   "diabetes": "load_diabetes", "digits": "load_digits"}


def _load_sklearn(spec) -> Dataset:
    from sklearn import datasets as sk_datasets  # slow import, kept off describe()
    bunch = getattr(sk_datasets, SKLEARN_LOADERS[spec.dataset])()
    info = _KNOWN_INFO[spec.dataset]
    if info.kind == "image":  # 8x8 grey levels 0..16
        x, scaling = bunch.images[..., None] / 16.0, "global"
    else:
        x, scaling = bunch.data, "per_feature"
        info = replace(info, feature_names=tuple(bunch.feature_names))
    if info.n_classes:
        info = replace(info, class_names=tuple(str(c) for c in bunch.target_names))
    parts, notes = _shuffled_split(bunch.target, spec, info.name, stratify=info.n_classes > 0)
    return _assemble(info, x.astype(np.float32), bunch.target, parts, spec,
                     scaling=scaling, notes=notes)[0]


# ---- series -----------------------------------------------------------------------------

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "datasets")


def sine_series(steps: int, noise: float, seed: int) -> np.ndarray:
    """Two sine waves (periods 40 and 11 steps) plus Gaussian noise of std `noise`."""
    t = np.arange(steps)
    clean = np.sin(2 * np.pi * t / 40) + 0.5 * np.sin(2 * np.pi * t / 11 + 1.0)
    return clean + noise * np.random.default_rng(seed).normal(size=steps)


SUNSPOTS_CSV, CO2_CSV = "sunspots_yearly.csv", "co2_mauna_loa_weekly.csv"


@functools.lru_cache(maxsize=None)
def _shipped_csv(name: str) -> pd.DataFrame:
    """A series shipped in nnplay/datasets, read once per process (the Data page asks on
    every rerun). Callers take copies of its columns, never change it."""
    return pd.read_csv(os.path.join(DATA_DIR, name))


def sunspots_series() -> np.ndarray:
    """Yearly mean sunspot number, 1700-2008."""
    return _shipped_csv(SUNSPOTS_CSV)["SUNACTIVITY"].to_numpy(float, copy=True)


def co2_series() -> tuple:
    """Weekly CO2 at Mauna Loa in ppm, empty weeks filled by linear interpolation; (values, n filled)."""
    co2 = _shipped_csv(CO2_CSV)["co2"]
    return co2.interpolate(limit_direction="both").to_numpy(float), int(co2.isna().sum())


def series_axes(spec) -> tuple:
    """(time of every value, x-axis title, value title) of the series `spec.dataset`: years
    for sunspots, dates (datetime64) for co2, step numbers for the synthetic sine."""
    if spec.dataset == "sunspots":
        return _shipped_csv(SUNSPOTS_CSV)["YEAR"].to_numpy(int, copy=True), "year", "sunspot number"
    if spec.dataset == "co2":
        dates = _shipped_csv(CO2_CSV)["date"]
        return (pd.to_datetime(dates.astype(str), format="%Y%m%d").to_numpy("datetime64[D]"),
                "date", "CO₂ (parts per million)")
    return np.arange(spec.samples), "step", "value"


def _series_values(spec) -> tuple:
    """(values, notes) of the series `spec.dataset`."""
    if spec.dataset == "sine":
        return sine_series(spec.samples, spec.noise, spec.seed), [
            f"{spec.samples} steps of two sine waves plus noise {spec.noise:g}."]
    if spec.dataset == "co2":
        values, filled = co2_series()
        return values, [f"{filled} empty weeks were filled in by linear interpolation."]
    return sunspots_series(), []


def windows(values: np.ndarray, window: int) -> tuple:
    """Inputs (n, window, 1): each run of `window` values; targets (n,): the value after it."""
    x = np.lib.stride_tricks.sliding_window_view(values[:-1], window)
    return x[..., None].astype(np.float32), values[window:].astype(np.float32)


def _load_series(spec) -> Dataset:
    entry = _entry(spec.dataset)
    values, notes = _series_values(spec)
    if len(values) - spec.window < 10:
        raise DataError(f"{entry.title} has {len(values)} values, too few for windows of "
                        f"{spec.window}: lower window or raise samples")
    parts = _chronological_split(len(values) - spec.window, spec, entry.title)
    # statistics of the values the training windows see (inputs and targets), nothing later
    scaler = fit_scaler(values[:len(parts[0]) + spec.window], spec.normalize, None)
    x, y = windows(scaler(values), spec.window)
    notes = notes + [
        f"Each example is {spec.window} values in a row; the target is the value after them.",
        "Split in time order, not shuffled: training is the earliest part, validation the part "
        "after it and test the last part, so the model is judged on a future it has not seen."]
    dataset = _assemble(describe(spec), x, y, parts, spec, scaling="off", notes=notes)[0]
    dataset.target_offset, dataset.target_scale = float(scaler.offset), float(scaler.scale)
    if spec.normalize != "none":
        dataset.notes.append(f"Values {NORMALIZE_NOTES[spec.normalize]} with statistics of the "
                             "training part only.")
    return dataset


# ---- Keras downloadable sets ------------------------------------------------------------

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
CIFAR_DIRS = (os.path.join("cifar-10-batches-py-target", "cifar-10-batches-py"),  # Keras 3
              "cifar-10-batches-py")                                               # tf.keras 2


@dataclass(frozen=True)
class KerasDownload:
    """One `keras.utils.get_file` call, with the file name and hash Keras itself uses."""
    fname: str
    origin: str
    file_hash: str | None = None
    subdir: str = ""            # below the cache's datasets folder
    extract: bool = False


KERAS_DOWNLOADS = {
    "mnist": [KerasDownload("mnist.npz", KERAS_ORIGIN + "mnist.npz",
                            "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")],
    "fashion_mnist": [KerasDownload(f, KERAS_ORIGIN + f, subdir="fashion-mnist") for f in FASHION_FILES],
    "cifar10": [KerasDownload("cifar-10-batches-py-target",
                              "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                              "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                              extract=True)],
    "imdb": [KerasDownload("imdb.npz", KERAS_ORIGIN + "imdb.npz",
                           "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f")],
    "boston_housing": [KerasDownload("boston_housing.npz", KERAS_ORIGIN + "boston_housing.npz",
                                     "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5")],
}
KERAS_COPY_HINTS = {
    "fashion_mnist": f"the four files {', '.join(FASHION_FILES)} into {{dir}}/fashion-mnist",
    "cifar10": "cifar-10-python.tar.gz unpacked into {dir}/cifar-10-batches-py-target",
}


def keras_home() -> str:
    """The Keras cache folder: $KERAS_HOME, or ~/.keras."""
    return os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras"))


def keras_cache_dir() -> str:
    """Where Keras keeps downloaded datasets."""
    return os.path.join(keras_home(), "datasets")


def _keras_required_files(name: str, cache: str) -> list:
    """Paths that must exist for `name`, for each layout Keras has used; the first complete wins."""
    if name == "cifar10":
        batches = [f"data_batch_{i}" for i in range(1, 6)]
        return [[os.path.join(cache, d, b) for b in batches] for d in CIFAR_DIRS]
    return [[os.path.join(cache, d.subdir, d.fname) for d in KERAS_DOWNLOADS[name]]]


def _cached_keras_dir(name: str) -> str | None:
    """The folder holding `name`'s files in the Keras cache, or None when any file is missing."""
    for paths in _keras_required_files(name, keras_cache_dir()):
        if all(os.path.isfile(p) for p in paths):
            return os.path.dirname(paths[0])
    return None


def _keras_files_dir(name: str) -> str:
    """`name`'s folder in the cache, downloading it once if needed; DataError when impossible."""
    found = _cached_keras_dir(name)
    if found is None:
        _download_keras_set(name)
        found = _cached_keras_dir(name)
    if found is None:
        raise _not_cached_error(name, "the download left no usable file")
    return found


def _download_keras_set(name: str) -> None:
    downloads = KERAS_DOWNLOADS[name]
    # urllib waits forever on some dead networks: a quick bounded probe first
    reason = network_problem(urllib.parse.urlsplit(downloads[0].origin).hostname)
    if reason:
        raise _not_cached_error(name, reason)
    try:
        from keras.utils import get_file
        for d in downloads:
            get_file(d.fname, origin=d.origin, file_hash=d.file_hash, extract=d.extract,
                     cache_dir=keras_home(), cache_subdir=os.path.join("datasets", d.subdir))
    except Exception as error:  # any failure of a download is the same advice to the user
        raise _not_cached_error(name, _short_reason(error)) from None


def network_problem(host: str, timeout: float = 3.0) -> str | None:
    """None when a TCP connection to host:443 opens within `timeout` seconds, else why not.

    The connection (name lookup included, which sockets cannot time out) runs in a daemon
    thread, so a dead resolver costs `timeout` seconds, not minutes.
    """
    outcome = {}

    def connect():
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            outcome["ok"] = True
        except OSError as error:
            outcome["error"] = _short_reason(error)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    if outcome.get("ok"):
        return None
    return f"no network: {outcome.get('error', f'{host} did not answer in {timeout:g} s')}"


def _short_reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _not_cached_error(name: str, reason: str) -> DataError:
    cache = keras_cache_dir()
    first = KERAS_DOWNLOADS[name][0]
    what = KERAS_COPY_HINTS.get(name, f"{first.fname} into {{dir}}").format(dir=cache)
    return DataError(f"{DATASETS[name].title} is not in the Keras cache "
                    f"({os.path.join(cache, first.subdir, first.fname)}) and could not be "
                    f"downloaded ({reason}). Connect to the internet once and choose it again, "
                    f"or copy {what}.")


_ALLOWED_PICKLE_GLOBALS = {("numpy", "ndarray"), ("numpy", "dtype"),
                           ("numpy.core.multiarray", "_reconstruct"),
                           ("numpy._core.multiarray", "_reconstruct")}


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, lists and dicts only, so a tampered cache file cannot run code."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _read_npy(buffer: io.BytesIO) -> np.ndarray:
    try:
        return np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError:  # object arrays (IMDB's reviews of different lengths) are pickled
        buffer.seek(0)
        major, _ = np.lib.format.read_magic(buffer)
        read_header = (np.lib.format.read_array_header_1_0 if major == 1
                       else np.lib.format.read_array_header_2_0)
        read_header(buffer)
        return _ArraysOnlyUnpickler(buffer).load()


def read_npz(path: str) -> dict:
    """The arrays of an .npz file, without running arbitrary pickled code."""
    with zipfile.ZipFile(path) as archive:
        return {member.removesuffix(".npy"): _read_npy(io.BytesIO(archive.read(member)))
                for member in archive.namelist() if member.endswith(".npy")}


def _read_idx_gz(path: str, header_bytes: int) -> np.ndarray:
    import gzip
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=header_bytes)


def _read_fashion_train(folder: str) -> tuple:
    labels = _read_idx_gz(os.path.join(folder, FASHION_FILES[0]), 8)
    images = _read_idx_gz(os.path.join(folder, FASHION_FILES[1]), 16)
    return images.reshape(len(labels), 28, 28), labels


def _read_cifar_train(folder: str) -> tuple:
    images, labels = [], []
    for i in range(1, 6):
        with open(os.path.join(folder, f"data_batch_{i}"), "rb") as f:
            batch = _ArraysOnlyUnpickler(f, encoding="bytes").load()
        images.append(np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[b"labels"]))
    return np.concatenate(images).transpose(0, 2, 3, 1), np.concatenate(labels)


def _read_keras_train(name: str) -> tuple:
    """(x, y) of `name`'s training part, straight from the Keras cache."""
    folder = _keras_files_dir(name)
    try:
        if name == "fashion_mnist":
            return _read_fashion_train(folder)
        if name == "cifar10":
            return _read_cifar_train(folder)
        arrays = read_npz(os.path.join(folder, KERAS_DOWNLOADS[name][0].fname))
        return (arrays["x"], arrays["y"]) if name == "boston_housing" else \
            (arrays["x_train"], arrays["y_train"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as e:
        raise DataError(f"the cached {DATASETS[name].title} files in {folder} could not be read "
                        f"({_short_reason(e)}); delete them and choose the dataset again") from None


def _seeded_subset(n: int, samples: int, seed: int) -> np.ndarray:
    """The first `samples` indices of a seeded shuffle of range(n)."""
    return np.random.default_rng(seed).permutation(n)[:samples]


def _subset_note(kept: int, total: int, what: str, seed: int) -> str:
    return (f"Using {kept:,} of the {total:,} training {what}, drawn at random with seed {seed}; "
            "raise samples for more.")


def _load_keras_images(spec) -> Dataset:
    info = _KNOWN_INFO[spec.dataset]
    images, labels = _read_keras_train(spec.dataset)
    keep = _seeded_subset(len(labels), spec.samples, spec.seed)
    x = (images[keep].astype(np.float32) / 255.0).reshape((len(keep),) + info.input_shape)
    y = labels[keep].reshape(-1).astype(np.int32)
    parts, notes = _shuffled_split(y, spec, info.name, stratify=True)
    notes = [_subset_note(len(keep), len(labels), "images", spec.seed)] + notes
    return _assemble(info, x, y, parts, spec, scaling="global", notes=notes)[0]


def _imdb_info(spec) -> DatasetInfo:
    return DatasetInfo("imdb", "text", "binary", (spec.maxlen,), 2, ("negative", "positive"),
                       vocab_size=spec.num_words)


def pad_word_ids(reviews, maxlen: int) -> np.ndarray:
    """(n, maxlen) int32: each review's last `maxlen` ids, zeros in front of short ones.

    Keeping the end matches Keras's pad_sequences defaults (padding and truncating "pre").
    """
    padded = np.zeros((len(reviews), maxlen), np.int32)
    for row, ids in zip(padded, reviews):
        ids = list(ids)[-maxlen:]
        if ids:
            row[-len(ids):] = ids
    return padded


def imdb_word_ids(reviews, num_words: int) -> list:
    """Keras's IMDB encoding: 1 starts a review, word ranks shift by 3, rare words become 2."""
    return [[1] + [w + 3 if w + 3 < num_words else 2 for w in review] for review in reviews]


def _load_imdb(spec) -> Dataset:
    info = _imdb_info(spec)
    reviews, labels = _read_keras_train("imdb")
    keep = _seeded_subset(len(labels), spec.samples, spec.seed)
    x = pad_word_ids(imdb_word_ids(reviews[keep], spec.num_words), spec.maxlen)
    y = np.asarray(labels)[keep].astype(np.int32)
    parts, notes = _shuffled_split(y, spec, "IMDB", stratify=True)
    notes = [_subset_note(len(keep), len(labels), "reviews", spec.seed),
             f"Reviews are word ids (the {spec.num_words:,} most frequent words; 2 stands for any "
             f"other word), cut to their last {spec.maxlen} words or padded with 0 in front; "
             "ids are not normalized."] + notes
    return _assemble(info, x, y, parts, spec, scaling="off", notes=notes)[0]


def _load_boston(spec) -> Dataset:
    x, y = _read_keras_train("boston_housing")
    info = _KNOWN_INFO["boston_housing"]
    parts, notes = _shuffled_split(y, spec, info.name, stratify=False)
    return _assemble(info, x.astype(np.float32), y.astype(np.float32), parts, spec,
                     scaling="per_feature", notes=notes)[0]


_KERAS_LOADERS = {"mnist": _load_keras_images, "fashion_mnist": _load_keras_images,
                  "cifar10": _load_keras_images, "imdb": _load_imdb, "boston_housing": _load_boston}


# ---- the user's CSV ---------------------------------------------------------------------

MISSING_MARKS = {"", "na", "n/a", "nan", "null", "none", "?"}
MAX_CATEGORIES = 100
MAX_CLASSES_FROM_NUMBERS = 20
MAX_CSV_MAGNITUDE = 1e30


def _csv_path(spec) -> str:
    if not spec.path:
        raise DataError("no CSV file chosen: upload one on the Data page")
    return spec.path


def _csv_text(source) -> str:
    """The text of a path, bytes or file-like (an upload), BOM removed.

    A path is read through nnplay's sandbox (`uploads.read`): an upload reference, or a
    local file only where local paths are allowed, always with a size bound."""
    if isinstance(source, (str, os.PathLike)):
        try:
            source = uploads.read(os.fspath(source))
        except uploads.FileRefused as e:
            raise DataError(str(e)) from None
    elif hasattr(source, "getvalue"):
        source = source.getvalue()   # the whole upload, wherever its read position is
    elif hasattr(source, "read"):
        source = source.read()
    if isinstance(source, str):
        return source.lstrip("\ufeff")
    try:
        return bytes(source).decode("utf-8-sig")
    except UnicodeDecodeError:  # spreadsheets on Windows often save cp1252
        return bytes(source).decode("cp1252", errors="replace")


def _delimiter(header_line: str) -> str:
    """The most frequent of comma, semicolon and tab in the header (comma on a tie)."""
    return max((",", ";", "\t"), key=header_line.count)


def csv_delimiter(source) -> str:
    """The delimiter nnplay reads `source` (a path, bytes or file-like) with."""
    text = _csv_text(source).lstrip()
    return _delimiter(text.splitlines()[0] if text else "")
def _check_is_text(text: str) -> None:
    """Refuse a picture, a spreadsheet or any binary file before it is read as rows: NUL
    bytes, or many characters no text file holds (undecodable bytes, control codes)."""
    if text.startswith(("\xff\xfe", "\xfe\xff")):   # a UTF-16 byte-order mark, read as cp1252
        raise DataError("this CSV is saved as UTF-16 (\"Unicode text\"): save it as \"CSV UTF-8\"")
    sample = text[:65536]
    odd = sum(1 for ch in sample if ch == "\ufffd" or (ch < " " and ch not in "\t\r\n\f"))
    if "\x00" in sample or odd > max(2, len(sample) // 100):
        raise DataError("this is not a text CSV file (it holds binary data, like a picture or an "
                        ".xlsx workbook): export the table from your spreadsheet as CSV")


def _csv_rows(text: str) -> tuple:
    """(header, rows, line numbers) with every row as wide as the header; blank lines skipped."""
    if not text.strip():
        raise DataError("the CSV file is empty")
    _check_is_text(text)
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text.lstrip().splitlines()[0]))
    header, rows, lines = None, [], []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _column_names(row)
            elif any("\n" in cell or "\r" in cell for cell in row):
                raise DataError(f"a quote (\") opened before line {reader.line_num} is never closed, so "
                                "several lines read as one cell: close the quote or remove it")
            elif len(row) != len(header):
                raise DataError(f"line {reader.line_num} has {len(row)} fields but the header "
                                f"has {len(header)}")
            else:
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as e:  # e.g. a quote never closed, a NUL byte
        raise DataError(f"line {reader.line_num} cannot be read as CSV ({e})") from None
    _check_csv_size(header, rows)
    return header, rows, lines


def _check_csv_size(header: list | None, rows: list) -> None:
    if header is None:
        raise DataError("the CSV file is empty")
    if len(header) < 2:
        raise DataError(f"the file has only one column ({shown(header[0])}); it needs input columns and "
                        "a column to predict, separated by commas")
    if not rows:
        raise DataError("the CSV file has a header line but no data rows")


def _column_names(header_row: list) -> list:
    names = [cell.strip() or f"column {i + 1}" for i, cell in enumerate(header_row)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"the header names column {shown(repeated[0])} more than once; "
                        "give every column its own name")
    return names


def _parse_column(name: str, cells: pd.Series, lines: pd.Index) -> pd.Series:
    """Numbers as float64, or the stripped text when the column is (mostly) text."""
    text = cells.str.strip()
    missing = text.str.lower().isin(MISSING_MARKS).to_numpy()
    if missing.any():
        raise DataError(f"line {lines[missing.argmax()]}, column {shown(name)} is empty "
                        f"({int(missing.sum())} empty cells in this column): fill them in or "
                        "delete those rows")
    numbers = pd.to_numeric(text, errors="coerce")
    not_numbers = numbers.isna().to_numpy()
    if not_numbers.mean() > 0.5:
        _check_decimal_commas(name, text)
        return text
    if not_numbers.any():
        bad = not_numbers.argmax()
        raise DataError(f"line {lines[bad]}, column {shown(name)}: {shown(text.iloc[bad])} is not a number "
                        "(the rest of the column is numeric): fix or delete that row")
    values = numbers.to_numpy()
    infinite = ~np.isfinite(values)
    if infinite.any():
        bad = infinite.argmax()
        raise DataError(f"line {lines[bad]}, column {shown(name)}: {shown(text.iloc[bad])} is not a "
                        "finite number")
    huge = np.abs(values) > MAX_CSV_MAGNITUDE
    if huge.any():   # float32 training overflows to inf; standardizing turns them to NaN
        bad = huge.argmax()
        raise DataError(f"line {lines[bad]}, column {shown(name)}: {shown(text.iloc[bad])} is too large "
                        f"to train on (beyond ±{MAX_CSV_MAGNITUDE:g}): rescale the column, e.g. "
                        "to thousands or millions")
    return numbers.astype(np.float64)


DECIMAL_COMMA = r"[-+]?\d+,\d+"


def _check_decimal_commas(name: str, text: pd.Series) -> None:
    """A column of "1,5"-style values is numbers from a locale with decimal commas; read as
    text it would silently become one-hot categories."""
    if text.str.fullmatch(DECIMAL_COMMA).mean() > 0.5:
        raise DataError(f"column {shown(name)} looks like numbers with decimal commas (1,5): save "
                        "the file with decimal points (1.5)")


def _column_list(columns) -> str:
    names = [cut(c) for c in columns[:10]]
    return ", ".join(names) + (f" and {len(columns) - 10} more" if len(columns) > 10 else "")


def _check_target(frame: pd.DataFrame, target: str) -> None:
    if target not in frame.columns:
        raise DataError(f"target column {shown(target)} is not in the file; its columns are: "
                        f"{_column_list(list(frame.columns))}")


def load_csv_frame(source, target: str | None = None) -> pd.DataFrame:
    """A checked CSV as a DataFrame indexed by file line number (the header is line 1).

    `source` is a path, bytes or a file-like (e.g. a Streamlit upload). Numeric columns come
    back as float64, text columns as stripped strings. Raises DataError naming the line or
    column for: an empty file, one column, rows wider or narrower than the header, empty or
    infinite cells, a stray word in a numeric column, and a `target` that is not a column.
    """
    header, rows, lines = _csv_rows(_csv_text(source))
    raw = pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"), dtype=object)
    frame = pd.DataFrame({name: _parse_column(name, raw[name], raw.index) for name in header},
                         index=raw.index)
    if target is not None:
        _check_target(frame, target)
    return frame


def infer_task(target: pd.Series) -> str:
    """"binary", "multiclass" or "regression" for a target column (rule in the module docstring)."""
    if not pd.api.types.is_numeric_dtype(target):
        return "binary" if target.nunique() == 2 else "multiclass"
    values = target.to_numpy(np.float64)
    distinct = len(np.unique(values))
    whole = bool(np.all(values == np.round(values)))
    few_values = distinct == 2 or (distinct <= MAX_CLASSES_FROM_NUMBERS
                                   and len(values) >= 5 * distinct)
    if whole and few_values:
        return "binary" if distinct == 2 else "multiclass"
    return "regression"


@dataclass
class _CsvTable:
    """A CSV turned into numbers: features x, target y and what it took."""
    info: DatasetInfo
    x: np.ndarray
    y: np.ndarray
    notes: list


def _prepare_csv(frame: pd.DataFrame, target: str | None) -> _CsvTable:
    target = frame.columns[-1] if target is None else target
    _check_target(frame, target)
    y_column = frame[target]
    _check_target_varies(target, y_column)
    task = infer_task(y_column)
    features, notes = _encode_features(frame.drop(columns=[target]))
    notes.insert(0, f"Predicting {shown(target)}: {_task_words(task)}, inferred from its values.")
    if task == "regression":
        y, class_names = y_column.to_numpy(np.float32), ()
    else:
        y, class_names = _encode_classes(target, y_column)
    info = DatasetInfo("csv", "csv", task, (features.shape[1],), len(class_names), class_names,
                       tuple(features.columns))
    return _CsvTable(info, features.to_numpy(np.float32), y, notes)


def _task_words(task: str) -> str:
    return {"binary": "a yes/no classification (2 classes)", "multiclass": "a classification",
            "regression": "a regression (a number)"}[task]


def _check_target_varies(name: str, column: pd.Series) -> None:
    if column.nunique() < 2:
        raise DataError(f"target column {shown(name)} has the same value ({shown(column.iloc[0])}) on every "
                        "row, so there is only one class and nothing to learn: choose another "
                        "target or add rows of other classes")


def _check_category_count(name: str, column: pd.Series) -> None:
    if column.nunique() > MAX_CATEGORIES:
        raise DataError(f"column {shown(name)} has {column.nunique()} different text values, too many "
                        f"to use as categories (at most {MAX_CATEGORIES}): it looks like names or "
                        "free text; delete the column")


def _encode_features(frame: pd.DataFrame) -> tuple:
    """Numeric columns as they are, text columns one-hot; (DataFrame of floats, notes)."""
    parts, notes = [], []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column):
            parts.append(column.rename(name).to_frame())
            continue
        _check_category_count(name, column)
        categories = sorted(column.unique())
        parts.append(pd.DataFrame({f"{name}={c}": (column == c).astype(np.float64)
                                   for c in categories}, index=frame.index))
        listed = ", ".join(cut(c) for c in categories[:5]) + (", ..." if len(categories) > 5 else "")
        notes.append(f"{cut(name)} → {len(categories)} one-hot columns ({listed})")
    return pd.concat(parts, axis=1), notes


def _encode_classes(name: str, column: pd.Series) -> tuple:
    """(class indices int32, class names) with classes in sorted order."""
    if not pd.api.types.is_numeric_dtype(column):
        _check_category_count(name, column)
    classes, codes = np.unique(column.to_numpy(), return_inverse=True)
    names = tuple(f"{c:g}" if isinstance(c, float) else str(c) for c in classes)
    return codes.astype(np.int32), names


def load_csv(source, spec) -> Dataset:
    """A Dataset from a CSV `source` (path, bytes or file-like) with `spec`'s target and splits.

    `spec` needs target, validation_split, test_split, normalize and seed (a DataSpec works).
    """
    table = _prepare_csv(load_csv_frame(source, spec.target), spec.target)
    stratify = table.info.task != "regression"
    parts, notes = _shuffled_split(table.y, spec, "the CSV file", stratify=stratify)
    dataset, scaler = _assemble(table.info, table.x, table.y, parts, spec, scaling="per_feature",
                                notes=table.notes + notes)
    if table.x.shape[1] == 2 and not any("=" in n for n in table.info.feature_names):
        # two numeric columns: points on a plane, with a decision grid as the toys have
        dataset.raw_train, dataset.raw_val = table.x[parts[0]], table.x[parts[1]]
        lo, hi = float(table.x.min()), float(table.x.max())
        dataset.grid_bounds = (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        dataset._transform = scaler
    return dataset
