"""Keras's own names for what a spec says, and the one spelling nnplay keeps for each.

A student types what the Keras tutorials write: `"optimizer": "Adam"`, `"loss": "mse"`,
`{"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": true}}`, an
`InputLayer` or `input_shape=` on the first layer. `canonical(d)` rewrites a spec dict so
each of those has one spelling (Keras's string alias: "adam", "mean_squared_error", ...),
so that pages, comparisons and saved runs see one name for one thing. Nothing here imports
TensorFlow.

    >>> canonical({"train": {"optimizer": "Adam", "loss": "mse"}})["train"]
    {'optimizer': 'adam', 'loss': 'mean_squared_error', 'learning_rate': 0.001}
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

# ---- optimizers --------------------------------------------------------------------------

# The spec's spelling (Keras's string alias) -> Keras's class name.
OPTIMIZER_CLASSES = {"sgd": "SGD", "rmsprop": "RMSprop", "adam": "Adam", "adadelta": "Adadelta",
                     "adagrad": "Adagrad", "adamax": "Adamax", "nadam": "Nadam", "ftrl": "Ftrl"}
OPTIMIZERS = tuple(OPTIMIZER_CLASSES)
# Each optimizer's `learning_rate` default in the pinned Keras (3.15); tests/test_keras_spellings.py
# reads the signatures, so a Keras upgrade that changes one fails there.
DEFAULT_RATES = {"sgd": 0.01, "rmsprop": 0.001, "adam": 0.001, "adadelta": 0.001,
                 "adagrad": 0.001, "adamax": 0.001, "nadam": 0.001, "ftrl": 0.001}



@dataclass(frozen=True)
class Option:
    """One Keras optimizer argument a spec may set in `train.optimizer_options`: its Keras
    default and the values Keras accepts (a bool when the default is one; null always means
    Keras's default for the arguments whose default is None)."""
    default: object
    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple = ()      # a word: one of these


_UNIT = Option(0.9, 0, 1, hi_open=True)              # a decay factor: beta_1, rho
_EPSILON = Option(1e-07, 0, 1, lo_open=True)
_CLIP = Option(None, 0, 1e9, lo_open=True)
# Every optimizer's own arguments (learning_rate and momentum are train fields of their own);
# tests/test_keras_spellings.py reads the pinned Keras's signatures, so that an argument
# Keras adds or renames fails there instead of being silently dropped.
OPTIMIZER_OPTIONS = {
    "sgd": {"nesterov": Option(False)},
    "rmsprop": {"rho": _UNIT, "epsilon": _EPSILON, "centered": Option(False)},
    "adam": {"beta_1": _UNIT, "beta_2": Option(0.999, 0, 1, hi_open=True), "epsilon": _EPSILON,
             "amsgrad": Option(False)},
    "adadelta": {"rho": Option(0.95, 0, 1, hi_open=True), "epsilon": _EPSILON},
    "adagrad": {"initial_accumulator_value": Option(0.1, 0, 1e6), "epsilon": _EPSILON},
    "adamax": {"beta_1": _UNIT, "beta_2": Option(0.999, 0, 1, hi_open=True), "epsilon": _EPSILON},
    "nadam": {"beta_1": _UNIT, "beta_2": Option(0.999, 0, 1, hi_open=True), "epsilon": _EPSILON},
    "ftrl": {"learning_rate_power": Option(-0.5, -10, 0),
             "initial_accumulator_value": Option(0.1, 0, 1e6),
             "l1_regularization_strength": Option(0.0, 0, 1e6),
             "l2_regularization_strength": Option(0.0, 0, 1e6),
             "l2_shrinkage_regularization_strength": Option(0.0, 0, 1e6),
             "beta": Option(0.0, 0, 1e6)},
}
# The arguments every Keras optimizer takes (keras.optimizers.Optimizer's).
COMMON_OPTIONS = {"weight_decay": Option(None, 0, 1), "clipnorm": _CLIP, "clipvalue": _CLIP,
                  "global_clipnorm": _CLIP, "use_ema": Option(False),
                  "ema_momentum": Option(0.99, 0, 1),
                  "ema_overwrite_frequency": Option(None, 1, 1e9, integer=True),
                  "loss_scale_factor": Option(None, 0, 1e9, lo_open=True),
                  "gradient_accumulation_steps": Option(None, 2, 1e6, integer=True)}
CLIPS = ("clipnorm", "clipvalue", "global_clipnorm")    # Keras takes at most one of them
OWN_FIELDS = {"learning_rate": "train.learning_rate", "momentum": "train.momentum"}


def optimizer_options(optimizer: str) -> dict:
    """{argument: Option} a spec may set for `optimizer` (a spec spelling, "adam")."""
    return {**OPTIMIZER_OPTIONS.get(optimizer, {}), **COMMON_OPTIONS}


def options_kept(optimizer: str, options) -> dict | None:
    """The options another optimizer also has, for a page that switches optimizer (Adam's
    beta_1 means nothing to SGD; weight_decay carries over)."""
    if not isinstance(options, dict):
        return options
    known = optimizer_options(optimizer)
    return {k: v for k, v in options.items() if k in known} or None


# ---- losses ------------------------------------------------------------------------------

# The spec's spelling -> Keras's class name.
LOSS_CLASSES = {"sparse_categorical_crossentropy": "SparseCategoricalCrossentropy",
                "categorical_crossentropy": "CategoricalCrossentropy",
                "binary_crossentropy": "BinaryCrossentropy",
                "mean_squared_error": "MeanSquaredError",
                "mean_absolute_error": "MeanAbsoluteError",
                "huber": "Huber"}
CROSSENTROPIES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")
REGRESSION_LOSSES = ("mean_squared_error", "mean_absolute_error", "huber")
_LOSS_ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "huber_loss": "huber"}

