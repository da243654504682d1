"""The experiment spec: one value that says what data, which model and how to train.

Pages, saved runs, shared links, exported code and the command line are all renderings of
an `Experiment`. It round-trips JSON exactly and has a compact URL-safe form.

    >>> exp = Experiment.from_dict({"data": {"dataset": "xor"}})
    >>> Experiment.from_url(exp.to_url()) == exp
    True

`validate()` checks an experiment before TensorFlow is touched and returns `Problem`s that
name the field or layer and say what to change; `check()` raises the first as `SpecError`.
"""
from __future__ import annotations

import base64
import copy
import json
import re
import zlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from . import keras_names as K
from . import layers as L

# Version 2 means what Keras means: Dense/Conv layers without an activation are linear, and
# an optimizer named without a rate starts at its Keras default. `upgrade` rewrites version 1.
VERSION = 2
TOY_FEATURES = ("x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)")
OPTIMIZERS = K.OPTIMIZERS
SCHEDULES = ("ExponentialDecay", "InverseTimeDecay", "CosineDecay")
LOSSES = ("auto",) + tuple(K.LOSS_CLASSES)
METRICS = K.METRICS
HIGHER_IS_BETTER = ("accuracy", "auc", "precision", "recall", "f1_score")   # losses, errors: lower
NORMALIZE = ("standard", "minmax", "none")
FLIPS = ("none", "horizontal", "vertical", "horizontal_and_vertical")
TASKS = ("binary", "multiclass", "regression")


MAX_PROBLEMS_SHOWN = 5   # a hostile spec can have thousands; the message stays one short line


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of `metric` is better ("val_accuracy", "test_auc"), as opposed
    to a smaller one ("loss", "val_mae"): early stopping's mode and a run's best value.

        >>> higher_is_better("val_accuracy"), higher_is_better("test_loss")
        (True, False)
    """
    return metric.removeprefix("val_").removeprefix("test_") in HIGHER_IS_BETTER


class SpecError(ValueError):
    """An experiment that cannot be built; `problems` lists every reason."""

    def __init__(self, problems: list["Problem"]):
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        super().__init__(shown + (f" (and {more} more problems)" if more > 0 else ""))


@dataclass(frozen=True)
class Problem:
    where: str          # "data.noise", "model.layers[2]", "train.optimizer", ...
    message: str
    layer: int | None = None  # index into model.layers when the problem belongs to a layer

    def __str__(self):
        return f"{self.where}: {self.message}"


@dataclass
class DataSpec:
    dataset: str = "circle"
    samples: int = 500
    noise: float = 0.0          # TensorFlow Playground starts with no noise
    features: list = field(default_factory=lambda: ["x1", "x2"])
    validation_split: float = 0.5
    test_split: float = 0.0
    normalize: str = "standard"
    seed: int = 0
    target: str | None = None   # CSV: the column to predict (None: the last column)
    path: str | None = None     # CSV: the file on the server
    window: int = 20            # sequences: how many past values predict the next
    num_words: int = 8000       # text: vocabulary size kept
    maxlen: int = 200           # text: reviews cut or padded to this many words


@dataclass
class ModelSpec:
    input_shape: list | None = None
    layers: list = field(default_factory=lambda: [
        {"type": "Dense", "units": 4, "activation": "tanh"},
        {"type": "Dense", "units": 2, "activation": "tanh"}])
    output: str = "auto"


@dataclass
class TrainSpec:
    optimizer: str = "sgd"
    learning_rate: float = 0.03
    momentum: float = 0.0        # SGD and RMSprop only
    optimizer_options: dict | None = None   # the optimizer's other Keras arguments: {"beta_1": 0.8}
    batch_size: int = 10
    epochs: int = 500
    loss: str = "auto"
    from_logits: bool | None = None   # crossentropies: null lets a linear last layer mean logits
    metrics: list = field(default_factory=lambda: ["accuracy"])
    metric_options: dict | None = None   # Keras arguments of a metric: {"precision": {"thresholds": 0.7}}
    seed: int = 0
    regularization: dict | None = None  # {"l1": a, "l2": b} for every layer without its own
    early_stopping: dict | None = None  # {"monitor", "patience", "min_delta", "restore_best_weights"}
    lr_schedule: dict | None = None     # {"type": "ExponentialDecay", "decay_steps", "decay_rate", ...}
    augmentation: dict | None = None    # {"flip", "rotation", "zoom", "translation", "contrast", "noise"}


EARLY_STOPPING_DEFAULTS = {"monitor": "val_loss", "patience": 10, "min_delta": 0.0,
                           "restore_best_weights": True}
SCHEDULE_DEFAULTS = {"ExponentialDecay": {"decay_steps": 1000, "decay_rate": 0.9, "staircase": False},
                     "InverseTimeDecay": {"decay_steps": 1000, "decay_rate": 0.5, "staircase": False},
                     "CosineDecay": {"decay_steps": 10000, "alpha": 0.0}}
AUGMENTATION_DEFAULTS = {"flip": "none", "rotation": 0.0, "zoom": 0.0, "translation": 0.0,
                         "contrast": 0.0, "noise": 0.0}
PARTS = {"data": DataSpec, "model": ModelSpec, "train": TrainSpec}


@dataclass
class Experiment:
    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    train: TrainSpec = field(default_factory=TrainSpec)

    # ---- forms -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"version": VERSION, **copy.deepcopy(asdict(self))}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_url(self) -> str:
        """A compact, URL-safe string that holds the whole experiment."""
        raw = json.dumps(self.to_dict(), separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")

    @classmethod
    def from_dict(cls, d: Any) -> "Experiment":
        """Read a spec dict; missing keys take defaults, unknown keys are refused."""
        if not isinstance(d, dict):
            raise SpecError([Problem("spec", f"must be a JSON object, got {type(d).__name__}")])
        _check_depth(d)
        d = K.canonical(upgrade(d))
        unknown = [k for k in d if k not in PARTS and k != "version"]
        if unknown:
            raise SpecError([Problem(_cut(k), "unknown section; a spec has data, model "
                                     "and train") for k in unknown])
        parts = {}
        for name, part_cls in PARTS.items():
            section = d.get(name, {})
            if not isinstance(section, dict):
                raise SpecError([Problem(name, f"must be an object, got {_shown(section)}")])
            known = {f.name for f in fields(part_cls)}
            bad = [k for k in section if k not in known]
            if bad:
                raise SpecError([Problem(f"{name}.{_cut(k)}", f"unknown key; {name} takes "
                                         f"{', '.join(sorted(known))}") for k in bad])
            parts[name] = part_cls(**copy.deepcopy(section))
        if "data" not in d and isinstance(parts["model"].input_shape, list):
            parts["data"].dataset = None   # a model only: summarised and exported, not trained
        if "samples" not in d.get("data", {}):   # big sets: all their examples (data's rule)
            from .data import default_samples
            parts["data"].samples = default_samples(parts["data"].dataset, parts["data"].samples)
        return cls(**parts)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Experiment":
        """Read a spec from JSON text or the bytes of a spec file (UTF-8)."""
        return cls.from_dict(parse_json(text))

    @classmethod
    def from_url(cls, text: str) -> "Experiment":
        return require_uploaded_files(cls.from_json(_inflate_link(text)))

    def copy(self) -> "Experiment":
        return Experiment.from_dict(self.to_dict())


def require_uploaded_files(exp: "Experiment") -> "Experiment":
    """`exp` unchanged when it names no file but nnplay's own uploads; SpecError otherwise.
    For specs from a link or an uploaded spec: they may never read the server's files."""
    from . import uploads
    path = exp.data.path
    if path is not None and not (isinstance(path, str) and uploads.is_upload(path)):
        raise SpecError([Problem("data.path", uploads.refusal(str(path)))])
    return exp


