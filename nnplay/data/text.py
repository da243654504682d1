"""IMDB movie reviews as Keras encodes them: word ids, padded and cut at the front.
"""
from __future__ import annotations

import numpy as np

from .base import Dataset, DatasetInfo
from .keras_cache import read_keras_split
from .splits import assemble, keras_split


def imdb_info(spec) -> DatasetInfo:
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


def load_imdb(spec) -> Dataset:
    info = imdb_info(spec)
    reviews, y, parts, notes = keras_split(*read_keras_split("imdb"), spec, "reviews",
                                           stratify=True)
    x = pad_word_ids(imdb_word_ids(reviews, spec.num_words), spec.maxlen)
    notes = notes + [
        f"Reviews are word ids (the {spec.num_words:,} most frequent words; 2 stands for any "
        f"other word), cut to their last {spec.maxlen} words or padded with 0 in front; "
        "ids are not normalized."]
    return assemble(info, x, np.asarray(y).astype(np.int32), parts, spec, scaling="off",
                    notes=notes)[0]