# ---- metrics -----------------------------------------------------------------------------

METRICS = ("accuracy", "auc", "precision", "recall", "f1_score", "mae", "mse")
_METRIC_ALIASES = {"acc": "accuracy", "binary_accuracy": "accuracy",
                   "sparse_categorical_accuracy": "accuracy", "categorical_accuracy": "accuracy",
                   "mean_absolute_error": "mae", "mean_squared_error": "mse",
                   "f1": "f1_score", "binaryaccuracy": "accuracy",
                   "sparsecategoricalaccuracy": "accuracy", "categoricalaccuracy": "accuracy",
                   "meanabsoluteerror": "mae", "meansquarederror": "mse", "f1score": "f1_score"}

# Metric arguments nnplay honours, by metric (`train.metric_options`), on one sigmoid output:
# a decision threshold on the probability (on logits nnplay moves it to the same point), and
# AUC's curve and resolution. Keras's argument names, Keras's defaults.
_PROBABILITY = Option(0.5, 0, 1, lo_open=True, hi_open=True)
METRIC_OPTIONS = {"accuracy": {"threshold": _PROBABILITY},
                  "precision": {"thresholds": _PROBABILITY},
                  "recall": {"thresholds": _PROBABILITY},
                  "f1_score": {"threshold": _PROBABILITY},
                  "auc": {"curve": Option("ROC", choices=("ROC", "PR")),
                          "num_thresholds": Option(200, 2, 100_000, integer=True)}}
THRESHOLD_OPTIONS = ("threshold", "thresholds")   # need one sigmoid unit

# Keras's metric classes and their arguments at Keras's defaults (what keras.metrics.serialize
# writes for a metric built without arguments), plus the values that mean what nnplay computes
# (F1 as the macro average, a 0.5 threshold on probabilities). A metric object whose config
# holds only these is the metric nnplay computes; any other value is refused, never dropped.
# tests/test_keras_spellings.py checks the defaults against the pinned Keras's signatures.
_THRESHOLDS = {"thresholds": (None, 0.5), "top_k": (None,), "class_id": (None,)}
METRIC_ARGUMENTS = {
    "Precision": _THRESHOLDS, "Recall": _THRESHOLDS,
    "AUC": {"num_thresholds": (200,), "curve": ("ROC",), "summation_method": ("interpolation",),
            "thresholds": (None,), "multi_label": (False,), "num_labels": (None,),
            "label_weights": (None,), "from_logits": (False,)},
    "F1Score": {"average": (None, "macro"), "threshold": (None, 0.5)},
    "BinaryAccuracy": {"threshold": (0.5,)},
    "Accuracy": {}, "SparseCategoricalAccuracy": {}, "CategoricalAccuracy": {},
    "MeanAbsoluteError": {}, "MeanSquaredError": {},
}
_LABELS = {"name", "dtype"}


