"""Ask the model: what a trained model says about one example, or about an input the student
makes (a drawn digit, typed feature values, a sentence).

The tutorials' `tf.nn.softmax(model(x[:1]))`, for any set nnplay trains on: an input is
prepared exactly as the training data was (the same pixel scale, the training split's
normalization, the same toy features, Keras's IMDB word ids), the model's output becomes
class probabilities (or a value in the target's own unit), and the page only draws them.
Nothing here imports TensorFlow: predictions come through the Job seam, `job.predict(x)`.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass

import numpy as np

from .data import DataError, imdb_word_ids, keras_cache_dir, pad_word_ids
from .inspection import class_probabilities

SPLITS = ("validation", "test")
WAYS = ("by number", "random", "most confidently wrong")
DRAW_MARGIN = 4 / 28     # MNIST's digits sit in a 20×20 box centred in 28×28


@dataclass
class Answer:
    """What the model says about one input: class probabilities (classes) or a value in the
    target's unit (regression)."""
    task: str
    probabilities: np.ndarray | None = None   # (classes,), sums to 1
    value: float | None = None

    @property
    def predicted(self) -> int | None:
        return None if self.probabilities is None else int(self.probabilities.argmax())


def answer(outputs: np.ndarray, dataset, logits: bool) -> Answer:
    """The model's `outputs` for ONE input (shape (1, units)) in words a page can draw."""
    task = dataset.info.task
    outputs = np.asarray(outputs, dtype=np.float64).reshape(1, -1)
    if task == "regression":
        return Answer(task, value=float(dataset.target_offset + outputs[0, 0] * dataset.target_scale))
    return Answer(task, probabilities=class_probabilities(outputs, logits)[0])


# ---- an example from the data ---------------------------------------------------------------

