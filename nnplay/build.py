"""Spec -> a real keras.Model, its optimizer, loss and metrics; and summary rows.

Every layer is named from its place in the spec ("dense_1", "dropout_2", ..., "output"), so
models built in several threads at once never depend on Keras's global name counters.

    built = build(Experiment.from_dict({"model": {"input_shape": [13], "layers": [
        {"type": "Dense", "units": 10}, {"type": "Dense", "units": 10},
        {"type": "Dense", "units": 1, "activation": "linear"}], "output": "none"}}))
    built.model.count_params()        # 261
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import keras

from . import keras_names as K
from . import layers as L
from .data import DatasetInfo
from .spec import (AUGMENTATION_DEFAULTS, auto_head, auto_loss, SCHEDULE_DEFAULTS, Experiment, SpecError, Problem,
                   TrainSpec, check, fitting_metrics, output_units)

# set_random_seed is process-global: making the layers under one lock makes a seed give the
# same initial weights even when several students build models at the same moment. Only the
# layers' making: a Keras initializer (a Dropout's or a Random* layer's seed generator too)
# draws its seed from Python's `random` when it is made, and the weights come from that seed
# (stateless ops) when the model is built, which needs no lock. So a class's models build
# side by side, where under one lock the last of 16 waited 7.4 s for the others: each build
# is ~35 ms of Python alone, but 0.2-1.4 s when it shares the GIL with a class's threads.
_BUILD_LOCK = threading.Lock()


@dataclass
class Built:
    model: keras.Model
    optimizer: keras.optimizers.Optimizer
    loss: keras.losses.Loss
    loss_name: str
    metrics: list            # keras.metrics.Metric objects, named as Keras names them
    task: str
    binary_output: bool      # one sigmoid unit (vs. softmax over classes)
    waited_s: float = 0.0    # of the build, seconds waiting for other students' builds


def info_from_shape(exp: Experiment) -> DatasetInfo:
    """A stand-in DatasetInfo for a spec with an explicit input_shape and no data: the task
    is read from the loss, then from the last layer (a linear single output is regression,
    several linear outputs are logits over classes)."""
    shape = tuple(exp.model.input_shape)
    layers = exp.model.layers
    if exp.model.output == "none" and layers:
        units = output_units(exp.model, None) or 1
        activation = L.output_activation(layers[-1])
    else:
        units, activation = 2, "softmax"
    loss = exp.train.loss
    classes = loss in K.CROSSENTROPIES or exp.train.from_logits or activation in ("sigmoid", "softmax")
    regression = not classes and (loss in K.REGRESSION_LOSSES or (activation == "linear" and units == 1))
    task = "regression" if regression else "binary" if units == 1 or (
        units == 2 and loss != "categorical_crossentropy") else "multiclass"
    kind = "text" if exp.model.layers and exp.model.layers[0].get("type") == "Embedding" else "table"
    return DatasetInfo("input_shape", kind, task, shape, n_classes=0 if task == "regression" else max(units, 2))


# ---- layers --------------------------------------------------------------------------

def _regularizer(spec: dict | None):
    if not spec:
        return None
    return keras.regularizers.L1L2(l1=spec.get("l1", 0.0), l2=spec.get("l2", 0.0))


def make_layer(layer: dict, name: str, default_regularizer: dict | None = None) -> keras.layers.Layer:
    """One Keras layer from a layer dict (parameters are Keras's own names)."""
    layer = L.complete(layer)
    kind = layer.pop("type")
    layer.pop("name", None)   # the caller's `name` (L.layer_name) already honours it
    if kind == "Bidirectional":
        inner = make_layer(layer.pop("layer"), f"{name}_inner", default_regularizer)
        return keras.layers.Bidirectional(inner, name=name, **layer)
    if "kernel_regularizer" in layer:
        layer["kernel_regularizer"] = _regularizer(layer["kernel_regularizer"] or default_regularizer)
    cls = getattr(keras.layers, kind)
    return cls(name=name, **layer)


def centre_crop_after(crop: dict, name: str) -> keras.layers.Layer:
    """The CenterCrop that follows a RandomCrop. Keras 3.15's RandomCrop returns the image
    uncropped when predicting (keras-team/keras#21868), so validation would get the wrong
    shape; a CenterCrop of the same size crops the centre then and leaves training's random
    crop as it is (the fix the Keras issue suggests)."""
    return keras.layers.CenterCrop(crop["height"], crop["width"], name=f"{name}_centre")


# Layers whose image transform (ImageProjectiveTransformV3) XLA cannot compile.
IMAGE_TRANSFORMS = (keras.layers.RandomRotation, keras.layers.RandomZoom,
                    keras.layers.RandomTranslation, keras.layers.RandomShear)


def xla_compatible(model: keras.Model) -> bool:
    """Whether XLA can compile training of `model`: not when it holds an image transform,
    from the spec's augmentation or a layer of its own (RandomShear)."""
    return not any(isinstance(layer, IMAGE_TRANSFORMS) for layer in model.layers)


def _augmentation(aug: dict | None, image: bool) -> list:
    """Keras augmentation layers (active only in training) for the spec's augmentation."""
    a = {**AUGMENTATION_DEFAULTS, **(aug or {})}
    out = []
    if image:
        if a["flip"] != "none":
            out.append(keras.layers.RandomFlip(a["flip"], name="random_flip"))
        if a["rotation"]:
            out.append(keras.layers.RandomRotation(a["rotation"], name="random_rotation"))
        if a["zoom"]:
            out.append(keras.layers.RandomZoom(a["zoom"], name="random_zoom"))
        if a["translation"]:
            out.append(keras.layers.RandomTranslation(a["translation"], a["translation"],
                                                      name="random_translation"))
        if a["contrast"]:
            # Inputs are normalized, not 0..255: a wide range keeps RandomContrast from clipping.
            out.append(keras.layers.RandomContrast(a["contrast"], value_range=(-1e4, 1e4),
                                                   name="random_contrast"))
    if a["noise"]:
        out.append(keras.layers.GaussianNoise(a["noise"], name="gaussian_noise"))
    return out


def augment_samples(exp: Experiment, x, copies: int = 3):
    """`copies` augmented versions of the images x, as training would see them."""
    import numpy as np
    layers_ = _augmentation(exp.train.augmentation, image=x.ndim == 4)
    if not layers_:
        return np.concatenate([x] * copies)
    with _BUILD_LOCK:
        keras.utils.set_random_seed(exp.train.seed)
        pipeline = keras.Sequential(layers_)
    return np.concatenate([np.asarray(pipeline(x, training=True)) for _ in range(copies)])


def build_model(exp: Experiment, info: DatasetInfo) -> keras.Model:
    """The keras.Sequential the spec describes, on the dataset's input shape."""
    return keras.Sequential(model_layers(exp, info), name="nnplay")


def model_layers(exp: Experiment, info: DatasetInfo) -> list:
    """The model's input and layers, made (their initializers' seeds drawn, in order) but not
    built: `keras.Sequential` builds them."""
    m = exp.model
    shape = tuple(m.input_shape) if m.input_shape is not None else tuple(info.input_shape)
    first = m.layers[0]["type"] if m.layers else None
    dtype = "int32" if first == "Embedding" else "float32"
    stack = [keras.Input(shape=shape, dtype=dtype, name="input")]
    stack += _augmentation(exp.train.augmentation, image=len(shape) == 3)
    for i, layer in enumerate(m.layers):
        name = L.layer_name(i, layer)
        stack.append(make_layer(layer, name, exp.train.regularization))
        if layer["type"] == "RandomCrop":
            stack.append(centre_crop_after(layer, name))
    if m.output == "auto":
        stack.append(make_layer(auto_head(info), "output"))
    return stack


# ---- optimizer, loss, metrics ----------------------------------------------------------

def learning_rate(train: TrainSpec):
    """A float, or a keras LearningRateSchedule when the spec asks for one."""
    s = train.lr_schedule
    rate = train.learning_rate
    # None: the optimizer's own Keras default; float: JSON's 1 is an int, which Ftrl refuses
    rate = float(K.DEFAULT_RATES[train.optimizer] if rate is None else rate)
    if not s:
        return rate
    kind = s["type"]
    args = {**SCHEDULE_DEFAULTS[kind], **{k: v for k, v in s.items() if k != "type"}}
    return getattr(keras.optimizers.schedules, kind)(rate, **args)


def make_optimizer(train: TrainSpec) -> keras.optimizers.Optimizer:
    cls = getattr(keras.optimizers, K.OPTIMIZER_CLASSES[train.optimizer])
    extra = {"momentum": float(train.momentum)} if train.optimizer in ("sgd", "rmsprop") else {}
    return cls(learning_rate=learning_rate(train), **extra, **optimizer_options(train))


def optimizer_options(train: TrainSpec) -> dict:
    """The spec's other optimizer arguments as Keras takes them: numbers as floats (JSON's 1
    is an int, which some Keras optimizers refuse), whole numbers and booleans as they are."""
    options, known = train.optimizer_options or {}, K.optimizer_options(train.optimizer)
    return {k: v if v is None or isinstance(v, bool) or known[k].integer else float(v)
            for k, v in options.items()}


def output_kind(model: keras.Model) -> tuple[int, str]:
    """Units and activation name of the model's last layer."""
    last = model.layers[-1]
    units = last.output.shape[-1]
    if isinstance(last, keras.layers.Softmax):
        return units, "softmax"
    act = getattr(getattr(last, "activation", None), "__name__", "linear")
    return units, act


def is_logits(train: TrainSpec, task: str, activation: str) -> bool:
    """Whether a classifier's outputs are logits: as the spec says (`from_logits`, which
    only cross-entropies take), else when its last layer is linear."""
    if task == "regression":
        return False
    if train.from_logits is not None and train.loss in ("auto",) + K.CROSSENTROPIES:
        return bool(train.from_logits)
    return activation == "linear"


class OneHotLabels:
    """A Keras loss applied to one-hot labels made from the integer class labels the data
    holds: what `keras.utils.to_categorical(y)` does in a script before
    `loss="categorical_crossentropy"` (or squared error on several outputs)."""

    def __init__(self, loss: keras.losses.Loss, classes: int):
        self.keras_loss, self.classes, self.name = loss, classes, loss.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        labels = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        return self.keras_loss(keras.ops.one_hot(labels, self.classes), y_pred,
                               sample_weight=sample_weight)


def keras_loss(built: "Built") -> keras.losses.Loss:
    """The Keras loss object itself (inside any one-hot wrapper), as a script would write it."""
    return getattr(built.loss, "keras_loss", built.loss)


def resolve_loss(exp: Experiment, info: DatasetInfo, model: keras.Model) -> tuple[str, keras.losses.Loss]:
    """The loss the spec names, or for 'auto' the one that fits the task and the head."""
    units, act = output_kind(model)
    logits = is_logits(exp.train, info.task, act)
    name = exp.train.loss
    if name == "auto":
        name = auto_loss(info.task, units)
    cls = getattr(keras.losses, K.LOSS_CLASSES[name])
    loss = cls(from_logits=logits) if name in K.CROSSENTROPIES else cls()
    one_hot = info.task != "regression" and units > 1 and name not in (
        "sparse_categorical_crossentropy", "binary_crossentropy")
    return name, OneHotLabels(loss, units) if one_hot else loss


def _probabilities(y_pred, logits: bool, units: int):
    if not logits:
        return y_pred
    return keras.ops.sigmoid(y_pred) if units == 1 else keras.ops.softmax(y_pred)


@keras.saving.register_keras_serializable("nnplay")
class SparseF1Score(keras.metrics.F1Score):
    """Keras's F1Score (macro average) on the integer labels nnplay's data holds."""

    def __init__(self, units: int = 1, logits: bool = False, **kwargs):
        kwargs.setdefault("average", "macro")
        kwargs.setdefault("threshold", 0.5 if units == 1 else None)
        super().__init__(**kwargs)
        self.units, self.logits = units, logits

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _probabilities(y_pred, self.logits, self.units)
        labels = keras.ops.reshape(y_true, (-1,))
        y_true = keras.ops.expand_dims(keras.ops.cast(labels, y_pred.dtype), -1) if self.units == 1 \
            else keras.ops.one_hot(keras.ops.cast(labels, "int32"), self.units, dtype=y_pred.dtype)
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "logits": self.logits}


