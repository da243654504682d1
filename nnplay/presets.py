"""Model presets as data (the layer-stack editor's helpers are in `nnplay.stack`).

A preset is a ready-made experiment part: the model (always), the data it was made for
(when it needs particular data) and training settings that make it train well. Applying
one keeps everything it does not name.

    >>> exp, changes = apply_preset(Experiment(), "cnn")
    >>> exp.data.dataset, exp.model.layers[0]["type"]
    ('digits', 'Conv2D')

`fallback_dataset` names an offline dataset to use when the preset's own one (a Keras
download) is not available, so a preset always gives something that trains in class.
"""
from __future__ import annotations

import copy
from typing import Callable

from .spec import Experiment, ModelSpec, describe_change

def conv_blocks(*filters: int) -> list[dict]:
    """The tutorials' convolution blocks: a 3x3 'same' Conv2D then 2x2 max pooling, per count."""
    blocks = []
    for n in filters:
        blocks += [{"type": "Conv2D", "filters": n, "kernel_size": 3, "padding": "same",
                    "activation": "relu"}, {"type": "MaxPooling2D", "pool_size": 2}]
    return blocks


def _image_mlp(title: str, dataset: str, hidden: tuple, description: str,
               optimizer: str = "adam") -> dict:
    """A tutorial's MLP on 28x28 images: Flatten, relu layers of `hidden` units, softmax
    over 10 classes (written out: output "none"), trained at the optimizer's Keras rate."""
    return {"title": title, "description": description, "data": {"dataset": dataset},
            "fallback_dataset": "digits",
            "model": {"layers": [{"type": "Flatten"}] + [
                {"type": "Dense", "units": n, "activation": "relu"} for n in hidden] + [
                {"type": "Dense", "units": 10, "activation": "softmax"}], "output": "none"},
            "train": {"optimizer": optimizer, "learning_rate": 0.001, "batch_size": 32, "epochs": 5}}