def _metric_argument_kept(cls: str, canonical_name: str, key: str, value) -> bool:
    """True when a metric object's argument changes nothing nnplay computes."""
    if key == "name":    # a label: any spelling of the same metric
        return value is None or metric_name(value) == canonical_name
    if key == "dtype":
        return value in (None, "float32")
    allowed = {c.lower(): args for c, args in METRIC_ARGUMENTS.items()}.get(cls.lower(), {})
    return key in allowed and any(value is a or (value == a and type(value) is type(a))
                                  or (isinstance(value, float) and value == a)
                                  for a in allowed[key])


def _metric(value) -> tuple:
    """(a metric's one spelling, the arguments carried into train.metric_options); a Keras
    metric object with arguments nnplay cannot honour stays an object ({"class_name": X,
    argument: value}) for the validator to name."""
    obj = _keras_object(value)
    if obj is None:
        return metric_name(value), {}
    cls, args = obj
    name = metric_name(cls)
    if not isinstance(cls, str) or name not in METRICS:
        return name, {}
    args = {k: v for k, v in args.items() if not _metric_argument_kept(cls, name, k, v)}
    carried = {k: args.pop(k) for k in list(args) if k in METRIC_OPTIONS.get(name, {})}
    return ({"class_name": cls, **args} if args else name), carried


def _canonical_metrics(train: dict) -> None:
    """train.metrics as names; a metric object's arguments nnplay honours go into
    train.metric_options (those written there already win)."""
    read = [_metric(m) for m in train["metrics"]]
    names = [name for name, _ in read]
    train["metrics"] = list(dict.fromkeys(names)) if all(isinstance(n, str) for n in names) \
        else names
    carried = {name: args for name, args in read if args}
    given = train.get("metric_options")
    if carried and (given is None or isinstance(given, dict)):
        given = given or {}
        train["metric_options"] = {**carried, **{k: {**carried.get(k, {}), **v}
                                                 if isinstance(v, dict) else v
                                                 for k, v in given.items()}}


# ---- layers ------------------------------------------------------------------------------

INPUT_LAYERS = ("InputLayer", "Input")
_INPUT_SHAPE_KEYS = ("input_shape", "shape", "batch_shape", "batch_input_shape")


def _by_lower(names) -> dict:
    """{"adam": "adam", ...} from canonical names, looked up case-insensitively."""
    return {n.lower(): n for n in names}


def _lookup(value, canonical_names, aliases: dict, classes: dict | None = None):
    """The canonical spelling of `value`, or `value` itself when it is none we know (the
    validator then says what is allowed)."""
    if not isinstance(value, str):
        return value
    key = value.strip()
    low = key.lower()
    table = {**_by_lower(canonical_names), **{a.lower(): c for a, c in aliases.items()}}
    if classes:
        table.update({cls.lower(): name for name, cls in classes.items()})
    return table.get(low, table.get(low.replace("_", ""), key))


def optimizer_name(value):
    """"Adam", "adam", "RMSprop" -> "adam", "rmsprop"."""
    return _lookup(value, OPTIMIZERS, {}, OPTIMIZER_CLASSES)


