"""Tables: scikit-learn's bundled files (and 8x8 digits), and Boston housing.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from .base import Dataset
from .keras_cache import read_keras_train
from .registry import KNOWN_INFO
from .splits import assemble, shuffled_split


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
    x, y = read_keras_train("boston_housing")
    info = KNOWN_INFO["boston_housing"]
    parts, notes = shuffled_split(y, spec, info.name, stratify=False)
    return assemble(info, x.astype(np.float32), y.astype(np.float32), parts, spec,
                     scaling="per_feature", notes=notes)[0]
