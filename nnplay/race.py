"""A race: one model, several variants that differ in one setting, trained side by side.

    >>> labels = [label for label, _ in variants(exp, "learning_rate", [0.001, 0.1])]
    >>> labels
    ['lr 0.001', 'lr 0.1']
    >>> jobs = start_race(exp, "optimizer")          # [(label, TrainingJob)], queued like any job

Every variant is a copy of the experiment with exactly one setting changed, so its seed (and
with it the initial weights and the order of the batches) is the same: differences between
the curves come from the setting, not from luck.

Dimensions and what they change:
- optimizer, learning_rate, batch_size: the `train` field of that name.
- dropout: the rate of every Dropout layer and the `dropout` of every recurrent layer; a model
  with no Dropout layer gets one after each hidden Dense/Conv layer when the rate is above 0.
- activation: the activation of every hidden layer that has one (the output keeps its own).
"""
from __future__ import annotations

from . import layers as L
from .job import MANAGER, JobManager, TrainingJob
from .spec import OPTIMIZERS, Experiment, Problem, SpecError, TrainSpec, check, validate

DIMENSIONS: dict[str, tuple] = {
    "optimizer": OPTIMIZERS,
    "learning_rate": (0.001, 0.01, 0.1, 1.0),
    "dropout": (0.0, 0.2, 0.5),
    "activation": ("relu", "tanh", "sigmoid", "linear"),
    "batch_size": (1, 10, 32, 128),
}
MAX_VARIANTS = 8           # one race must not fill the whole queue of a shared server
_DROPOUT_AFTER = ("Dense", "Conv1D", "Conv2D")


def _problem(dimension: str, message: str) -> SpecError:
    return SpecError([Problem(f"race.{dimension}", message)])


def label(dimension: str, value) -> str:
    """How a variant is named in legends and tables: "adam", "lr 0.01", "dropout 0.2"."""
    if dimension in ("optimizer", "activation"):
        return str(value)
    prefix = {"learning_rate": "lr", "dropout": "dropout", "batch_size": "batch"}[dimension]
    return f"{prefix} {value:g}"


def check_value(dimension: str, value) -> str | None:
    """Why `value` cannot be raced on `dimension`, or None when it can."""
    if dimension == "dropout":
        return L.check_param(L.CATALOGUE["Dropout"].param("rate"), value)
    if dimension == "activation":
        return L.check_param(L.CATALOGUE["Dense"].param("activation"), value)
    train = TrainSpec(**{dimension: value})
    problems = [p for p in validate(Experiment(train=train)) if p.where == f"train.{dimension}"]
    return problems[0].message if problems else None


def _hidden(exp: Experiment) -> range:
    """Indices of the hidden layers: all of them, except the last when it is the output."""
    n = len(exp.model.layers)
    return range(n - 1 if exp.model.output == "none" else n)


def _set_dropout(exp: Experiment, rate: float) -> int:
    """Set the rate of every dropout in place; return how many places were set or added."""
    layers, changed = exp.model.layers, 0
    for layer in layers:
        inner = layer.get("layer") if layer.get("type") == "Bidirectional" else layer
        if layer.get("type") == "Dropout":
            layer["rate"] = rate
            changed += 1
        elif isinstance(inner, dict) and inner.get("type") in L.RECURRENT:
            inner["dropout"] = rate
            changed += 1
    if any(layer.get("type") == "Dropout" for layer in layers):
        return changed
    after = [i for i in _hidden(exp) if layers[i].get("type") in _DROPOUT_AFTER]
    if rate > 0:
        for i in reversed(after):
            layers.insert(i + 1, {"type": "Dropout", "rate": rate})
    return changed + len(after)


def _set_activation(exp: Experiment, activation: str) -> int:
    """Set the activation of every hidden layer in place; return how many were set."""
    changed = 0
    for i in _hidden(exp):
        layer = exp.model.layers[i]
        target = layer.get("layer") if layer.get("type") == "Bidirectional" else layer
        kind = L.CATALOGUE.get(target.get("type")) if isinstance(target, dict) else None
        if kind is not None and any(p.name == "activation" for p in kind.params):
            target["activation"] = activation
            changed += 1
    return changed


def apply(exp: Experiment, dimension: str, value) -> Experiment:
    """A copy of `exp` with `dimension` set to `value`."""
    out = exp.copy()
    if dimension == "dropout":
        places = _set_dropout(out, value)
        where = "no Dropout, Dense, Conv or recurrent layer to put dropout in"
    elif dimension == "activation":
        places = _set_activation(out, value)
        where = "no hidden layer with an activation"
    else:
        setattr(out.train, dimension, value)
        places, where = 1, ""
    if not places:
        raise _problem(dimension, f"the model has {where}: add a hidden layer (e.g. Dense) first")
    return out


def variants(exp: Experiment, dimension: str, values=None) -> list[tuple[str, Experiment]]:
    """(label, experiment) per value: copies of `exp` that differ only in `dimension`.

    `values` defaults to `DIMENSIONS[dimension]`. Raises SpecError for an unknown dimension,
    a value that does not fit it, repeated values, or more than MAX_VARIANTS of them.
    """
    if dimension not in DIMENSIONS:
        raise SpecError([Problem("race", f"cannot race on {dimension!r}; choose one of "
                                 f"{', '.join(DIMENSIONS)}")])
    check(exp)
    values = list(DIMENSIONS[dimension] if values is None else values)
    if not 1 <= len(values) <= MAX_VARIANTS:
        raise _problem(dimension, f"race 1 to {MAX_VARIANTS} values at a time, got {len(values)}")
    for value in values:
        message = check_value(dimension, value)
        if message:
            raise _problem(dimension, f"value {value!r}: {message}")
    labels = [label(dimension, v) for v in values]
    repeated = sorted({lab for lab in labels if labels.count(lab) > 1})
    if repeated:
        raise _problem(dimension, f"{', '.join(repeated)} appears more than once; race each value once")
    return [(lab, apply(exp, dimension, v)) for lab, v in zip(labels, values)]


def start_race(exp: Experiment, dimension: str, values=None, manager: JobManager = MANAGER,
               owner: str | None = None) -> list[tuple[str, TrainingJob]]:
    """Submit every variant to `manager`, so they queue like any job; the dataset is loaded
    once and shared. Every variant is checked against the data before the first is
    submitted, so a bad race starts nothing."""
    from .data import load  # pandas and scikit-learn: kept off import
    racers = variants(exp, dimension, values)
    dataset = load(exp.data)  # no dimension touches the data, so one load serves all
    for _, variant in racers:
        check(variant, dataset.info)
    return [(lab, manager.submit(variant, dataset=dataset, owner=owner)) for lab, variant in racers]
