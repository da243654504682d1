"""Classroom lessons as data: a few guided experiments, each with a promise that is checked.

A lesson is a handful of variants of one experiment (or a race on one setting), a short
text that says what to do and what to look for, the pages to look at, and a one-sentence
claim. `run_lesson` trains the variants headless and `check_claim` says whether the claim
held on those results, with the numbers:

    results = run_lesson(get("overfitting"), scale=0.5)       # {label: Snapshot}
    check_claim("overfitting", results)
    # (True, 'validation-training loss gap without regularization 2.79 > with dropout 0.37, and > with L2 1.54')

In the app one click sets `lesson.experiment()` (the first variant) as the experiment, or
starts the race `lesson.race` on it. Every variant keeps the same seed, so the curves differ
only by what the lesson changes. The claims were checked on several seeds (see
tests/test_lessons.py); `run_lesson(..., seed=s)` reruns a lesson with another one.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import race
from .spec import TOY_FEATURES, Experiment

PAGES = ("data", "model", "train", "inspect", "compare")
ALL_FEATURES = list(TOY_FEATURES)
TAIL = 0.1  # "final" values are the mean of the last 10% of epochs: one epoch is noisy


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    text: str                        # 3-4 sentences: what to do, what to look for
    pages: tuple                     # which pages to look at, from PAGES
    variants: list                   # [(label, Experiment)], the first is the starting point
    claim: str                       # one sentence, checked by check_claim(id, results)
    race: tuple | None = None        # (dimension, values) when the variants are a race

    def labels(self) -> list[str]:
        return [label for label, _ in self.variants]

    def experiment(self, label: str | None = None) -> Experiment:
        """A copy of the variant `label` (default: the first), to set as the experiment."""
        for name, exp in self.variants:
            if label is None or name == label:
                return exp.copy()
        raise KeyError(f"lesson {self.id!r} has no variant {label!r}; it has {', '.join(self.labels())}")


# ---- building variants --------------------------------------------------------------------

def _spec(data: dict, layers: list, train: dict) -> Experiment:
    return Experiment.from_dict({"data": data, "model": {"layers": layers}, "train": train})


def _changed(exp: Experiment, **sections: dict) -> Experiment:
    """A copy of `exp` with some fields of its data, model or train section replaced."""
    d = exp.to_dict()
    for name, values in sections.items():
        d[name].update(values)
    return Experiment.from_dict(d)


def _dense(units: int, activation: str, count: int = 1) -> list:
    return [{"type": "Dense", "units": units, "activation": activation} for _ in range(count)]


def _race_lesson(base: Experiment, dimension: str, values: list, lesson_id: str, title: str,
                 text: str, pages: tuple, claim: str) -> Lesson:
    """A lesson whose variants are a race on one dimension of `base`."""
    return Lesson(lesson_id, title, text, pages, race.variants(base, dimension, values), claim,
                  race=(dimension, values))


def _overfitting() -> Lesson:
    base = _spec({"dataset": "spiral", "samples": 150, "noise": 0.2, "validation_split": 0.5},
                 _dense(64, "relu", 3),
                 {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 10, "epochs": 200})
    return Lesson(
        "overfitting", "Overfitting, dropout and L2",
        "Train a large network (three layers of 64 neurons) on only 75 noisy spiral points, then "
        "the same network with dropout and with an L2 weight penalty. Without regularization the "
        "training loss falls towards zero while the validation loss turns and climbs: the network "
        "memorizes the noise. Lay the three runs over each other on the Compare page and look at "
        "the space between the solid (training) and dashed (validation) curves.",
        ("data", "train", "compare"),
        [("no regularization", base),
         ("dropout 0.3", race.apply(base, "dropout", 0.3)),
         ("L2 0.001", _changed(base, train={"regularization": {"l2": 0.001}}))],
        "The final gap between validation and training loss is larger without regularization "
        "than with dropout, and larger than with L2.")


def _augmentation() -> Lesson:
    base = _spec({"dataset": "digits", "validation_split": 0.8},
                 [{"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same",
                   "activation": "relu"},
                  {"type": "MaxPooling2D"}, {"type": "Flatten"}] + _dense(32, "relu"),
                 {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 20})
    augmented = _changed(base, train={"augmentation": {"rotation": 0.05, "zoom": 0.1,
                                                       "translation": 0.1}})
    return Lesson(
        "augmentation", "Data augmentation",
        "Train a small CNN on 360 handwritten digits (the other 80% are kept for validation), "
        "then again with augmentation: every batch is randomly rotated, zoomed and shifted a "
        "little, so the network never sees exactly the same image twice (the Train page shows "
        "some). Without it the training loss falls far below the validation loss; with it the "
        "training loss stays above, because the moved digits are harder than the plain ones it "
        "is tested on. On images this small the validation accuracy changes little: "
        "augmentation pays off most on larger images and badly overfitting models.",
        ("data", "model", "train", "compare"),
        [("no augmentation", base), ("augmentation", augmented)],
        "Augmentation narrows the gap between validation and training loss.")


def _depth() -> Lesson:
    base = _spec({"dataset": "digits", "validation_split": 0.5},
                 [{"type": "Flatten"}] + _dense(16, "relu"),
                 {"optimizer": "adam", "learning_rate": 0.003, "batch_size": 32, "epochs": 20})
    deep = _changed(base, model={"layers": [{"type": "Flatten"}] + _dense(16, "relu", 3)})
    return Lesson(
        "depth", "Shallow versus deep",
        "Train a network with one hidden layer of 16 neurons on the 8x8 digits, then one with "
        "three such layers, and lay both over each other on the Compare page. The deeper "
        "network drives its training loss lower, but its validation loss does not follow: the "
        "gap between the two curves is about twice as wide. On 900 small images the extra "
        "layers mostly add room to memorize; depth pays off on larger, richer images.",
        ("model", "train", "compare"),
        [("1 hidden layer", base), ("3 hidden layers", deep)],
        "The three-layer network ends with a wider gap between validation and training loss "
        "than the one-layer network.")


def _vanishing_gradients() -> Lesson:
    base = _spec({"dataset": "circle", "samples": 300, "noise": 0.1},
                 _dense(8, "sigmoid", 6),
                 {"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 10, "epochs": 50})
    return Lesson(
        "vanishing-gradients", "Activations and vanishing gradients",
        "Train a deep network (six layers of 8 sigmoid neurons) on the circle, then the same "
        "network with ReLU. On the Inspect page, compare the gradient norms of the first "
        "layer's kernel and the output layer's kernel. With sigmoid the gradient shrinks at "
        "every layer on its way back (a sigmoid's slope is at most 0.25), so the first layers "
        "hardly learn and the loss stays flat; ReLU passes it back undiminished.",
        ("model", "train", "inspect"),
        [("sigmoid", base), ("relu", race.apply(base, "activation", "relu"))],
        "With sigmoid the first layer's kernel gradient, relative to the output layer's, is at "
        "least 10 times smaller than with ReLU.")


def _optimizers() -> Lesson:
    base = _spec({"dataset": "xor", "samples": 300, "noise": 0.1},
                 _dense(8, "tanh", 2),
                 {"optimizer": "sgd", "learning_rate": 0.01, "batch_size": 10, "epochs": 50})
    return _race_lesson(
        base, "optimizer", list(race.DIMENSIONS["optimizer"]),
        "optimizers", "The optimizer race",
        "Race all eight optimizers on the same network, data, seed and learning rate (0.01) and "
        "watch the loss curves side by side. Rmsprop, adam, adamax and nadam race ahead; plain "
        "SGD and adagrad crawl, and adadelta and ftrl barely leave the start. The same number "
        "means a different step to each: the first four divide each weight's step by the size "
        "of its recent gradients, so even small gradients give full steps, while adagrad's "
        "steps shrink over time and adadelta's are tiny at this rate. Race the slow ones again "
        "with a learning rate ten times larger.",
        ("train", "compare"),
        "At the same learning rate, rmsprop, adam, adamax and nadam all end with a lower "
        "validation loss than sgd, adagrad, adadelta and ftrl.")


def _learning_rate() -> Lesson:
    base = _spec({"dataset": "circle", "samples": 500, "noise": 0.1},
                 _dense(8, "relu", 2),
                 {"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 10, "epochs": 100})
    return _race_lesson(
        base, "learning_rate", [0.001, 0.1, 10.0],
        "learning-rate", "Learning rate: too small, right, too large",
        "Race plain SGD with a learning rate that is too small (0.001), about right (0.1) and "
        "too large (10), each a hundred times the one before. Too small and the loss creeps "
        "down so slowly that nothing seems to happen; too large and every step overshoots, so "
        "the loss jumps about and stays high (or becomes NaN). Only the middle one finds the "
        "circle: watch the decision boundary of each.",
        ("train", "compare"),
        "The middle learning rate ends with a lower validation loss than both the too small "
        "and the too large one.")


def _features() -> Lesson:
    base = _spec({"dataset": "spiral", "samples": 400, "noise": 0.1},
                 _dense(8, "tanh"),
                 {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 10, "epochs": 200})
    return Lesson(
        "features", "Feature engineering on the spiral",
        "Give a small network (one layer of 8 tanh neurons) the spiral with only x1 and x2 as "
        "inputs, then with TensorFlow Playground's extra features x1^2, x2^2, x1*x2, sin(x1) "
        "and sin(x2). From x1 and x2 alone the boundary stays a few smooth curves that cut "
        "through the arms; with the extra features the same small network winds along the "
        "spiral. Watch the decision boundary on the Train page.",
        ("data", "train", "compare"),
        [("x1, x2", base), ("all seven features", _changed(base, data={"features": ALL_FEATURES}))],
        "With the extra features the validation accuracy is at least 10 points higher than "
        "with x1 and x2 alone.")


def _recurrent() -> Lesson:
    def with_layer(kind: str) -> Experiment:
        return _spec({"dataset": "sunspots", "window": 20, "validation_split": 0.3},
                     [{"type": kind, "units": 16}],
                     {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 16, "epochs": 50})
    return Lesson(
        "recurrent", "Recurrent layers: SimpleRNN, LSTM, GRU",
        "Predict next year's sunspot number from the last 20 years with one recurrent layer of "
        "16 units: first a SimpleRNN, then an LSTM, then a GRU. Compare the validation curves "
        "and the lowest validation loss each reaches: the gated layers (LSTM, GRU) decide what to "
        "keep and what to forget, and predict the 11-year cycle better. All three overfit "
        "after a while on only ~200 years of training data; note the best epoch.",
        ("data", "model", "train", "compare"),
        [(kind, with_layer(kind)) for kind in ("SimpleRNN", "LSTM", "GRU")],
        "Both LSTM and GRU reach a lower best validation loss than SimpleRNN.")


def _batch_normalization() -> Lesson:
    base = _spec({"dataset": "circle", "samples": 400, "noise": 0.1},
                 _dense(16, "sigmoid", 6),
                 {"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 16, "epochs": 40})
    normalized = [layer for dense in base.model.layers
                  for layer in (dense, {"type": "BatchNormalization", "momentum": 0.9})]
    return Lesson(
        "batch-normalization", "Batch normalization",
        "Train a deep network (six `Dense` layers of 16 sigmoid neurons, plain SGD) on the "
        "circle, then the same network with a `BatchNormalization(momentum=0.9)` layer after "
        "each hidden `Dense`. Without it the loss sits at 0.69 and no boundary appears: the "
        "gradient fades on its way back through the sigmoids. With it each layer's outputs are "
        "re-centred and re-scaled batch by batch, the gradient reaches the first layers, and "
        "the circle appears within a few dozen epochs. The Model page shows the four numbers "
        "per neuron it adds, two it learns and two running averages used for validation "
        "(momentum 0.9 lets them keep up on a run this short; Keras's default is 0.99).",
        ("model", "train", "compare"),
        [("no BatchNormalization", base),
         ("BatchNormalization", _changed(base, model={"layers": normalized}))],
        "With BatchNormalization the final validation accuracy is at least 25 points higher "
        "than without it.")


def _early_stopping() -> Lesson:
    base = _spec({"dataset": "xor", "samples": 100, "noise": 0.5},
                 _dense(64, "relu", 3),
                 {"optimizer": "adam", "learning_rate": 0.001, "batch_size": 10, "epochs": 200})
    stopping = {"monitor": "val_loss", "patience": 10, "restore_best_weights": True}
    return Lesson(
        "early-stopping", "Early stopping",
        "Train a large network (three layers of 64 ReLU neurons, Adam at Keras's rate 0.001) "
        "on 50 very noisy xor points for 200 epochs: within a few dozen epochs the validation "
        "loss turns and climbs while the training loss keeps falling. Then train it with "
        "`EarlyStopping(monitor=\"val_loss\", patience=10, restore_best_weights=True)` (Early "
        "stopping on the Train page): training stops once the validation loss has not improved "
        "for 10 epochs, and the weights of the best epoch are put back. The Train page says "
        "where it stopped and which epoch it kept; on Compare see where that run ends on the "
        "climbing curve.",
        ("train", "compare"),
        [("all 200 epochs", base),
         ("EarlyStopping", _changed(base, train={"early_stopping": stopping}))],
        "Early stopping ends training in at most two thirds of the epochs, and the model it "
        "keeps has a lower validation loss than the one trained to the end.")


def _lr_schedule() -> Lesson:
    base = _spec({"dataset": "spiral", "samples": 400, "noise": 0.1},
                 _dense(16, "relu", 2),
                 {"optimizer": "adam", "learning_rate": 0.05, "batch_size": 10, "epochs": 100})
    decay = {"type": "ExponentialDecay", "decay_steps": 500, "decay_rate": 0.5}
    return Lesson(
        "lr-schedule", "Learning-rate schedules",
        "Train two layers of 16 ReLU neurons on the spiral with Adam at a constant learning "
        "rate of 0.05, then with `ExponentialDecay(0.05, decay_steps=500, decay_rate=0.5)` "
        "(Learning-rate schedule on the Train page): the rate halves every 500 batches, 25 "
        "epochs here, so it starts fast and ends with small, careful steps. With the constant "
        "rate every step stays as big as the first, so the loss keeps jumping about and never "
        "settles into the bottom of the valley; with the schedule it settles, lower. On the "
        "Compare page look at the last epochs of both curves: one still zigzags, the other "
        "runs flat below it.",
        ("train", "compare"),
        [("constant", base), ("ExponentialDecay", _changed(base, train={"lr_schedule": decay}))],
        "With ExponentialDecay the final validation loss is lower, and over the last tenth of "
        "the epochs it jumps at least three times less from one epoch to the next, than with "
        "the constant rate.")


def _initializers() -> Lesson:
    base = _spec({"dataset": "circle", "samples": 400, "noise": 0.1},
                 _dense(16, "relu", 8),
                 {"optimizer": "sgd", "learning_rate": 0.05, "batch_size": 10, "epochs": 40})

    def starting_with(initializer: str) -> Experiment:
        layers = [{**layer, "kernel_initializer": initializer} for layer in base.model.layers]
        return _changed(base, model={"layers": layers})
    return Lesson(
        "initializers", "Weight initialization",
        "Train a deep network (eight `Dense` layers of 16 ReLU neurons, plain SGD) on the "
        "circle four times, changing only `kernel_initializer`: `\"zeros\"`, `\"random_normal\"` "
        "(tiny weights, standard deviation 0.05), `\"glorot_uniform\"` (Keras's default) and "
        "`\"he_normal\"` (made for ReLU). With zeros every neuron of a layer computes the same "
        "thing and gets the same update (here none at all), so the loss stays flat at 0.69; "
        "with tiny weights the signal shrinks at every layer and never reaches the output. "
        "Glorot and He scale the weights to each layer's size so the signal keeps its "
        "strength: compare the curves, and each run's weights on the Inspect page.",
        ("model", "train", "inspect", "compare"),
        [(name, starting_with(name)) for name in ("zeros", "random_normal", "glorot_uniform",
                                                  "he_normal")],
        "With zeros and with random_normal the validation accuracy stays below 60% (chance is "
        "50%), while glorot_uniform and he_normal both reach at least 90%.")


LESSONS: list[Lesson] = [_overfitting(), _augmentation(), _depth(), _vanishing_gradients(),
                         _optimizers(), _learning_rate(), _features(), _recurrent(),
                         _batch_normalization(), _early_stopping(), _lr_schedule(), _initializers()]


def get(lesson_id: str) -> Lesson:
    for lesson in LESSONS:
        if lesson.id == lesson_id:
            return lesson
    raise KeyError(f"no lesson {lesson_id!r}; choose one of {', '.join(l.id for l in LESSONS)}")


# ---- running ------------------------------------------------------------------------------

def scaled(exp: Experiment, scale: float = 1.0, seed: int | None = None) -> Experiment:
    """A copy with epochs (and, for generated data, samples) times `scale`, and `seed` as both
    the data's and the training seed when given."""
    from .data import DATASETS
    out = exp.copy()
    out.train.epochs = max(1, round(exp.train.epochs * scale))
    entry = DATASETS.get(exp.data.dataset)
    # samples sizes generated sets and caps downloaded ones; fixed tables and series ignore it
    if entry is not None and (entry.kind == "toy" or entry.name == "sine" or entry.needs_download):
        out.data.samples = max(20, round(exp.data.samples * scale))
    if seed is not None:
        out.data.seed = out.train.seed = seed
    return out


