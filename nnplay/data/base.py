"""What every dataset module returns: DatasetInfo (shape and task, known before loading),
Dataset (the split, normalized arrays) and DataError (a message a student can act on).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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

    def column_names(self, width: int) -> list[str]:
        """Names for `width` input columns: the data's own when it has one per column, else
        x1, x2, ... (the one fallback every table, preview and network view shows).

            >>> DatasetInfo("t", "table", "binary", (2,), feature_names=("a", "b")).column_names(2)
            ['a', 'b']
            >>> DatasetInfo("t", "table", "binary", (3,)).column_names(3)
            ['x1', 'x2', 'x3']
        """
        if len(self.feature_names) == width:
            return list(self.feature_names)
        return [f"x{i + 1}" for i in range(width)]


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