PRESETS: dict[str, dict] = {
    "playground": {
        "title": "TensorFlow Playground",
        "description": "The Playground's starting network: two hidden layers of 4 and 2 tanh "
                       "neurons on the circle, trained with plain SGD.",
        "data": {"dataset": "circle", "features": ["x1", "x2"]},
        "model": {"layers": [{"type": "Dense", "units": 4, "activation": "tanh"},
                             {"type": "Dense", "units": 2, "activation": "tanh"}]},
        "train": {"optimizer": "sgd", "learning_rate": 0.03, "batch_size": 10},
    },
    "mlp": {
        "title": "Simple MLP for 28x28 images",
        "description": "Flatten the image, one hidden layer of 32 relu neurons, and a softmax "
                       "over the 10 classes: the first network of Keras's tutorials.",
        "data": {"dataset": "mnist"},
        "fallback_dataset": "digits",
        "model": {"layers": [{"type": "Flatten"},
                             {"type": "Dense", "units": 32, "activation": "relu"}]},
        "train": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32},
    },
    "deep_mlp": {
        "title": "Deep MLP with dropout",
        "description": "Three hidden layers (128, 128, 64 relu) with dropout between them, "
                       "for Fashion-MNIST: more capacity, and dropout against overfitting.",
        "data": {"dataset": "fashion_mnist"},
        "fallback_dataset": "digits",
        "model": {"layers": [{"type": "Flatten"},
                             {"type": "Dense", "units": 128, "activation": "relu"},
                             {"type": "Dropout", "rate": 0.2},
                             {"type": "Dense", "units": 128, "activation": "relu"},
                             {"type": "Dropout", "rate": 0.2},
                             {"type": "Dense", "units": 64, "activation": "relu"}]},
        "train": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32},
    },
    "cnn": {
        "title": "Small CNN for 8x8 digits",
        "description": "Two 3x3 convolutions (16 and 32 filters, padding 'same'), each followed "
                       "by 2x2 max pooling, then Flatten and Dense 64: a CNN small enough for "
                       "8x8 pictures.",
        "data": {"dataset": "digits"},
        "model": {"layers": conv_blocks(16, 32) + [
            {"type": "Flatten"}, {"type": "Dense", "units": 64, "activation": "relu"}]},
        "train": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32},
    },
    "cnn_tutorial": {
        "title": "CNN of the image tutorial",
        "description": "Three 3x3 convolutions (16, 32, 64 filters, padding 'same') each with "
                       "max pooling, then Flatten and Dense 512, as in TensorFlow's image "
                       "classification tutorial; made for CIFAR-10's 32x32 colour photos.",
        "data": {"dataset": "cifar10"},
        "fallback_dataset": "digits",
        "model": {"layers": conv_blocks(16, 32, 64) + [
            {"type": "Flatten"}, {"type": "Dense", "units": 512, "activation": "relu"}]},
        "train": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32},
    },
    "bilstm_text": {
        "title": "Bidirectional LSTM for text",
        "description": "Word ids become 64-long vectors (Embedding 8000x64), a bidirectional "
                       "LSTM of 64 reads the review both ways, Dense 64 relu: the RNN of "
                       "TensorFlow's text classification tutorial, on IMDB reviews.",
        "data": {"dataset": "imdb", "num_words": 8000},
        "model": {"layers": [
            {"type": "Embedding", "input_dim": 8000, "output_dim": 64},
            {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 64}},
            {"type": "Dense", "units": 64, "activation": "relu"}]},
        "train": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 64},
    },
    "lstm_series": {
        "title": "LSTM for a time series",
        "description": "An LSTM of 32 reads the last 20 yearly sunspot numbers and a Dense "
                       "layer predicts next year's.",
        "data": {"dataset": "sunspots", "window": 20},
        "model": {"layers": [{"type": "LSTM", "units": 32},
                             {"type": "Dense", "units": 16, "activation": "relu"}]},
        "train": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32},
    },
    "housing": {
        "title": "Housing price regressor",
        "description": "Two hidden layers of 10 relu neurons predicting one number, the "
                       "median house price of a Boston neighbourhood. 261 parameters on "
                       "Boston housing's 13 columns.",
        "data": {"dataset": "boston_housing"},
        "fallback_dataset": "diabetes",
        "model": {"layers": [{"type": "Dense", "units": 10, "activation": "relu"},
                             {"type": "Dense", "units": 10, "activation": "relu"}]},
        "train": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 32},
    },
    # The tutorials' models as Keras writes them (output "none": the last layer is theirs),
    # each with the parameter count Keras's model.summary() gives on the tutorial's data.
    "mnist_quickstart": {
        "title": "TensorFlow quickstart (MNIST)",
        "description": "TensorFlow 2 quickstart for beginners: Flatten, Dense 128 relu, Dropout "
                       "0.2, and Dense 10 with no activation, whose outputs are logits "
                       "(from_logits=True). 101,770 parameters on MNIST's 28×28 images.",
        "data": {"dataset": "mnist"},
        "fallback_dataset": "digits",
        "model": {"layers": [{"type": "Flatten"},
                             {"type": "Dense", "units": 128, "activation": "relu"},
                             {"type": "Dropout", "rate": 0.2},
                             {"type": "Dense", "units": 10}], "output": "none"},
        # loss auto with from_logits null: a linear last layer on classes is read as logits,
        # so the loss is SparseCategoricalCrossentropy(from_logits=True), as in the tutorial
        "train": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32, "epochs": 5},
    },
    "mnist_64_64": _image_mlp(
        "784-64-64-10 MLP (MNIST)", "mnist", (64, 64), "The classic multilayer perceptron: 784 "
        "pixels, two hidden layers of 64 relu neurons, softmax over 10 digits. 55,050 "
        "parameters on MNIST.", optimizer="rmsprop"),
    "fashion_simple": _image_mlp(
        "Simple Fashion-MNIST net", "fashion_mnist", (32,), "Flatten, one hidden layer of 32 "
        "relu neurons, softmax over the 10 clothing classes. 25,450 parameters on "
        "Fashion-MNIST's 28×28 images."),
    "fashion_deep": _image_mlp(
        "Deep Fashion-MNIST net", "fashion_mnist", (256, 192, 128), "Flatten, three hidden "
        "layers of 256, 192 and 128 relu neurons, softmax over 10 classes. 276,298 parameters "
        "on Fashion-MNIST's 28×28 images."),
    "lenet5": {
        "title": "LeNet-5 (MNIST)",
        "description": "LeCun's LeNet-5 as Keras writes it: 5×5 convolutions of 6 ('same') and "
                       "16 filters with tanh, each followed by 2×2 average pooling, then Dense "
                       "120 and 84 tanh and softmax over 10 digits. 61,706 parameters on MNIST "
                       "(it needs 28×28 images: 8×8 digits are too small for it).",
        "data": {"dataset": "mnist"},
        "model": {"layers": [
            {"type": "Conv2D", "filters": 6, "kernel_size": 5, "padding": "same", "activation": "tanh"},
            {"type": "AveragePooling2D"},
            {"type": "Conv2D", "filters": 16, "kernel_size": 5, "activation": "tanh"},
            {"type": "AveragePooling2D"},
            {"type": "Flatten"},
            {"type": "Dense", "units": 120, "activation": "tanh"},
            {"type": "Dense", "units": 84, "activation": "tanh"},
            {"type": "Dense", "units": 10, "activation": "softmax"}], "output": "none"},
        "train": {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 32, "epochs": 5},
    },
}