def run_lesson(lesson: Lesson, scale: float = 1.0, seed: int | None = None) -> dict:
    """Train every variant headless, one after another; {label: final Snapshot}.

    `scale` shrinks epochs and generated samples (tests use less than 1); variants with the
    same data share one loaded dataset.
    """
    from .data import load
    from .job import TrainingJob
    datasets, results = {}, {}
    for label, exp in lesson.variants:
        exp = scaled(exp, scale, seed)
        key = json.dumps(exp.to_dict()["data"], sort_keys=True)
        if key not in datasets:
            datasets[key] = load(exp.data)
        results[label] = TrainingJob(exp, dataset=datasets[key]).start().wait()
    return results


# ---- checking the claims -----------------------------------------------------------------

# A run whose loss became NaN ends "failed"; only here is that part of the lesson.
MAY_DIVERGE = ("learning-rate",)


def _diverged(snap) -> bool:
    return snap.status == "failed" and "NaN" in snap.message


def _final(snap, metric: str) -> float:
    """Mean of the last 10% of epochs of `metric`; inf for a run that diverged (NaN)."""
    if _diverged(snap):
        return math.inf
    values = snap.history[metric]
    k = max(1, round(len(values) * TAIL))
    return float(np.mean(values[-k:]))


def _gap(snap) -> float:
    return _final(snap, "val_loss") - _final(snap, "loss")


