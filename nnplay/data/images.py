"""Keras's image sets (mnist, fashion_mnist, cifar10): a seeded subset of the training part.
"""
from __future__ import annotations

import numpy as np

from .base import Dataset
from .keras_cache import read_keras_train
from .registry import KNOWN_INFO
from .splits import assemble, seeded_subset, shuffled_split, subset_note


def load_keras_images(spec) -> Dataset:
    info = KNOWN_INFO[spec.dataset]
    images, labels = read_keras_train(spec.dataset)
    keep = seeded_subset(len(labels), spec.samples, spec.seed)
    x = (images[keep].astype(np.float32) / 255.0).reshape((len(keep),) + info.input_shape)
    y = labels[keep].reshape(-1).astype(np.int32)
    parts, notes = shuffled_split(y, spec, info.name, stratify=True)
    notes = [subset_note(len(keep), len(labels), "images", spec.seed)] + notes
    return assemble(info, x, y, parts, spec, scaling="global", notes=notes)[0]