# ---- reading untrusted text ----------------------------------------------------------------

MAX_DEPTH = 32                # a spec nests about 6 deep (a Bidirectional's inner regularizer)
MAX_DIGITS = 30               # whole numbers in a spec are far shorter
_LINK_CHARACTERS = re.compile(r"[A-Za-z0-9_-]+={0,2}")   # URL-safe base64 (padding optional)


def _link_damaged(why: str = "") -> SpecError:
    return SpecError([Problem("link", f"is damaged or cut short{why}: copy the whole link again")])


def _inflate_link(text: str) -> bytes:
    """The spec bytes a link holds, inflated at most to the limit `max_link_kb`."""
    if not isinstance(text, str) or not text:
        raise _link_damaged()
    if not _LINK_CHARACTERS.fullmatch(text):
        raise _link_damaged(" (it has characters a link never holds)")
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:  # binascii.Error: a length no whole link has
        raise _link_damaged() from None
    from .limits import LimitError, inflate_link   # limits reads this module: imported late
    try:
        return inflate_link(packed)   # stops at the host's max_link_kb: a zip bomb goes no further
    except zlib.error:
        raise _link_damaged() from None
    except LimitError as e:
        raise SpecError([Problem("link", str(e))]) from None


class _TooManyDigits(ValueError):
    pass


def _parse_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise _TooManyDigits(digits)
    return int(digits)