def _grad_ratio(snap) -> float:
    """Mean gradient norm of the first layer's kernel over the output layer's kernel."""
    norms = np.asarray(snap.grad_norms, dtype=float)
    kernels = [i for i, n in enumerate(snap.grad_names) if n.endswith("/kernel")]
    first, last = kernels[0], kernels[-1]
    return float(norms[:, first].mean() / norms[:, last].mean())


def _fmt(value: float) -> str:
    return "diverged" if math.isinf(value) else f"{value:.3g}"


def _check_overfitting(r: dict) -> tuple:
    plain, dropout, l2 = (_gap(r[k]) for k in get("overfitting").labels())
    ok = plain > dropout and plain > l2
    return ok, (f"validation-training loss gap without regularization {plain:.2f} "
                f"{'>' if plain > dropout else '<='} with dropout {dropout:.2f}, and "
                f"{'>' if plain > l2 else '<='} with L2 {l2:.2f}")


def _check_augmentation(r: dict) -> tuple:
    plain, augmented = (_gap(r[k]) for k in get("augmentation").labels())
    return plain > augmented, (f"validation-training loss gap without augmentation {plain:.2f} "
                               f"{'>' if plain > augmented else '<='} with it {augmented:.2f}")


def _check_depth(r: dict) -> tuple:
    shallow, deep = (r[k] for k in get("depth").labels())
    gaps = _gap(shallow), _gap(deep)
    return gaps[1] > gaps[0], (
        f"validation-training loss gap with 3 hidden layers {gaps[1]:.3f} "
        f"{'>' if gaps[1] > gaps[0] else '<='} with 1 {gaps[0]:.3f} (training loss "
        f"{_final(deep, 'loss'):.3f} vs {_final(shallow, 'loss'):.3f})")