def loss_name(value):
    """"mse", "MeanSquaredError", "mean_squared_error" -> "mean_squared_error"."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return _lookup(value, tuple(LOSS_CLASSES), _LOSS_ALIASES, LOSS_CLASSES)


def metric_name(value):
    """"acc", "AUC", "F1Score", "mean_absolute_error" -> "accuracy", "auc", "f1_score", "mae"."""
    return _lookup(value, METRICS, _METRIC_ALIASES)


# ---- rewriting a spec dict -----------------------------------------------------------------

def _keras_object(value) -> tuple[str | None, dict] | None:
    """A Keras object written as JSON: {"class_name": X, "config": {...}} (what Keras's
    serialize gives) or {"type"/"class_name": X, arg: value, ...}: (name, arguments)."""
    if not isinstance(value, dict):
        return None
    name = value.get("class_name", value.get("type"))
    config = value.get("config", {})
    args = {k: v for k, v in value.items() if k not in ("class_name", "type", "config", "module",
                                                        "registered_name")}
    if not isinstance(config, dict):
        return None
    return name, {**config, **args}


def is_keras_default(value, option: Option) -> bool:
    """True when `value` is what Keras would use anyway (True is not 1, 0.0 is 0)."""
    if isinstance(option.default, bool) or isinstance(value, bool):
        return value is option.default
    return value == option.default


def _drop_default_options(train: dict) -> None:
    """Options Keras's serialize writes out at their defaults change nothing: dropped, so a
    spec reads the same with or without them (an unknown name stays for the validator)."""
    options, name = train.get("optimizer_options"), train.get("optimizer", "sgd")
    if not isinstance(options, dict) or not isinstance(name, str) or name not in OPTIMIZERS:
        return
    known = optimizer_options(name)
    kept = {k: options[k] for k in known if k in options and not is_keras_default(options[k], known[k])}
    kept.update({k: v for k, v in options.items() if k not in known})   # in Keras's order, unknown last
    train["optimizer_options"] = kept or None


def _as_typed(value):
    """A number Keras serialized from a float32 variable (a learning rate of
    0.0010000000474974513) as the person typed it (0.001): the shortest decimal that is the
    same float32, so Keras trains with the same value."""
    if isinstance(value, float) and math.isfinite(value):
        import numpy as np
        return float(str(np.float32(value)))
    return value


def _canonical_train(train: dict) -> dict:
    optimizer = _keras_object(train.get("optimizer"))
    if optimizer is not None:    # {"class_name": "Adam", "config": {"learning_rate": 0.01}}
        name, args = optimizer
        args.pop("name", None)   # a label Keras gives the optimizer; it changes no number
        for key in ("learning_rate", "momentum"):
            if key in args and key not in train:
                train[key] = _as_typed(args.pop(key))
        # The other arguments are carried (the validator checks each against Keras's).
        if args:
            given = train.get("optimizer_options")
            train["optimizer_options"] = {**args, **given} if isinstance(given, dict) else \
                (args if given is None else given)
        train["optimizer"] = name
    if "optimizer" in train:
        train["optimizer"] = optimizer_name(train["optimizer"])
    _drop_default_options(train)
    # Keras's defaults: an optimizer named without a rate starts at that optimizer's own rate.
    if isinstance(train.get("optimizer"), str) and train["optimizer"] in DEFAULT_RATES \
            and train.get("learning_rate") is None:
        train["learning_rate"] = DEFAULT_RATES[train["optimizer"]]
    loss = _keras_object(train.get("loss"))
    if loss is not None:         # {"class_name": "SparseCategoricalCrossentropy", "from_logits": true}
        name, args = loss
        args.pop("name", None)
        if args.get("reduction") in ("sum_over_batch_size", "auto"):   # Keras's default
            args.pop("reduction")
        if "from_logits" in args and "from_logits" not in train:
            train["from_logits"] = args.pop("from_logits")
        train["loss"] = name if not args else {"class_name": name, **args}
    if "loss" in train:
        train["loss"] = loss_name(train["loss"])
    if isinstance(train.get("metrics"), list):
        _canonical_metrics(train)
    return train


def _canonical_layer(layer):
    if not isinstance(layer, dict):
        return layer
    obj = _keras_object(layer)          # Keras's {"class_name": "Dense", "config": {...}} form
    if "class_name" in layer and obj is not None:
        layer = {"type": obj[0], **obj[1]}
    if "activation" in layer and layer["activation"] is None:
        layer["activation"] = "linear"   # Keras's activation=None
    if layer.get("type") == "LeakyReLU" and "alpha" in layer and "negative_slope" not in layer:
        layer["negative_slope"] = layer.pop("alpha")    # Keras 2's name for it
    if layer.get("type") == "Bidirectional" and isinstance(layer.get("layer"), dict):
        layer["layer"] = _canonical_layer(layer["layer"])
    return layer


def _input_shape_of(layer: dict):
    """The per-sample shape an InputLayer or a first layer's input_shape= gives, or None."""
    for key in _INPUT_SHAPE_KEYS:
        if key in layer:
            shape = layer[key]
            if key.startswith("batch") and isinstance(shape, list) and shape:
                shape = shape[1:]      # the batch axis is not part of a spec's input_shape
            return list(shape) if isinstance(shape, (list, tuple)) else shape
    return None