def parse_json(text: str | bytes):
    """JSON from a spec file, upload or link, refusing with a SpecError what json.loads would
    turn into a traceback or a hang: bytes that are not UTF-8, nesting thousands deep
    (RecursionError), numbers with thousands of digits."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SpecError([Problem("spec", "the spec file is not UTF-8 text: save it as UTF-8 "
                                     "JSON (nnplay writes specs that way)")]) from None
    try:
        return json.loads(text.lstrip("\ufeff"), parse_int=_parse_int)
    except json.JSONDecodeError as e:
        raise SpecError([Problem("spec", f"is not valid JSON (line {e.lineno}, column {e.colno}: "
                                 f"{e.msg})")]) from None
    except _TooManyDigits as e:
        raise SpecError([Problem("spec", f"has a number with {len(str(e).lstrip('-'))} digits; "
                                 f"numbers in a spec have at most {MAX_DIGITS}")]) from None
    except RecursionError:
        raise _too_deep() from None


def _too_deep() -> SpecError:
    return SpecError([Problem("spec", f"is nested more than {MAX_DEPTH} levels deep; a spec is a "
                              "few levels of objects and lists")])


def _check_depth(value) -> None:
    """Refuse containers nested deeper than MAX_DEPTH (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        children = v.values() if isinstance(v, dict) else v if isinstance(v, list) else ()
        stack += [(c, depth + 1) for c in children if isinstance(c, (dict, list))]


V1_RELU_LAYERS = ("Dense", "Conv1D", "Conv2D")   # version 1 made these ReLU by default
V1_LEARNING_RATE = 0.03                          # and trained every optimizer at this rate


def spec_version(d: dict):
    """The version a spec dict was written for. nnplay has always written the version into
    every spec it saves or links, so a spec without one was typed by a person: it means what
    it says in Keras (the current version)."""
    return d.get("version", VERSION)


def upgrade(d: dict) -> dict:
    """The spec dict `d` in the current version: a version-1 spec gets the defaults it relied
    on written out (ReLU on Dense/Conv layers without an activation, learning rate 0.03), so
    it builds and trains the same model as before."""
    version = spec_version(d)
    if not _is_int(version) or version < 1:
        raise SpecError([Problem("version", f"must be a positive whole number, got {_shown(version)}")])
    if version > VERSION:
        raise SpecError([Problem("version", f"{version} was written by a newer nnplay; "
                                 f"this one reads up to version {VERSION}")])
    if version == 1:
        d = _v1_defaults_written(d)
    return {**d, "version": VERSION}


def _v1_defaults_written(d: dict) -> dict:
    d = copy.deepcopy(d)
    model, train = d.get("model"), d.get("train")
    layers = model.get("layers") if isinstance(model, dict) else None
    for layer in layers if isinstance(layers, list) else ():
        if isinstance(layer, dict) and layer.get("type") in V1_RELU_LAYERS and "activation" not in layer:
            layer["activation"] = "relu"
    if isinstance(train, dict) and "learning_rate" not in train:
        train["learning_rate"] = V1_LEARNING_RATE
    return d


def reading_notes(d) -> list[str]:
    """One line when a version-1 spec relied on nnplay's old defaults, which its upgrade wrote
    out, so a reader of the file knows why a Dense layer without an activation is ReLU."""
    if not isinstance(d, dict) or spec_version(d) != 1:
        return []
    before, after = json.dumps(d, sort_keys=True), upgrade(d)
    after["version"] = 1
    if json.dumps(after, sort_keys=True) == before:
        return []
    return ["this spec is version 1, so it keeps nnplay's old defaults (ReLU for Dense/Conv "
            "layers without an activation, learning rate 0.03); version "
            f"{VERSION} and a spec without a version follow Keras (linear, the optimizer's own rate)"]


def auto_head(info) -> dict:
    """The layer `output: "auto"` appends: softmax over the classes, one sigmoid unit for two
    classes, one linear unit for regression."""
    if info.task == "multiclass":
        return {"type": "Dense", "units": info.n_classes, "activation": "softmax"}
    if info.task == "binary":
        return {"type": "Dense", "units": 1, "activation": "sigmoid"}
    return {"type": "Dense", "units": 1, "activation": "linear"}


def auto_loss(task: str, units: int) -> str:
    """The loss `loss: "auto"` picks for the task and the width of the output layer."""
    if task == "regression":
        return "mean_squared_error"
    if task == "binary" and units == 1:
        return "binary_crossentropy"
    return "sparse_categorical_crossentropy"


# ---- validation ------------------------------------------------------------------------

_is_int, _is_num, _shown, _cut = L.is_whole, L.is_number, L.shown, L.cut


def _range(where: str, v, lo, hi, *, integer=False, hi_open=False, lo_open=False) -> list[Problem]:
    """Every numeric field's check: the right kind, finite (NaN passes no comparison), in range."""
    kind = "a whole number" if integer else L.number_kind(v)
    if not (_is_int(v) if integer else _is_num(v)):
        return [Problem(where, f"must be {kind}, got {_shown(v)}")]
    if (v <= lo if lo_open else v < lo) or (v >= hi if hi_open else v > hi):
        left, right = ("(" if lo_open else "["), (")" if hi_open else "]")
        return [Problem(where, f"must be in {left}{lo:g}, {hi:g}{right}, got {_shown(v)}")]
    return []


def _choice(where: str, v, choices) -> list[Problem]:
    if not isinstance(v, str) or v not in choices:
        return [Problem(where, f"must be one of {', '.join(choices)}; got {_shown(v)}")]
    return []


def _check_data(d: DataSpec, model_only: bool = False) -> list[Problem]:
    p = []
    if not (d.dataset is None and model_only) and (not isinstance(d.dataset, str) or not d.dataset):
        p.append(Problem("data.dataset", f"must name a dataset, got {_shown(d.dataset)}"))
    p += _range("data.samples", d.samples, 10, 100_000, integer=True)
    p += _range("data.noise", d.noise, 0, 1)
    if not isinstance(d.features, list) or not d.features:
        p.append(Problem("data.features", "must list at least one input feature, e.g. [\"x1\", \"x2\"]"))
    else:
        p += [Problem("data.features", f"unknown feature {_shown(f)}; choose from {', '.join(TOY_FEATURES)}")
              for f in d.features if f not in TOY_FEATURES]
    splits = _range("data.validation_split", d.validation_split, 0, 0.9) + \
        _range("data.test_split", d.test_split, 0, 0.9)
    p += splits
    if not splits and d.validation_split + d.test_split > 0.9:
        p.append(Problem("data.validation_split", "validation and test together must leave at least "
                         "10% for training; lower one of them"))
    p += _choice("data.normalize", d.normalize, NORMALIZE)
    p += _range("data.seed", d.seed, 0, 2**31 - 1, integer=True)
    p += _range("data.window", d.window, 2, 500, integer=True)
    p += _range("data.num_words", d.num_words, 100, 100_000, integer=True)
    p += _range("data.maxlen", d.maxlen, 5, 5000, integer=True)
    for key in ("target", "path"):
        v = getattr(d, key)
        if v is not None and not isinstance(v, str):
            p.append(Problem(f"data.{key}", f"must be text or null, got {_shown(v)}"))
    return p


def _check_subdict(where: str, value, defaults: dict) -> list[Problem]:
    if not isinstance(value, dict):
        return [Problem(where, f"must be an object or null, got {_shown(value)}")]
    return [Problem(f"{where}.{_cut(k)}", f"unknown key; it takes {', '.join(defaults)}")
            for k in value if k not in defaults]


def _keras_arguments(where: str, value, allowed: str) -> list[Problem]:
    """A Keras object written with arguments nnplay does not set (they would be ignored)."""
    args = sorted(k for k in value if k != "class_name")
    return [Problem(where, f"nnplay sets only {allowed} of {_shown(value.get('class_name'))}; "
                    f"remove {', '.join(map(_cut, args))}")]


def _check_optimizer_options(optimizer: str, options) -> list[Problem]:
    """Each option is an argument the optimizer has in Keras, with a value Keras accepts."""
    where, cls = "train.optimizer_options", K.OPTIMIZER_CLASSES[optimizer]
    if not isinstance(options, dict):
        return [Problem(where, f"must be an object of {cls}'s arguments or null, got {_shown(options)}")]
    known, p = K.optimizer_options(optimizer), []
    for key, value in options.items():
        if key in K.OWN_FIELDS and (key != "momentum" or optimizer in ("sgd", "rmsprop")):
            p.append(Problem(f"{where}.{key}", f"is set by {K.OWN_FIELDS[key]}: move it there"))
        elif key not in known:
            p.append(Problem(f"{where}.{_cut(key)}", f"{cls} has no argument {_shown(key)}; its "
                             f"arguments are {', '.join(known)}"))
        else:
            p += _option_value(f"{where}.{key}", value, known[key])
    clips = [c for c in K.CLIPS if options.get(c) is not None]
    if len(clips) > 1:
        p.append(Problem(where, f"Keras takes only one of {', '.join(K.CLIPS)}; remove "
                         f"{' or '.join(clips[1:]) if len(clips) == 2 else 'all but one'}"))
    return p


def _check_metric_options(options, metrics: list) -> list[Problem]:
    """{metric: {argument: value}} for metrics trained, with the arguments nnplay honours."""
    where = "train.metric_options"
    if not isinstance(options, dict):
        return [Problem(where, "must be an object like {\"precision\": {\"thresholds\": 0.7}} "
                        f"or null, got {_shown(options)}")]
    p = []
    for metric, args in options.items():
        known = K.METRIC_OPTIONS.get(metric)
        if known is None:
            p.append(Problem(f"{where}.{_cut(metric)}", "nnplay sets arguments only of "
                             f"{', '.join(K.METRIC_OPTIONS)}"))
        elif metric not in metrics:
            p.append(Problem(f"{where}.{metric}", f"{metric} is not in train.metrics: add it, or "
                             "remove its options"))
        elif not isinstance(args, dict):
            p.append(Problem(f"{where}.{metric}", f"must be an object of arguments, got {_shown(args)}"))
        else:
            for key, value in args.items():
                p += [Problem(f"{where}.{metric}.{_cut(key)}", f"nnplay sets only {', '.join(known)} "
                              f"of {metric}")] if key not in known else \
                    _option_value(f"{where}.{metric}.{key}", value, known[key])
    return p


def _option_value(where: str, value, option) -> list[Problem]:
    if option.choices:
        return _choice(where, value, option.choices)
    if isinstance(option.default, bool):
        return [] if isinstance(value, bool) else [
            Problem(where, f"must be true or false, got {_shown(value)}")]
    if value is None and option.default is None:
        return []     # Keras's default: not set
    return _range(where, value, option.lo, option.hi, integer=option.integer,
                  lo_open=option.lo_open, hi_open=option.hi_open)


def _metric_problem(m) -> Problem:
    """A metric nnplay does not compute, or a Keras metric object with arguments it cannot
    honour (`keras_names` keeps those as {"class_name": X, argument: value})."""
    cls = m.get("class_name") if isinstance(m, dict) else None
    if isinstance(cls, str) and K.metric_name(cls) in METRICS and len(m) > 1:
        args = [f"{_cut(k)}={_shown(v)}" for k, v in m.items() if k != "class_name"]
        return Problem("train.metrics", f"nnplay computes {cls} as {K.metric_name(cls)} with "
                       f"Keras's default arguments and cannot honour {', '.join(args)}: remove "
                       f"{'it' if len(args) == 1 else 'them'}, or compute {cls} yourself in the "
                       "exported script")
    return Problem("train.metrics", f"unknown metric {_shown(m)}; choose from {', '.join(METRICS)}")


def _check_train(t: TrainSpec) -> list[Problem]:
    p = _choice("train.optimizer", t.optimizer, OPTIMIZERS)
    if t.learning_rate is not None:    # None: the optimizer's own Keras default
        p += _range("train.learning_rate", t.learning_rate, 0, 10, lo_open=True)
    p += _range("train.momentum", t.momentum, 0, 1, hi_open=True)
    if t.optimizer in OPTIMIZERS and t.optimizer_options is not None:
        p += _check_optimizer_options(t.optimizer, t.optimizer_options)
    p += _range("train.batch_size", t.batch_size, 1, 65536, integer=True)
    p += _range("train.epochs", t.epochs, 1, 100_000, integer=True)
    p += _keras_arguments("train.loss", t.loss, "from_logits") if isinstance(t.loss, dict) \
        else _choice("train.loss", t.loss, LOSSES)
    if t.from_logits is not None and not isinstance(t.from_logits, bool):
        p.append(Problem("train.from_logits", f"must be true, false or null, got {_shown(t.from_logits)}"))
    if not isinstance(t.metrics, list):
        p.append(Problem("train.metrics", f"must be a list like [\"accuracy\"], got {_shown(t.metrics)}"))
    else:
        p += [_metric_problem(m) for m in t.metrics if m not in METRICS]
        if t.metric_options is not None:
            p += _check_metric_options(t.metric_options, t.metrics)
    p += _range("train.seed", t.seed, 0, 2**31 - 1, integer=True)
    if t.regularization is not None:
        msg = L.check_param(L.Param("regularization", "regularizer", None, "", nullable=True),
                            t.regularization)
        if msg:
            p.append(Problem("train.regularization", msg.replace("'regularization' ", "")))
    if t.early_stopping is not None:
        p += _check_subdict("train.early_stopping", t.early_stopping, EARLY_STOPPING_DEFAULTS)
        if isinstance(t.early_stopping, dict):
            es = {**EARLY_STOPPING_DEFAULTS, **t.early_stopping}
            p += _range("train.early_stopping.patience", es["patience"], 0, 100_000, integer=True)
            p += _range("train.early_stopping.min_delta", es["min_delta"], 0, 1e9)
            p += _check_monitor(es["monitor"], t.metrics)
            if not isinstance(es["restore_best_weights"], bool):
                p.append(Problem("train.early_stopping.restore_best_weights", "must be true or "
                                 f"false, got {_shown(es['restore_best_weights'])}"))
    if t.lr_schedule is not None:
        s = t.lr_schedule
        if not isinstance(s, dict) or s.get("type") not in SCHEDULES:
            p.append(Problem("train.lr_schedule", f"must be null or an object with type one of "
                             f"{', '.join(SCHEDULES)}; got {_shown(s)}"))
        else:
            defaults = {"type": None, **SCHEDULE_DEFAULTS[s["type"]]}
            p += _check_subdict("train.lr_schedule", s, defaults)
            full = {**defaults, **s}
            p += _range("train.lr_schedule.decay_steps", full["decay_steps"], 1, 10**9, integer=True)
            if "decay_rate" in full:
                p += _range("train.lr_schedule.decay_rate", full["decay_rate"], 0, 100, lo_open=True)
            if "alpha" in full:
                p += _range("train.lr_schedule.alpha", full["alpha"], 0, 1)
            if not isinstance(full.get("staircase", False), bool):
                p.append(Problem("train.lr_schedule.staircase", "must be true or false, got "
                                 f"{_shown(full['staircase'])}"))
    if t.augmentation is not None:
        p += _check_subdict("train.augmentation", t.augmentation, AUGMENTATION_DEFAULTS)
        if isinstance(t.augmentation, dict):
            a = {**AUGMENTATION_DEFAULTS, **t.augmentation}
            p += _choice("train.augmentation.flip", a["flip"], FLIPS)
            for key, hi in (("rotation", 0.5), ("zoom", 0.9), ("translation", 0.5),
                            ("contrast", 1.0), ("noise", 10.0)):
                p += _range(f"train.augmentation.{key}", a[key], 0, hi)
    return p


def monitors(metrics) -> list[str]:
    """What early stopping can watch: the loss and the metrics trained (accuracy or mae is
    always there), each also on the validation split."""
    names = ["loss"] + list(dict.fromkeys(
        ["accuracy", "mae"] + [m for m in metrics if m in METRICS] if isinstance(metrics, list) else []))
    return names + ["val_" + n for n in names]


def _check_monitor(monitor, metrics) -> list[Problem]:
    known = monitors(metrics)
    if isinstance(monitor, str) and monitor in known:
        return []
    return [Problem("train.early_stopping.monitor", f"cannot watch {_shown(monitor)}; choose one of "
                    f"{', '.join(known)} (add a metric to train.metrics to watch it)")]


IMAGE_AUGMENTATIONS = ("flip", "rotation", "zoom", "translation", "contrast")


def _check_augmentation(aug, shape: tuple) -> list[Problem]:
    """Image augmentations need images: on other data they would be silently left out."""
    if len(shape) == 3 or not isinstance(aug, dict):
        return []
    used = [k for k in IMAGE_AUGMENTATIONS if k in aug and aug[k] != AUGMENTATION_DEFAULTS[k]]
    if not used:
        return []
    return [Problem(f"train.augmentation.{used[0]}", f"{', '.join(used)} transform images, but this "
                    f"data has shape {list(shape)}: remove {'it' if len(used) == 1 else 'them'} "
                    "(noise works on any data)")]


def _layer_where(i: int, layer) -> str:
    kind = layer.get("type", "?") if isinstance(layer, dict) else "?"
    return f"layer {i + 1} ({kind})"


def _check_stack(m: ModelSpec, info, train: TrainSpec) -> list[Problem]:
    """Per-layer keys and values, then shapes flowing through the stack, then the head."""
    if not isinstance(m.layers, list):
        return [Problem("model.layers", "must be a list of layers")]
    if m.output not in ("auto", "none"):
        return [Problem("model.output", f"must be 'auto' or 'none', got {_shown(m.output)}")]
    problems = _check_names(m)
    for i, layer in enumerate(m.layers):
        if isinstance(layer, dict) and layer.get("type") in K.INPUT_LAYERS:
            problems.append(Problem(_layer_where(i, layer), "its shape differs from model.input_shape: "
                                    "keep one of them" if i == 0 else "an InputLayer only opens a "
                                    "model: make it the first layer, with shape [...] and nothing else", i))
            continue
        if isinstance(layer, dict) and isinstance(layer.get("type"), str) \
                and layer["type"] in K.AUGMENTATION_LAYERS:
            problems.append(Problem(_layer_where(i, layer), f"{layer['type']} is read as augmentation "
                                    "only at the top of the stack, with its one amount (e.g. "
                                    "{\"type\": \"RandomFlip\", \"mode\": \"horizontal\"}): move it "
                                    "first, or set train.augmentation", i))
            continue
        if isinstance(layer, dict) and "input_shape" in layer:
            problems.append(Problem(_layer_where(i, layer), "input_shape belongs on the first layer "
                                    "(or in model.input_shape) and agrees with it: remove it here", i))
            layer = {k: v for k, v in layer.items() if k != "input_shape"}
        problems += [Problem(_layer_where(i, layer), msg, i) for msg in L.check_layer(layer)]
        if isinstance(layer, dict) and layer.get("type") == "Embedding" and i > 0:
            problems.append(Problem(_layer_where(i, layer), "Embedding turns word ids into vectors, "
                                    "so it must be the first layer: move it to the top", i))
    if m.input_shape is not None and not (
            isinstance(m.input_shape, list) and m.input_shape
            and all(v is None or (_is_int(v) and v > 0) for v in m.input_shape)):
        problems.append(Problem("model.input_shape", "must be null or a list of positive whole "
                                f"numbers (null for a variable length), got {_shown(m.input_shape)}"))
    if problems:
        return problems
    if m.output == "none" and not m.layers:
        return [Problem("model.layers", "with output 'none' the stack needs at least one layer")]
    shape = tuple(m.input_shape) if m.input_shape is not None else (
        tuple(info.input_shape) if info is not None else None)
    if shape is None:
        return []
    mismatch = _input_shape_mismatch(m, info)
    if mismatch:
        return mismatch
    first = m.layers[0] if m.layers else None
    augmentation = _check_augmentation(train.augmentation, shape)
    if augmentation:
        return augmentation
    text = getattr(info, "kind", None) == "text"
    if info is not None and text and (
            first is None or first.get("type") != "Embedding") and m.input_shape is None:
        return [Problem("model.layers", "text data is a list of word ids: start the stack with an "
                        "Embedding layer", 0)]
    if info is not None and not text and m.input_shape is None and first is not None \
            and first.get("type") == "Embedding":
        return [Problem(_layer_where(0, first), "Embedding reads word ids, but this data is "
                        f"{info.kind} data of numbers: remove it, or choose a text dataset", 0)]
    vocab = getattr(info, "vocab_size", None) if info is not None else None
    if vocab and first is not None and first.get("type") == "Embedding" \
            and L.complete(first)["input_dim"] < vocab:
        return [Problem(_layer_where(0, first), f"input_dim {L.complete(first)['input_dim']} is smaller "
                        f"than the data's vocabulary of {vocab} words: set input_dim to {vocab}", 0)]
    for i, layer in enumerate(m.layers):
        try:
            shape = L.output_shape(layer, shape)
        except L.ShapeError as e:
            return [Problem(_layer_where(i, layer), str(e), i)]
    return _check_head(m, info, train, shape)


def _check_head(m: ModelSpec, info, train: TrainSpec, shape: tuple) -> list[Problem]:
    where = _layer_where(len(m.layers) - 1, m.layers[-1]) if m.layers else "model.layers"
    last = len(m.layers) - 1 if m.layers else None
    if len(shape) != 1:
        fix = ("add Flatten or GlobalAveragePooling2D at the end" if len(shape) == 3 else
               "set return_sequences false on the last recurrent layer, or add Flatten")
        return [Problem(where, f"the stack ends with shape {list(shape)}, but the output needs a flat "
                        f"vector: {fix}", last)]
    if info is None or m.output == "auto":
        return _check_output_fit(train, info, auto_head(info)["units"] if info is not None else None)
    n = shape[0]
    if info.task == "multiclass" and n != info.n_classes:
        return [Problem(where, f"outputs {n} values but the data has {info.n_classes} classes: "
                        f"set its units to {info.n_classes}, or choose output 'auto'", last)]
    if info.task == "binary" and n not in (1, 2):
        return [Problem(where, f"outputs {n} values but the task has 2 classes: set units to 1 "
                        "(sigmoid) or 2 (softmax), or choose output 'auto'", last)]
    if info.task == "binary" and n == 2 and train.loss == "binary_crossentropy":
        return [Problem(where, "binary_crossentropy needs one sigmoid unit, but this layer outputs 2 "
                        "values: set units to 1 with sigmoid, or use sparse_categorical_crossentropy",
                        last)]
    if info.task == "regression" and n != 1:
        return [Problem(where, f"outputs {n} values but the task predicts one number: set units to 1 "
                        "with a linear activation, or choose output 'auto'", last)]
    return _check_output_fit(train, info, n)


def _check_names(m: ModelSpec) -> list[Problem]:
    """Keras needs every layer name in a model to be different."""
    seen = {n: "the model's input" if n == "input" else "the output head"
            for n in L.RESERVED_NAMES if n == "input" or m.output == "auto"}
    problems = []
    for i, layer in enumerate(m.layers if isinstance(m.layers, list) else ()):
        name = layer.get("name") if isinstance(layer, dict) else None
        if not isinstance(name, str):
            continue
        if name in seen:
            problems.append(Problem(_layer_where(i, layer), f"name {_shown(name)} is already "
                                    f"{seen[name]}'s: give each layer its own name", i))
        seen[name] = f"layer {i + 1}"
    return problems


# Which losses a task takes: the usual ones (pages offer these), and the unusual but legal ones
# Keras trains too (with a note); any other is refused.
TASK_LOSSES = {"regression": K.REGRESSION_LOSSES,
               "binary": ("binary_crossentropy", "sparse_categorical_crossentropy",
                          "categorical_crossentropy"),
               "multiclass": ("sparse_categorical_crossentropy", "categorical_crossentropy")}
UNUSUAL_LOSSES = {"regression": (), "binary": K.REGRESSION_LOSSES, "multiclass": K.REGRESSION_LOSSES}
# Which metrics a task takes, by the width of the output (AUC: one sigmoid unit).
TASK_METRICS = {"regression": ("mae", "mse"),
                "binary": ("accuracy", "auc", "precision", "recall", "f1_score"),
                "multiclass": ("accuracy", "precision", "recall", "f1_score")}


def task_metrics(task: str, units: int) -> tuple:
    """The metrics that mean something for `task` on an output of `units` values."""
    return TASK_METRICS["multiclass" if task != "regression" and units > 1 else task]


def fitting_metrics(metrics, task: str, units: int) -> tuple[list, list]:
    """(the metrics computed, [(a metric left out, why)]): accuracy always comes first for
    classes; regression has mae when it asks for neither mae nor mse."""
    names = list(dict.fromkeys(m for m in metrics if m in METRICS)) if isinstance(metrics, list) else []
    fit = task_metrics(task, units)
    kept = [n for n in names if n in fit]
    if task == "regression":
        kept = kept or ["mae"]            # mae unless mse alone is asked for
    elif "accuracy" not in kept:
        kept = ["accuracy"] + kept
    why = {"mae": "it measures a predicted number, not classes", "mse": "it measures a predicted "
           "number, not classes", "auc": "Keras's AUC needs one sigmoid output, and this model has "
           "one output per class"}
    return kept, [(n, why.get(n, "it measures classes, not a predicted number"))
                  for n in names if n not in kept]


def _check_output_fit(train: TrainSpec, info, units: int | None) -> list[Problem]:
    """The loss and the metrics' thresholds against the task and the output's width."""
    return _check_loss(train, info, units) + _check_thresholds(train, info, units)


def _check_thresholds(train: TrainSpec, info, units: int | None) -> list[Problem]:
    """A metric's threshold decides between two classes on one sigmoid output; with one output
    per class nnplay takes the largest, and a threshold would mean nothing."""
    options = train.metric_options if isinstance(train.metric_options, dict) else {}
    if info is None or info.task == "regression" or not units or units == 1:
        return []
    return [Problem(f"train.metric_options.{metric}.{key}", f"needs one sigmoid output, but this "
                    f"model has {units} outputs (one per class, the largest wins): remove it")
            for metric, args in options.items() if isinstance(args, dict)
            for key in args if key in K.THRESHOLD_OPTIONS]


def metric_options_kept(options, metrics: list, units: int) -> dict | None:
    """The metric options that still apply once a page changed the metrics or the output
    (a metric no longer trained, a threshold on an output of one value per class)."""
    if not isinstance(options, dict):
        return options
    kept = {}
    for metric, args in options.items():
        if metric in metrics and isinstance(args, dict):
            args = {k: v for k, v in args.items() if units == 1 or k not in K.THRESHOLD_OPTIONS}
            if args:
                kept[metric] = args
    return kept or None


def _check_loss(train: TrainSpec, info, units: int | None = None) -> list[Problem]:
    loss = train.loss
    if info is None or loss == "auto":
        return []
    if loss in TASK_LOSSES[info.task] + UNUSUAL_LOSSES[info.task]:
        if loss == "categorical_crossentropy" and units == 1:
            return [Problem("train.loss", "categorical_crossentropy needs one output per class "
                            "(here 2): set the last layer's units to 2 with softmax, or use "
                            "binary_crossentropy")]
        return []
    return [Problem("train.loss", f"{loss} does not fit a {info.task} task; use "
                    f"{' or '.join(TASK_LOSSES[info.task])}, or 'auto'")]


def output_units(m: ModelSpec, info) -> int | None:
    """How many values the model outputs, or None when the stack cannot say."""
    if m.output == "auto":
        return auto_head(info)["units"] if info is not None else None
    shape = tuple(m.input_shape) if m.input_shape is not None else (
        tuple(info.input_shape) if info is not None else None)
    try:
        for layer in m.layers:
            shape = L.output_shape(layer, shape)
    except (L.ShapeError, KeyError, TypeError, ValueError):
        return None
    return shape[-1] if shape else None


def notes(exp: Experiment, info) -> list[str]:
    """One line for each unusual but legal choice in a valid `exp`, saying why it is unusual
    (the page and the command line show them; training goes ahead)."""
    if info is None:
        return []
    t, out = exp.train, []
    units = output_units(exp.model, info)
    last = auto_head(info) if exp.model.output == "auto" else (exp.model.layers or [{}])[-1]
    activation = L.output_activation(last)
    if t.loss in UNUSUAL_LOSSES[info.task]:
        out.append(f"{t.loss} on a classifier is unusual: cross-entropy pushes harder when the "
                   "model is confidently wrong, so it usually learns faster; it trains as Keras would"
                   + (" (on one-hot labels)" if (units or 1) > 1 else ""))
    crossentropy = t.loss in K.CROSSENTROPIES or (t.loss == "auto" and info.task != "regression")
    if t.from_logits is not None and not crossentropy:
        out.append("from_logits applies to cross-entropy losses only; it is ignored here")
    elif t.from_logits and activation in ("softmax", "sigmoid"):
        out.append(f"from_logits is true but the last layer already applies {activation}: the loss "
                   "applies it again; make the last layer linear, or set from_logits false")
    elif t.from_logits is False and activation == "linear" and info.task != "regression":
        out.append("the last layer is linear but from_logits is false: the loss reads raw outputs "
                   "as probabilities; set from_logits true (or leave it out)")
    for name, why in fitting_metrics(t.metrics, info.task, units or 1)[1]:
        out.append(f"metric {name} is left out: {why}")
    return out


def _input_shape_mismatch(m: ModelSpec, info) -> list[Problem]:
    """A model's own input_shape against its data's examples (None matches any length)."""
    if m.input_shape is None or info is None or info.name == "input_shape":  # no data to match
        return []
    data = tuple(info.input_shape)
    if len(data) == len(m.input_shape) and all(
            a is None or a == b for a, b in zip(m.input_shape, data)):
        return []
    return [Problem("model.input_shape", f"is {list(m.input_shape)}, but the data ({info.name}) "
                    f"gives examples of shape {list(data)}: set input_shape to {list(data)}, or to "
                    "null to take the data's shape, or choose data of the model's shape")]


def validate(exp: Experiment, info=None) -> list[Problem]:
    """Every problem with `exp`, given the dataset's `info` (a `data.DatasetInfo`) when known."""
    problems = _check_data(exp.data, exp.model.input_shape is not None) + _check_train(exp.train)
    problems += _check_stack(exp.model, info, exp.train)
    from .limits import check_limits   # limits reads this module: imported late
    return problems or check_limits(exp, info)  # sizes, once the spec is well formed


def check(exp: Experiment, info=None) -> Experiment:
    """Raise SpecError listing every problem; return `exp` when there are none."""
    problems = validate(exp, info)
    if problems:
        raise SpecError(problems)
    return exp


# ---- comparing experiments ---------------------------------------------------------------

# Settings in words, for tables and notices: "train.learning_rate" -> "learning rate".
SETTING_TITLES = {
    "data.dataset": "dataset", "data.samples": "samples", "data.noise": "noise",
    "data.features": "input features", "data.validation_split": "validation share",
    "data.test_split": "test share", "data.normalize": "normalization", "data.seed": "data seed",
    "data.target": "column predicted", "data.path": "CSV file", "data.window": "window",
    "data.num_words": "vocabulary", "data.maxlen": "words per review",
    "model.input_shape": "input shape", "model.layers": "layers", "model.output": "output head",
    "train.optimizer": "optimizer", "train.learning_rate": "learning rate",
    "train.momentum": "momentum", "train.optimizer_options": "optimizer settings",
    "train.batch_size": "batch size",
    "train.epochs": "epochs", "train.loss": "loss function", "train.metrics": "metrics",
    "train.metric_options": "metric settings",
    "train.seed": "training seed", "train.regularization": "weight penalty (L1/L2)",
    "train.early_stopping": "early stopping", "train.lr_schedule": "learning-rate schedule",
    "train.augmentation": "augmentation",
}
OPTIMIZER_NAMES = K.OPTIMIZER_CLASSES   # an optimizer is named by its Keras class: "Adam"


def setting_title(key: str) -> str:
    """"train.learning_rate" -> "learning rate"; unknown keys lose their section."""
    return SETTING_TITLES.get(key, key.split(".", 1)[-1].replace("_", " "))


def describe_value(key: str, value) -> str:
    """A setting's value in words: "SGD", "50%", "x1, x2", "Dense(8, relu) → Dropout(0.5)"."""
    if value is None:
        return "none"
    if key == "train.optimizer":
        return OPTIMIZER_NAMES.get(value, str(value))
    if key in ("data.validation_split", "data.test_split") and isinstance(value, (int, float)):
        return f"{value:.0%}"
    if key == "model.layers" and isinstance(value, list):
        return describe_layers(value)
    if key == "data.path" and isinstance(value, str):
        from .uploads import display_name
        return display_name(value)   # the file's name, never where the server keeps it
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k} {describe_value('', v)}" for k, v in value.items()) or "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe_change(key: str, old, new) -> str:
    """One sentence: "Learning rate changed from 0.03 to 0.001"."""
    title = setting_title(key)
    return (f"{title[:1].upper()}{title[1:]} changed from {describe_value(key, old)} to "
            f"{describe_value(key, new)}")


def flatten(exp: Experiment) -> dict:
    """The experiment as {"train.optimizer": "adam", "model.layers": "Dense(8, relu) → ...", ...}."""
    d = exp.to_dict()
    flat = {}
    for section in PARTS:
        for key, value in d[section].items():
            flat[f"{section}.{key}"] = describe_layers(value) if key == "layers" else (
                json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value)
    return flat


def describe_layers(layers: list) -> str:
    """A short human form of a layer stack: "Dense(8, relu) → Dropout(0.5)"."""
    def one(layer: dict) -> str:
        args = [str(v) for k, v in layer.items() if k != "type" and not isinstance(v, (dict, list))
                and v is not None][:2]
        if "layer" in layer and isinstance(layer["layer"], dict):
            args = [one(layer["layer"])] + args
        return f"{layer.get('type', '?')}({', '.join(args)})"
    return " → ".join(one(layer) for layer in layers) or "(no hidden layers)"


def differing_settings(exps: list[Experiment]) -> list[str]:
    """The flattened setting names whose values are not the same in every experiment."""
    flats = [flatten(e) for e in exps]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    return [k for k in keys if len({json.dumps(f.get(k), sort_keys=True, default=str)
                                    for f in flats}) > 1]