def _check_vanishing_gradients(r: dict) -> tuple:
    sigmoid, relu = (_grad_ratio(r[k]) for k in get("vanishing-gradients").labels())
    ok = sigmoid * 10 <= relu
    return ok, (f"first-layer/output kernel gradient norm: sigmoid {sigmoid:.2g}, relu {relu:.2g} "
                f"({relu / sigmoid:.3g} times larger)" if sigmoid > 0 else
                f"first-layer/output kernel gradient norm: sigmoid 0, relu {relu:.2g}")


FAST_OPTIMIZERS = ("rmsprop", "adam", "adamax", "nadam")


def _check_optimizers(r: dict) -> tuple:
    losses = {k: _final(r[k], "val_loss") for k in get("optimizers").labels()}
    fast = {k: v for k, v in losses.items() if k in FAST_OPTIMIZERS}
    slow = {k: v for k, v in losses.items() if k not in FAST_OPTIMIZERS}
    worst_fast, best_slow = max(fast, key=fast.get), min(slow, key=slow.get)
    ok = fast[worst_fast] < slow[best_slow]
    return ok, (f"slowest of the adaptive four, {worst_fast}, validation loss "
                f"{_fmt(fast[worst_fast])} {'<' if ok else '>='} fastest of the rest, "
                f"{best_slow}, {_fmt(slow[best_slow])}")


