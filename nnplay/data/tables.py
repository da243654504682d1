"""Tables: scikit-learn's bundled files (and 8x8 digits), Boston housing and Auto-MPG.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .base import Dataset
from . import shipped
from .keras_cache import keras_boston_split, read_keras_split
from .registry import KNOWN_INFO
from .splits import assemble, keras_split, shuffled_split


SKLEARN_LOADERS = {"iris": "load_iris", "wine": "load_wine", "breast_cancer": "load_breast_cancer",
                   "diabetes": "load_diabetes", "digits": "load_digits"}


def load_sklearn(spec) -> Dataset:
    from sklearn import datasets as sk_datasets  # slow import, kept off describe()
    bunch = getattr(sk_datasets, SKLEARN_LOADERS[spec.dataset])()
    info = KNOWN_INFO[spec.dataset]
    if info.kind == "image":  # 8x8 grey levels 0..16
        x, scaling = bunch.images[..., None] / 16.0, "global"
    else:
        x, scaling = bunch.data, "per_feature"
        info = replace(info, feature_names=tuple(bunch.feature_names))
    if info.n_classes:
        info = replace(info, class_names=tuple(str(c) for c in bunch.target_names))
    parts, notes = shuffled_split(bunch.target, spec, info.name, stratify=info.n_classes > 0)
    return assemble(info, x.astype(np.float32), bunch.target, parts, spec,
                     scaling=scaling, notes=notes)[0]


def load_boston(spec) -> Dataset:
    """Keras's 80/20 split of the 506 rows (seed 113), from Keras's file or mlxtend's copy."""
    if shipped.uses_stand_in("boston_housing"):
        split, notes = keras_boston_split(*shipped.boston_rows()), [shipped.STAND_IN_NOTES["boston_housing"]]
    else:
        split, notes = read_keras_split("boston_housing"), []
    x, y, parts, more = keras_split(*split, spec, "rows", stratify=False, capped=False)
    return assemble(KNOWN_INFO["boston_housing"], x.astype(np.float32), y.astype(np.float32),
                    parts, spec, scaling="per_feature", notes=notes + more)[0]


def load_auto_mpg(spec) -> Dataset:
    """The TensorFlow regression tutorial's table: 392 cars, mpg from 9 columns."""
    x, y = shipped.auto_mpg_rows()
    parts, notes = shuffled_split(y, spec, "Auto MPG", stratify=False)
    return assemble(KNOWN_INFO["auto_mpg"], x.astype(np.float32), y.astype(np.float32), parts,
                    spec, scaling="per_feature", notes=notes)[0]