def dataset_words(name: str) -> str:
    """A dataset as a student knows it: "Spiral (2-D points)", "Digits (8×8 images)"."""
    from .data import DATASETS, DataError, describe  # pandas: kept off import
    from .spec import DataSpec
    entry = DATASETS.get(name)
    if entry is None:
        return str(name)
    try:
        shape = describe(DataSpec(dataset=name)).input_shape
    except (DataError, ValueError, OSError):
        shape = None
    if entry.kind == "image" and shape is not None and len(shape) == 3:
        colour = " colour" if shape[2] == 3 else ""
        title = entry.title.replace(f" {shape[0]}x{shape[1]}", "")  # "Digits 8x8" -> "Digits"
        return f"{title} ({shape[0]}×{shape[1]}{colour} images)"
    return f"{entry.title} (2-D points)" if entry.kind == "toy" else entry.title


def data_notice(name: str, available: Callable[[str], bool]) -> str | None:
    """Said before preset `name` is applied, when its dataset is not all here: what applying
    it will do instead, and where the missing file comes from; None when nothing is missing."""
    from .data import stand_in_note, where_to_get   # pandas: kept off import
    wanted = PRESETS[name].get("data", {}).get("dataset")
    if not wanted:
        return None
    if available(wanted):
        return stand_in_note(wanted)
    fallback = PRESETS[name].get("fallback_dataset")
    then = (f"applying this preset trains on {dataset_words(fallback)} instead" if fallback else
            "applying this preset switches to it all the same, and training waits until its "
            "file is brought (no package ships a stand-in)")
    return f"{dataset_words(wanted)}: not on this computer yet; {then}. {where_to_get(wanted)}"


def apply_preset(exp: Experiment, name: str, available: Callable[[str], bool] | None = None,
                 keep_data: bool = False) -> tuple[Experiment, list[str]]:
    """A copy of `exp` with preset `name` applied, and one sentence per thing it changed
    ("Dataset changed from Spiral (2-D points) to Digits (8×8 images)").

    `available(dataset)` says whether a dataset can be loaded now; when the preset's dataset
    cannot and the preset has a `fallback_dataset`, that one is used instead. `keep_data`
    applies only the model and training settings (the Data page's "use a CNN" button).
    """
    preset = PRESETS[name]
    new = exp.copy()
    changes = []
    data = {} if keep_data else copy.deepcopy(preset.get("data", {}))
    wanted = data.get("dataset")
    fallback = preset.get("fallback_dataset")
    if wanted and fallback and available is not None and not available(wanted):
        data["dataset"] = fallback
        changes.append(f"{dataset_words(wanted)} is not downloaded, so the data is "
                       f"{dataset_words(fallback)} instead (choose it on the Data page once "
                       "you are online).")
    for section, values in (("data", data), ("train", preset.get("train", {}))):
        part = getattr(new, section)
        for key, value in values.items():
            old = getattr(part, key)
            if old != value:
                if f"{section}.{key}" == "data.dataset":
                    changes.append(f"Dataset changed from {dataset_words(old)} to "
                                   f"{dataset_words(value)}")
                else:
                    changes.append(describe_change(f"{section}.{key}", old, value))
                setattr(part, key, copy.deepcopy(value))
    new.model = ModelSpec(**copy.deepcopy(preset["model"]))
    return new, changes