def _canonical_model(model: dict) -> dict:
    layers = model.get("layers")
    if not isinstance(layers, list):
        return model
    layers = [_canonical_layer(layer) for layer in layers]
    first = layers[0] if layers and isinstance(layers[0], dict) else None
    if first is not None and first.get("type") in INPUT_LAYERS:
        shape = _input_shape_of(first)
        if shape is not None and model.get("input_shape") in (None, shape) \
                and set(first) <= {"type", "name", *_INPUT_SHAPE_KEYS}:
            model["input_shape"] = shape
            layers = layers[1:]
    elif first is not None and "input_shape" in first:
        shape = first["input_shape"]
        if model.get("input_shape") in (None, shape):
            model["input_shape"] = list(shape) if isinstance(shape, (list, tuple)) else shape
            layers[0] = {k: v for k, v in first.items() if k != "input_shape"}
    model["layers"] = layers
    return model


# Keras's augmentation layers that lead a tutorial's Sequential -> the spec's augmentation
# key and the layer argument that holds its amount.
AUGMENTATION_LAYERS = {"RandomFlip": ("flip", "mode", "horizontal_and_vertical"),
                       "RandomRotation": ("rotation", "factor", None),
                       "RandomZoom": ("zoom", "height_factor", None),
                       "RandomTranslation": ("translation", "height_factor", None),
                       "RandomContrast": ("contrast", "factor", None),
                       "GaussianNoise": ("noise", "stddev", None)}


def _augmentation_setting(layer) -> tuple[str, object] | None:
    """(augmentation key, amount) for a Keras augmentation layer nnplay's augmentation
    builds the same way, or None (then it stays a layer, and the validator names it)."""
    if not isinstance(layer, dict) or not isinstance(layer.get("type"), str) \
            or layer["type"] not in AUGMENTATION_LAYERS:
        return None
    key, arg, default = AUGMENTATION_LAYERS[layer["type"]]
    extra = set(layer) - {"type", "name", arg, "width_factor"}
    amount = layer.get(arg, default)
    if extra or amount is None or ("width_factor" in layer and (
            layer["type"] != "RandomTranslation" or layer["width_factor"] != amount)):
        return None
    return key, amount


def _leading_augmentation(d: dict) -> None:
    """Keras's augmentation layers at the top of the stack become `train.augmentation`,
    which builds those same layers first (`layers.RandomFlip("horizontal")`, ...)."""
    layers = d["model"].get("layers")
    train = d.setdefault("train", {})
    if not isinstance(layers, list) or not isinstance(train, dict):
        return
    augmentation = train.get("augmentation") or {}
    if not isinstance(augmentation, dict):
        return
    while layers and _augmentation_setting(layers[0]) and \
            _augmentation_setting(layers[0])[0] not in augmentation:
        key, amount = _augmentation_setting(layers.pop(0))
        augmentation[key] = amount
    if augmentation:
        train["augmentation"] = augmentation


def canonical(d: dict) -> dict:
    """A copy of spec dict `d` with Keras's spellings rewritten to the spec's one spelling
    each. Values it does not know are left as they are, for the validator to name."""
    d = copy.deepcopy(d)
    if isinstance(d.get("train"), dict):
        d["train"] = _canonical_train(d["train"])
    if isinstance(d.get("model"), dict):
        d["model"] = _canonical_model(d["model"])
        _leading_augmentation(d)
    return d