@keras.saving.register_keras_serializable("nnplay")
class ClassAveraged(keras.metrics.Metric):
    """Precision or recall of each class (one class against the rest, the predicted class
    being the largest output), averaged over the classes: sklearn's "macro" average.
    `per_class()` gives the figure of each class."""

    def __init__(self, kind: str = "precision", units: int = 2, **kwargs):
        kwargs.setdefault("name", kind)
        super().__init__(**kwargs)
        self.kind, self.units = kind, units
        self.confusion = self.add_variable((units, units), initializer="zeros", name="confusion")

    def update_state(self, y_true, y_pred, sample_weight=None):
        truth = keras.ops.cast(keras.ops.reshape(y_true, (-1,)), "int32")
        guess = keras.ops.argmax(y_pred, axis=-1)
        pairs = keras.ops.one_hot(truth, self.units)[:, :, None] * \
            keras.ops.one_hot(guess, self.units)[:, None, :]
        if sample_weight is not None:
            pairs = pairs * keras.ops.reshape(keras.ops.cast(sample_weight, pairs.dtype), (-1, 1, 1))
        self.confusion.assign_add(keras.ops.sum(pairs, axis=0))

    def per_class(self):
        right = keras.ops.diagonal(self.confusion)
        total = keras.ops.sum(self.confusion, axis=0 if self.kind == "precision" else 1)
        return keras.ops.divide_no_nan(right, total)

    def result(self):
        return keras.ops.mean(self.per_class())

    def reset_state(self):
        self.confusion.assign(keras.ops.zeros((self.units, self.units)))

    def get_config(self):
        return {**super().get_config(), "kind": self.kind, "units": self.units}


