"""A race: one model, several variants that differ in one setting, trained side by side.

    >>> exp = Experiment()
    >>> [label for label, _ in variants(exp, "learning_rate", [0.001, 0.1])]
    ['lr 0.001', 'lr 0.1']
    >>> [label for label, _ in variants(exp, "optimizer", ["sgd", "adam"], own_rates=True)]
    ['sgd · lr 0.1', 'adam · lr 0.01']

`start_race(exp, "optimizer")` queues every variant like any job: [(label, Job)].

Every variant is a copy of the experiment with exactly one setting changed, so its seed (and
with it the initial weights and the order of the batches) is the same: differences between
the curves come from the setting, not from luck.

Dimensions and what they change:
- optimizer, learning_rate, batch_size: the `train` field of that name.
- dropout: the rate of every Dropout layer and the `dropout` of every recurrent layer; a model
  with no Dropout layer gets one after each hidden Dense/Conv layer when the rate is above 0.
- activation: the activation of every hidden layer that has one (the output keeps its own).

One learning rate does not suit every optimizer (SGD needs steps ten to a hundred times
larger than Adam's), so an optimizer race can give each optimizer its own usual rate
(`own_rates=True`, `OPTIMIZER_RATES`); then the learning rate changes too, and says so in
the label.
"""
from __future__ import annotations

from . import layers as L
from .compare import metric_title
from .jobapi import Job, Manager, manager as default_manager
from .spec import (OPTIMIZERS, Experiment, Problem, SpecError, TrainSpec, check, describe_value,
                   validate)

DIMENSIONS: dict[str, tuple] = {
    "optimizer": OPTIMIZERS,
    "learning_rate": (0.001, 0.01, 0.1, 1.0),
    "dropout": (0.0, 0.2, 0.5),
    "activation": ("relu", "tanh", "sigmoid", "linear"),
    "batch_size": (1, 10, 32, 128),
}
# Each optimizer's own starting rate for a fair race on the playground's data. Measured
# headless (TrainingJob, the Playground's 4-2 tanh network on circle and xor, 8-8 tanh on
# spiral, batch 10, 100 epochs): each is the fastest of the rates tried that never bounced
# or diverged. Keras's defaults (0.001 for most) crawl on networks this small; Ftrl sits on
# a plateau for 25+ epochs below 1.
OPTIMIZER_RATES = {"sgd": 0.1, "rmsprop": 0.01, "adam": 0.01, "adadelta": 1.0,
                   "adagrad": 0.1, "adamax": 0.01, "nadam": 0.01, "ftrl": 1.0}
MAX_VARIANTS = 8           # one race must not fill the whole queue of a shared server
_DROPOUT_AFTER = ("Dense", "Conv1D", "Conv2D")


def _problem(dimension: str, message: str) -> SpecError:
    return SpecError([Problem(f"race.{dimension}", message)])


def label(dimension: str, value, own_rate: bool = False) -> str:
    """How a variant is named in legends and tables: "adam", "lr 0.01", "dropout 0.2";
    with `own_rate`, an optimizer with its rate: "adam · lr 0.01"."""
    if dimension == "optimizer" and own_rate:
        return f"{value} · lr {OPTIMIZER_RATES[value]:g}"
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


def apply(exp: Experiment, dimension: str, value, own_rate: bool = False) -> Experiment:
    """A copy of `exp` with `dimension` set to `value` (and, for an optimizer with
    `own_rate`, the learning rate set to `OPTIMIZER_RATES[value]`)."""
    out = exp.copy()
    if dimension == "optimizer" and own_rate:
        out.train.learning_rate = OPTIMIZER_RATES[value]
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


def variants(exp: Experiment, dimension: str, values=None,
             own_rates: bool = False) -> list[tuple[str, Experiment]]:
    """(label, experiment) per value: copies of `exp` that differ only in `dimension` (and in
    the learning rate, for an optimizer race with `own_rates`).

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
    own_rates = own_rates and dimension == "optimizer"
    labels = [label(dimension, v, own_rates) for v in values]
    repeated = sorted({lab for lab in labels if labels.count(lab) > 1})
    if repeated:
        raise _problem(dimension, f"{', '.join(repeated)} appears more than once; race each value once")
    return [(lab, apply(exp, dimension, v, own_rates)) for lab, v in zip(labels, values)]


def checked_variants(exp: Experiment, dimension: str, values=None, own_rates: bool = False,
                     info=None) -> list[tuple[str, Experiment]]:
    """`variants`, each checked against the data's `info` too: a race that cannot run all
    of its variants raises SpecError before the first starts."""
    racers = variants(exp, dimension, values, own_rates)
    for _, variant in racers:
        check(variant, info)
    return racers


def start_race(exp: Experiment, dimension: str, values=None, manager: Manager | None = None,
               owner: str | None = None, own_rates: bool = False,
               workspace: str = "") -> list[tuple[str, Job]]:
    """Submit every variant to `manager`, so they queue like any job; the dataset is loaded
    once and shared. (The app starts a race's variants through its session instead, so
    that each run is kept and the race survives a reload.)"""
    from .data import load  # pandas and scikit-learn: kept off import
    dataset = load(exp.data)  # no dimension touches the data, so one load serves all
    racers = checked_variants(exp, dimension, values, own_rates, dataset.info)
    manager = manager or default_manager()
    return [(lab, manager.submit(variant, dataset=dataset, owner=owner, workspace=workspace))
            for lab, variant in racers]


WAITING = "—"


def table_rows(racers: list) -> list[dict]:
    """The race table: one row per (label, experiment, Snapshot), every cell text. A variant
    that has not started (queued or building) shows its queue place and "—" for numbers."""
    rows = []
    for lab, exp, snap in racers:
        started = snap.status not in ("queued", "building")
        status = snap.status.replace("_", " ")
        if snap.status == "queued" and snap.queue_position:
            status = f"waiting (place {snap.queue_position} in the queue)"
        elif snap.status == "queued":
            status = "waiting"
        row = {"variant": lab, "optimizer": describe_value("train.optimizer", exp.train.optimizer),
               "learning rate": f"{exp.train.learning_rate:g}", "status": status,
               "epoch": f"{snap.epoch} of {exp.train.epochs}" if started else WAITING}
        for name in ("val_loss", "val_accuracy", "val_mae"):
            if any(name in s.history for _, _, s in racers):
                values = snap.history.get(name)
                row[metric_title(name)] = f"{values[-1]:.4g}" if values else WAITING
        rows.append(row)
    return rows