def _check_learning_rate(r: dict) -> tuple:
    small, right, large = ((k, _final(r[k], "val_loss")) for k in get("learning-rate").labels())
    ok = right[1] < small[1] and right[1] < large[1]
    return ok, (f"validation loss {right[0]}: {_fmt(right[1])}, {small[0]}: {_fmt(small[1])}, "
                f"{large[0]}: {_fmt(large[1])}")


def _check_features(r: dict) -> tuple:
    plain, extra = (_final(r[k], "val_accuracy") for k in get("features").labels())
    ok = extra >= plain + 0.10
    return ok, (f"validation accuracy with the extra features {extra:.2f} vs with x1, x2 alone "
                f"{plain:.2f} ({100 * (extra - plain):+.0f} points)")


def _check_recurrent(r: dict) -> tuple:
    best = {k: min(r[k].history["val_loss"]) for k in get("recurrent").labels()}
    ok = best["LSTM"] < best["SimpleRNN"] and best["GRU"] < best["SimpleRNN"]
    return ok, ("lowest validation loss " + ", ".join(f"{k} {v:.3f}" for k, v in best.items()))


def _jitter(snap, metric: str = "val_loss") -> float:
    """Mean absolute change of `metric` from one epoch to the next over the last 10% of epochs."""
    values = snap.history[metric]
    k = max(1, round(len(values) * TAIL))
    return float(np.mean(np.abs(np.diff(values[-(k + 1):]))))