def output_threshold(probability: float, logits: bool) -> float:
    """A threshold on a probability as the output reads it: on logits, the logit of the same
    point (0.5 is 0.0)."""
    p = float(probability)
    return math.log(p / (1 - p)) if logits else p


def resolve_metrics(train: TrainSpec, info: DatasetInfo, model: keras.Model) -> list:
    """Metric objects named as Keras names them; ones that do not fit the task are left out
    (`spec.notes` says which and why), and the task's main metric (accuracy, or mae for
    regression) is always there."""
    units, act = output_kind(model)
    names, _ = fitting_metrics(train.metrics, info.task, units)   # spec.notes names the rest
    m = keras.metrics
    if info.task == "regression":
        return [m.MeanAbsoluteError(name="mae") if n == "mae" else m.MeanSquaredError(name="mse")
                for n in names]
    logits = is_logits(train, info.task, act)
    if units > 1:
        make = {"accuracy": lambda: m.SparseCategoricalAccuracy(name="accuracy"),
                "precision": lambda: ClassAveraged("precision", units),
                "recall": lambda: ClassAveraged("recall", units),
                "f1_score": lambda: SparseF1Score(units, logits, name="f1_score")}
        return [make[n]() for n in names]
    options = train.metric_options or {}

    def threshold(name: str, key: str, on_logits: bool = logits) -> float:
        return output_threshold(options.get(name, {}).get(key, 0.5), on_logits)

    auc = dict(options.get("auc", {}))
    make = {"accuracy": lambda: m.BinaryAccuracy(name="accuracy",
                                                 threshold=threshold("accuracy", "threshold")),
            "auc": lambda: m.AUC(name="auc", from_logits=logits, **auc),
            "precision": lambda: m.Precision(name="precision",
                                             thresholds=threshold("precision", "thresholds")),
            "recall": lambda: m.Recall(name="recall", thresholds=threshold("recall", "thresholds")),
            # SparseF1Score turns logits into probabilities first
            "f1_score": lambda: SparseF1Score(1, logits, name="f1_score", threshold=threshold(
                "f1_score", "threshold", on_logits=False))}
    return [make[n]() for n in names]