def examples(dataset, split: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(x, y, name) of the validation or test split; the training split when it is empty."""
    x, y = (dataset.x_val, dataset.y_val) if split == "validation" else (dataset.x_test, dataset.y_test)
    if len(x):
        return x, y, split
    return dataset.x_train, dataset.y_train, "training"


def most_confidently_wrong(probabilities: np.ndarray, y: np.ndarray) -> int | None:
    """The index of the wrong prediction the model was surest of, or None if none is wrong."""
    predicted = probabilities.argmax(axis=1)
    wrong = np.flatnonzero(predicted != np.asarray(y, int))
    if not len(wrong):
        return None
    return int(wrong[probabilities[wrong, predicted[wrong]].argmax()])


def worst_regression(values: np.ndarray, y: np.ndarray) -> int:
    """The index of the largest error, for regression."""
    return int(np.abs(np.asarray(values).reshape(len(y), -1)[:, 0] - y).argmax())


def random_example(n: int, draw: int) -> int:
    """The `draw`-th random pick among n examples (a new draw on each button press)."""
    return int(np.random.default_rng(draw).integers(n))


# ---- the student's own input -----------------------------------------------------------------

@dataclass
class Feature:
    """One input a slider sets, in the data's own unit, with its training range."""
    name: str
    low: float
    high: float
    typical: float      # the training median: where the slider starts


def raw_training_inputs(dataset) -> np.ndarray | None:
    """The training inputs in the data's own units: a toy's 2-D points, a table's columns
    with the normalization undone; None for images, sequences and text."""
    if dataset.raw_train is not None:
        return dataset.raw_train
    if dataset.info.kind not in ("table", "csv") or dataset.input_scaler is None:
        return None
    scaler = dataset.input_scaler
    return dataset.x_train * np.asarray(scaler.scale) + np.asarray(scaler.offset)


def features(dataset) -> list[Feature]:
    """The sliders' features: names, training ranges and medians (empty when the set has no
    typed input)."""
    raw = raw_training_inputs(dataset)
    if raw is None or not len(raw):
        return []
    names = _raw_names(dataset, raw.shape[1])
    return [Feature(name, float(raw[:, j].min()), float(raw[:, j].max()),
                    float(np.median(raw[:, j]))) for j, name in enumerate(names)]


def _raw_names(dataset, count: int) -> list[str]:
    names = list(dataset.info.feature_names)
    if dataset.raw_train is not None and count == 2:   # toys and 2-D CSVs: the plane's axes
        return names if len(names) == 2 and dataset.info.kind == "csv" else ["x1", "x2"]
    return names if len(names) == count else [f"x{i + 1}" for i in range(count)]


def typed_input(values, dataset) -> np.ndarray:
    """Model inputs (1, d) for one row of raw feature values, prepared as training data was
    (a toy's features such as x1², then the training split's normalization)."""
    row = np.asarray(values, dtype=np.float32).reshape(1, -1)
    if dataset.raw_train is not None:
        return dataset.features_for(row)
    return dataset.input_scaler(row) if dataset.input_scaler is not None else row


def drawing_input(rgba: np.ndarray, dataset) -> tuple[np.ndarray, np.ndarray] | None:
    """A canvas drawing (h, w, 4 RGBA; dark strokes on a clear background) as the model sees
    it: the strokes' bounding box, squared, scaled into the set's picture size (MNIST's margin
    for sets of 16 pixels or more; an 8×8 digit fills its square), bright strokes on black.

    Returns (model input (1, h, w, c), picture (h, w) in 0..1) or None for an empty canvas.
    """
    from PIL import Image
    height, width, channels = dataset.info.input_shape
    ink = _ink(rgba)
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.05), np.flatnonzero(ink.max(axis=0) > 0.05)
    if not len(rows):
        return None
    box = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    side = max(box.shape)
    square = np.zeros((side, side), np.float32)
    top, left = (side - box.shape[0]) // 2, (side - box.shape[1]) // 2
    square[top:top + box.shape[0], left:left + box.shape[1]] = box
    margin = round(DRAW_MARGIN * height) if height >= 16 else 0
    inner = (width - 2 * margin, height - 2 * margin)
    small = Image.fromarray((square * 255).astype(np.uint8)).resize(inner, Image.Resampling.BOX)
    picture = np.zeros((height, width), np.float32)
    picture[margin:margin + inner[1], margin:margin + inner[0]] = np.asarray(small, np.float32) / 255.0
    x = np.repeat(picture[None, :, :, None], channels, axis=-1)
    return (dataset.input_scaler(x) if dataset.input_scaler is not None else x), picture


def _ink(rgba: np.ndarray) -> np.ndarray:
    """How much each canvas pixel is drawn on, 0..1: dark, opaque strokes count fully."""
    rgba = np.asarray(rgba, dtype=np.float32) / 255.0
    darkness = 1.0 - rgba[..., :3].mean(axis=-1)
    return darkness * rgba[..., 3] if rgba.shape[-1] == 4 else darkness


# ---- text ------------------------------------------------------------------------------------

WORD_INDEX_FILE = "imdb_word_index.json"


def imdb_word_index() -> dict:
    """Keras's IMDB word ranks ({"the": 1, ...}), read from the Keras cache (never downloaded
    here: `keras.datasets.imdb.get_word_index()` puts the file there)."""
    path = os.path.join(keras_cache_dir(), WORD_INDEX_FILE)
    if not os.path.exists(path):
        raise DataError(f"typing a review needs Keras's IMDB word list, {WORD_INDEX_FILE}, in "
                        f"{keras_cache_dir()}; run keras.datasets.imdb.get_word_index() once "
                        "where there is internet, or copy the file there")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def text_input(sentence: str, dataset, num_words: int, maxlen: int, word_index: dict) -> np.ndarray:
    """Model inputs (1, maxlen) for a sentence, encoded as Keras's IMDB reviews are: lower
    case words ranked by the word index, rare or unknown words as 2, 1 at the start, padded
    in front to `maxlen`."""
    words = re.findall(r"[a-z0-9']+", sentence.lower())
    ranks = [word_index.get(w, num_words) for w in words]   # unknown words count as rare
    return pad_word_ids(imdb_word_ids([ranks], num_words), maxlen)