def _check_batch_normalization(r: dict) -> tuple:
    plain, normalized = (_final(r[k], "val_accuracy") for k in get("batch-normalization").labels())
    ok = normalized >= plain + 0.25
    return ok, (f"validation accuracy with BatchNormalization {normalized:.2f} vs without "
                f"{plain:.2f} ({100 * (normalized - plain):+.0f} points)")


def _check_early_stopping(r: dict) -> tuple:
    full, stopped = (r[k] for k in get("early-stopping").labels())
    trained, planned = len(stopped.history["val_loss"]), len(full.history["val_loss"])
    kept, end = stopped.final.get("val_loss", math.inf), _final(full, "val_loss")
    short = stopped.status == "early_stopping" and trained * 3 <= planned * 2
    return short and kept < end, (
        f"stopped after {trained} of {planned} epochs (best epoch {stopped.best_epoch}); "
        f"validation loss of the model kept {kept:.3f} {'<' if kept < end else '>='} "
        f"{end:.3f} at the end of all epochs")


def _check_lr_schedule(r: dict) -> tuple:
    constant, decayed = (r[k] for k in get("lr-schedule").labels())
    loss = _final(constant, "val_loss"), _final(decayed, "val_loss")
    jitter = _jitter(constant), _jitter(decayed)
    ok = loss[1] < loss[0] and jitter[1] * 3 <= jitter[0]
    return ok, (f"final validation loss: constant rate {loss[0]:.3f}, ExponentialDecay "
                f"{loss[1]:.3f}; its mean change per epoch at the end: {jitter[0]:.3g} and "
                f"{jitter[1]:.3g}")