def build(exp: Experiment, info: DatasetInfo | None = None) -> Built:
    """Validate, then build model, optimizer, loss and metrics for `exp`."""
    if info is None:
        if exp.model.input_shape is None:
            raise SpecError([Problem("model.input_shape", "is null, so the data decides the shape: "
                                     "pass the dataset's info, or set an input_shape")])
        info = info_from_shape(check(exp))   # it reads the layers, so they must be sound first
    check(exp, info)
    asked = time.perf_counter()
    with _BUILD_LOCK:
        waited = time.perf_counter() - asked
        keras.utils.set_random_seed(exp.train.seed)
        stack = model_layers(exp, info)
    model = keras.Sequential(stack, name="nnplay")
    optimizer = make_optimizer(exp.train)
    loss_name, loss = resolve_loss(exp, info, model)
    metrics = resolve_metrics(exp.train, info, model)
    units, _ = output_kind(model)
    return Built(model, optimizer, loss, loss_name, metrics, info.task, binary_output=units == 1,
                 waited_s=waited)


# ---- summary ---------------------------------------------------------------------------

def _shape_text(shape) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def summary_rows(model: keras.Model) -> list[dict]:
    """One row per layer as Keras's model.summary() reports it."""
    return [{"name": layer.name, "type": type(layer).__name__,
             "output_shape": _shape_text(layer.output.shape), "params": layer.count_params()}
            for layer in model.layers]


def summary(model: keras.Model) -> dict:
    trainable = sum(int(keras.ops.size(w)) for w in model.trainable_weights)
    return {"layers": summary_rows(model), "total_params": model.count_params(),
            "trainable_params": trainable}


def summary_text(model: keras.Model) -> str:
    """The layer table as Keras prints it; the last line is 'Total params: N'."""
    s = summary(model)
    rows = [("Layer (type)", "Output Shape", "Param #")] + [
        (f"{r['name']} ({r['type']})", r["output_shape"], f"{r['params']:,}") for r in s["layers"]]
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
    line = "-" * sum(widths)
    out = [f'Model: "{model.name}"', line]
    for i, r in enumerate(rows):
        out.append("".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        out.append("=" * sum(widths) if i == 0 else line)
    out += [f"Trainable params: {s['trainable_params']:,}",
            f"Non-trainable params: {s['total_params'] - s['trainable_params']:,}",
            f"Total params: {s['total_params']}"]
    return "\n".join(out)