def _check_initializers(r: dict) -> tuple:
    accuracy = {k: _final(r[k], "val_accuracy") for k in get("initializers").labels()}
    stuck = all(accuracy[k] < 0.6 for k in ("zeros", "random_normal"))
    learned = all(accuracy[k] >= 0.9 for k in ("glorot_uniform", "he_normal"))
    return stuck and learned, ("validation accuracy " + ", ".join(f"{k} {v:.2f}"
                                                                 for k, v in accuracy.items()))


CHECKS: dict[str, Callable[[dict], tuple]] = {
    "overfitting": _check_overfitting, "augmentation": _check_augmentation,
    "depth": _check_depth, "vanishing-gradients": _check_vanishing_gradients,
    "optimizers": _check_optimizers, "learning-rate": _check_learning_rate,
    "features": _check_features, "recurrent": _check_recurrent,
    "batch-normalization": _check_batch_normalization, "early-stopping": _check_early_stopping,
    "lr-schedule": _check_lr_schedule, "initializers": _check_initializers,
}


def check_claim(lesson_id: str, results: dict) -> tuple[bool, str]:
    """Whether lesson `lesson_id`'s claim holds on `results` ({label: Snapshot}), and a
    sentence with the numbers that decided it."""
    lesson = get(lesson_id)
    missing = [k for k in lesson.labels() if k not in results]
    if missing:
        return False, f"no results for {', '.join(missing)}: run every variant of the lesson"
    for label in lesson.labels():
        snap = results[label]
        if lesson_id in MAY_DIVERGE and _diverged(snap):
            continue
        if snap.status not in ("completed", "early_stopping") or not snap.history.get("val_loss"):
            return False, f"{label} did not finish ({snap.status}: {snap.message or 'no epochs'})"
    return CHECKS[lesson_id](results)
