"""Looking inside a model: weight statistics, decision grids, confusion matrices, activations.

Plain data in, plain data out (numpy arrays and dicts), so the training thread can compute
them and a page can draw them without either knowing about the other.
"""
from __future__ import annotations

import copy

import numpy as np

HIST_BINS = 30


def _histogram(values: np.ndarray, bins: int = HIST_BINS) -> dict:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return {"counts": [], "edges": []}
    lo, hi = float(values.min()), float(values.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(values, bins=bins, range=(lo, hi))
    return {"counts": counts.tolist(), "edges": edges.tolist()}


def weight_stats(model, bins: int = HIST_BINS) -> list[dict]:
    """Per layer and per weight (kernel, bias, ...): shape, mean, std, min, max, histogram."""
    out = []
    for layer in model.layers:
        weights = []
        for w in layer.weights:
            if "seed_generator" in w.path:
                continue
            v = np.asarray(w.numpy(), dtype=np.float64).ravel()
            weights.append({"name": w.name, "path": w.path, "shape": list(w.shape),
                            "trainable": bool(w.trainable),
                            "mean": float(v.mean()) if v.size else 0.0,
                            "std": float(v.std()) if v.size else 0.0,
                            "min": float(v.min()) if v.size else 0.0,
                            "max": float(v.max()) if v.size else 0.0,
                            "histogram": _histogram(v, bins)})
        if weights:
            out.append({"layer": layer.name, "type": type(layer).__name__, "weights": weights})
    return out


def on_plane(dataset) -> bool:
    """The data are points on a plane (a toy, or a CSV of two numeric columns): it gets a
    decision grid, the network view and a scatter plot."""
    return dataset is not None and dataset.raw_train is not None and dataset._transform is not None


def grid_points(bounds: tuple[float, float], resolution: int = 100) -> np.ndarray:
    """(resolution**2, 2) raw points covering the square `bounds`, row-major from the bottom."""
    axis = np.linspace(bounds[0], bounds[1], resolution, dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def grid_values(outputs: np.ndarray, task: str, resolution: int = 100,
                logits: bool = False) -> np.ndarray:
    """The model's outputs on the grid as one number per point, shaped (res, res).

    Binary: probability of class 1; multiclass: the predicted class; regression: the value.
    `logits`: the last layer is linear on a classification task (turned into probabilities).
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    if task == "multiclass":
        values = outputs.argmax(axis=-1).astype(np.float32)
    elif outputs.ndim == 2 and outputs.shape[1] == 2:
        if logits:
            outputs = np.exp(outputs - outputs.max(axis=1, keepdims=True))
            outputs /= outputs.sum(axis=1, keepdims=True)
        values = outputs[:, 1]
    else:
        values = outputs.reshape(len(outputs), -1)[:, 0]
        if logits and task == "binary":
            values = 1 / (1 + np.exp(-values))
    return values.reshape(resolution, resolution)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[i, j] = samples of true class i predicted as class j."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return m


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    totals = matrix.sum(axis=1)
    return np.divide(np.diag(matrix), totals, out=np.zeros(len(matrix)), where=totals > 0)


def predicted_classes(outputs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class ids from model outputs: argmax over classes, or a threshold on one unit (0.5 on a
    sigmoid, 0 on a linear unit whose output is a logit)."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    return (outputs.reshape(-1) > threshold).astype(int)


# ---- weights over time ----------------------------------------------------------------------

def _find_weight(layers: list[dict], layer: str, weight: str) -> dict | None:
    """The weight_stats entry of `layer` whose path or name is `weight` (path wins: the two
    directions of a Bidirectional layer both have a 'kernel')."""
    for entry in layers:
        if entry["layer"] != layer:
            continue
        for w in entry["weights"]:
            if w["path"] == weight:
                return w
        return next((w for w in entry["weights"] if w["name"] == weight), None)
    return None


def _rebin(counts, edges, new_edges: np.ndarray) -> np.ndarray:
    """Spread a histogram's counts over `new_edges`, each bin's count in proportion to how much
    of it overlaps each new bin (the values are taken as even within a bin)."""
    counts, edges = np.asarray(counts, float), np.asarray(edges, float)
    if counts.size == 0:
        return np.zeros(len(new_edges) - 1)
    lo, hi = edges[:-1, None], edges[1:, None]
    overlap = np.minimum(hi, new_edges[None, 1:]) - np.maximum(lo, new_edges[None, :-1])
    share = np.clip(overlap, 0, None) / np.maximum(hi - lo, 1e-300)
    return counts @ share


def distribution_over_time(weight_history: list[dict], layer: str, weight: str,
                           bins: int = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How one weight's distribution moved during training, TensorBoard-style.

    `weight_history` is the snapshot's [{"epoch", "layers": weight_stats}]; `weight` is a
    weight's path or name ("kernel"). Every snapshot's histogram is spread over one common
    range, so rows can be compared. Returns (epochs (k,), edges (bins + 1,), counts (k, bins));
    when several snapshots share an epoch the last one is kept.

            epochs, edges, counts = distribution_over_time(snap.weight_history, "dense_1", "kernel")
    """
    found = {}
    for item in weight_history:
        w = _find_weight(item["layers"], layer, weight)
        if w is not None and w["histogram"]["edges"]:
            found[int(item["epoch"])] = w["histogram"]
    if not found:
        return np.zeros(0, int), np.linspace(-1.0, 1.0, bins + 1), np.zeros((0, bins))
    epochs = np.array(sorted(found))
    lo = min(found[e]["edges"][0] for e in epochs)
    hi = max(found[e]["edges"][-1] for e in epochs)
    edges = np.linspace(lo, hi, bins + 1)
    counts = np.stack([_rebin(found[e]["counts"], found[e]["edges"], edges) for e in epochs])
    return epochs, edges, counts


def weight_table(weight_stats_: list[dict]) -> list[dict]:
    """One row per weight, in the order layer.get_weights() lists them: layer, weight, shape,
    what the shape means (weight_meaning), params, trainable."""
    return [{"layer": entry["layer"], "weight": w["name"],
             "shape": str(tuple(w["shape"])),
             "meaning": weight_meaning(entry["type"], w["name"], w["shape"]),
             "params": int(np.prod(w["shape"])) if w["shape"] else 1,
             "trainable": w["trainable"]}
            for entry in weight_stats_ for w in entry["weights"]]


def weight_values(model, path: str) -> np.ndarray:
    """A copy of one weight's current values, by path ("nnplay/dense_1/kernel").

    Reading with .numpy() is safe while a training thread updates the model."""
    for w in model.weights:
        if w.path == path:
            return np.array(w.numpy())
    raise KeyError(f"the model has no weight {path!r}")


def first_to_last_kernel(names: list[str], norms: np.ndarray) -> tuple[float, str, str] | None:
    """How the first layer's kernel gradient compares with the last layer's at the latest
    epoch: (ratio, first name, last name), or None with fewer than two kernels or a zero last
    gradient. Orders of magnitude below 1: the gradients vanish on their way back."""
    kernels = [j for j, n in enumerate(names) if n.endswith("kernel")]
    if len(kernels) < 2 or not len(norms) or norms[-1, kernels[-1]] <= 0:
        return None
    first, last = kernels[0], kernels[-1]
    return float(norms[-1, first] / norms[-1, last]), names[first], names[last]


def gradient_table(grad_names: list[str], grad_norms: list[list[float]]) -> tuple[list[str], np.ndarray]:
    """(short names such as "dense_1/kernel", norms as an (epochs, variables) array)."""
    names = [n.split("/", 1)[1] if n.count("/") >= 2 else n for n in grad_names]
    norms = np.asarray(grad_norms, dtype=float).reshape(len(grad_norms), len(grad_names))
    return names, norms


# ---- activations ----------------------------------------------------------------------------

import threading  # noqa: E402  (kept with the one function that needs them)
import weakref  # noqa: E402

# model -> {layer names: keras.Model}: building an extractor costs more than running it
_EXTRACTORS = weakref.WeakKeyDictionary()
_EXTRACTORS_LOCK = threading.Lock()


def _extractor(model, layer_names: tuple):
    """A keras.Model from the model's inputs to the named layers' outputs (kept per model)."""
    import keras
    with _EXTRACTORS_LOCK:
        per_model = _EXTRACTORS.setdefault(model, {})
        if layer_names not in per_model:
            outputs = [model.get_layer(name).output for name in layer_names]
            inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
            per_model[layer_names] = keras.Model(inputs=inputs, outputs=outputs)
        return per_model[layer_names]


def layer_outputs(model, x: np.ndarray, layer_names: list[str],
                  batch_size: int = 1024) -> dict[str, np.ndarray]:
    """Each named layer's output for inputs `x`, computed with training=False (so dropout and
    augmentation layers at the front of the model pass inputs through unchanged).

            layer_outputs(model, x_val[:1], ["conv2d_1"])["conv2d_1"].shape    # (1, 6, 6, 4)
    """
    names = tuple(layer_names)
    if not names:
        return {}
    extractor = _extractor(model, names)
    parts = []
    for start in range(0, len(x), batch_size):
        out = extractor(x[start:start + batch_size], training=False)
        out = out if isinstance(out, (list, tuple)) else [out]
        parts.append([np.asarray(o) for o in out])
    if not parts:
        return {name: np.zeros((0,)) for name in names}
    return {name: np.concatenate([p[i] for p in parts]) for i, name in enumerate(names)}


def _activation_name(layer) -> str:
    return getattr(getattr(layer, "activation", None), "__name__", "linear")


def layers_of_type(model, *type_names: str) -> list:
    return [layer for layer in model.layers if type(layer).__name__ in type_names]


def dense_unit_images(model, max_units: int = 16) -> tuple[str, np.ndarray] | None:
    """The first Dense layer's incoming weights per unit, shaped as the input image.

    Only when that Dense layer reads flattened pixels (Flatten right after the input, with
    at most shape-keeping layers such as augmentation in between); returns
    (layer name, array (units, h, w, channels)) or None.
    """
    dense = layers_of_type(model, "Dense")
    if not dense:
        return None
    layer = dense[0]
    index = model.layers.index(layer)
    before = model.layers[:index]
    flatten = [l for l in before if type(l).__name__ == "Flatten"]
    image_shape = tuple(model.inputs[0].shape[1:])
    if not flatten or len(image_shape) != 3 or tuple(flatten[-1].input.shape[1:]) != image_shape:
        return None
    kernel = np.array(layer.kernel.numpy())        # (h*w*c, units)
    units = kernel.T[:max_units]
    return layer.name, units.reshape((len(units),) + image_shape)


def filter_stack(kernel: np.ndarray, max_filters: int = 32) -> np.ndarray:
    """A Conv2D kernel (kh, kw, in, filters) as one picture per filter: (filters, kh, kw, in)."""
    return np.transpose(kernel, (3, 0, 1, 2))[:max_filters]


def conv_filters(model, max_filters: int = 32) -> tuple[str, np.ndarray] | None:
    """The first Conv2D layer's kernels as (layer name, array (filters, kh, kw, in_channels))."""
    conv = layers_of_type(model, "Conv2D")
    if not conv:
        return None
    return conv[0].name, filter_stack(np.array(conv[0].kernel.numpy()), max_filters)


def feature_map_layers(model) -> list[str]:
    """Names of layers whose output is a stack of 2-D feature maps (batch, h, w, channels),
    augmentation layers left out."""
    skip = ("RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
            "GaussianNoise")
    return [layer.name for layer in model.layers
            if len(layer.output.shape) == 4 and type(layer).__name__ not in skip]


# ---- the network view (TensorFlow Playground) ------------------------------------------------

_PASS_THROUGH = ("Dropout", "GaussianNoise", "BatchNormalization", "Activation")


def network_view(model, dataset, resolution: int = 40, max_units: int = 8) -> dict | None:
    """What TensorFlow Playground draws: every neuron's output over the 2-D input square.

    Returns None unless the data is a 2-D toy and the model is a stack of Dense layers (with
    dropout, noise, batch norm or activations between them). Otherwise:
      {"bounds": (lo, hi), "resolution": r,
       "columns": [{"name", "activation", "labels": [...], "units": n,
                    "maps": array (min(n, max_units), r, r)}],   # inputs first, output last
       "weights": [array (shown units before, shown units after) per Dense layer]}
    A map's row 0 is the bottom of the square (as grid_points orders it).
    """
    if not on_plane(dataset):
        return None
    dense = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "Dense":
            dense.append(layer)
        elif kind not in _PASS_THROUGH:
            return None
    if not dense:
        return None
    points = grid_points(dataset.grid_bounds, resolution)
    inputs = dataset.features_for(points)
    outputs = layer_outputs(model, inputs, [layer.name for layer in dense])

    def column(name, activation, labels, values):
        shown = values[:, :max_units].T.reshape(-1, resolution, resolution)
        return {"name": name, "activation": activation, "labels": labels[:max_units],
                "units": values.shape[1], "maps": shown}

    features = dataset.info.column_names(inputs.shape[1])
    columns = [column("input", "", features, inputs)]
    weights = []
    for layer in dense:
        values = outputs[layer.name]
        kernel = np.array(layer.kernel.numpy())
        weights.append(kernel[:max_units, :max_units])
        labels = [f"{layer.name} #{i + 1}" for i in range(values.shape[1])]
        columns.append(column(layer.name, _activation_name(layer), labels, values))
    return {"bounds": tuple(dataset.grid_bounds), "resolution": resolution,
            "columns": columns, "weights": weights}


# ---- evaluation -----------------------------------------------------------------------------

EVAL_MAX = 5000     # examples a page predicts on (keeps a redraw light)


def evaluation_split(dataset, cap: int = EVAL_MAX) -> tuple[np.ndarray, np.ndarray, str]:
    """(x, y, name) of the validation split, or of the training split when there is none,
    cut to `cap` examples."""
    if len(dataset.x_val):
        return dataset.x_val[:cap], dataset.y_val[:cap], "validation"
    return dataset.x_train[:cap], dataset.y_train[:cap], "training"


def outputs_are_logits(model, task: str, train=None) -> bool:
    """Whether the model's outputs are logits, not probabilities: build's one rule
    (`build.is_logits`: the spec's `from_logits` when it says, else a linear last layer on a
    classification task), read from the model's last layer and the run's training spec."""
    from .build import is_logits, output_kind
    from .spec import TrainSpec
    return is_logits(train if train is not None else TrainSpec(), task, output_kind(model)[1])


def class_probabilities(outputs: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """(n, classes) probabilities from a softmax, one sigmoid unit, or logits of either."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        if from_logits:
            e = np.exp(outputs - outputs.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        return outputs
    p = outputs.reshape(-1)
    if from_logits:
        p = 1.0 / (1.0 + np.exp(-p))
    return np.stack([1.0 - p, p], axis=1)


def evaluate_classes(outputs: np.ndarray, y_true: np.ndarray, n_classes: int,
                     from_logits: bool = False) -> dict:
    """Predicted classes, their probability, the confusion matrix, per-class and overall
    accuracy, and the indices of the wrong predictions.

    `from_logits`: the last layer is linear (its outputs are logits, not probabilities)."""
    probs = class_probabilities(outputs, from_logits)
    predicted = probs.argmax(axis=1)
    y_true = np.asarray(y_true, dtype=int)
    matrix = confusion_matrix(y_true, predicted, max(n_classes, probs.shape[1]))
    total = matrix.sum()
    return {"predicted": predicted, "confidence": probs.max(axis=1), "matrix": matrix,
            "per_class": per_class_accuracy(matrix),
            "accuracy": float(np.trace(matrix) / total) if total else 0.0,
            "wrong": np.flatnonzero(predicted != y_true)}


def regression_values(outputs: np.ndarray, y_true: np.ndarray, offset: float = 0.0,
                      scale: float = 1.0) -> dict:
    """Predictions and targets in the data's own unit (undoing target normalization), the
    residuals and their mean absolute error and R²."""
    predicted = offset + np.asarray(outputs, float).reshape(len(y_true), -1)[:, 0] * scale
    actual = offset + np.asarray(y_true, float) * scale
    residual = predicted - actual
    spread = float(((actual - actual.mean()) ** 2).sum()) if len(actual) else 0.0
    return {"predicted": predicted, "actual": actual, "residual": residual,
            "mae": float(np.abs(residual).mean()) if len(actual) else 0.0,
            "r2": 1.0 - float((residual ** 2).sum()) / spread if spread > 0 else 0.0}


FORECAST_MAX = 20_000   # windows predicted for the over-time view (the latest ones)


def series_forecast(job) -> dict:
    """Actual against forecast over time for a series run, in the series' own unit: every
    window of every split (the latest FORECAST_MAX) predicted one step ahead by `job`'s model
    (a job or a saved run), with the time of each target and where validation and test begin.
    Keyword arguments of `plots.forecast_figure`."""
    from .data import series_axes   # pandas: kept off import
    ds = job.dataset
    x = np.concatenate([ds.x_train, ds.x_val, ds.x_test])[-FORECAST_MAX:]
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])[-FORECAST_MAX:]
    values = regression_values(job.predict(x), y, ds.target_offset, ds.target_scale)
    times, x_title, y_title = series_axes(job.exp.data)
    skipped = len(ds.y_train) + len(ds.y_val) + len(ds.y_test) - len(y)
    times = times[job.exp.data.window + skipped:][:len(y)]
    starts = [(len(ds.y_train) - skipped, "validation", len(ds.y_val)),
              (len(ds.y_train) + len(ds.y_val) - skipped, "test", len(ds.y_test))]
    splits = [(times[i], label) for i, label, n in starts if n and 0 <= i < len(times)]
    return {"times": times, "actual": values["actual"], "predicted": values["predicted"],
            "split_at": splits, "x_title": x_title, "y_title": y_title}


# ---- a saved run, looked at like a job -------------------------------------------------------

def weight_meaning(layer_type: str, name: str, shape) -> str:
    """What a weight array's shape means, in words a student can follow.

        >>> weight_meaning("Dense", "kernel", [2, 4])
        '2 inputs × 4 neurons'
    """
    shape = [int(s) for s in shape]
    if not shape:
        return "one number"
    if name == "kernel" and len(shape) == 2 and layer_type == "Dense":
        return f"{shape[0]} inputs × {shape[1]} neurons"
    if name == "kernel" and len(shape) == 4:
        return (f"{shape[3]} filters of {shape[0]}×{shape[1]} pixels × {shape[2]} input "
                f"channel{'s' if shape[2] != 1 else ''}")
    gates = {"LSTM": 4, "GRU": 3}.get(layer_type)
    if gates and name in ("kernel", "recurrent_kernel") and len(shape) == 2:
        source = "inputs" if name == "kernel" else "units fed back"
        return f"{shape[0]} {source} × ({gates} gates × {shape[1] // gates} units)"
    if gates and name == "bias":
        return f"{gates} gates × {shape[-1] // gates} units" + (" (two sets)" if len(shape) == 2 else "")
    if name == "bias" and len(shape) == 1:
        return f"one per {'filter' if layer_type.startswith('Conv') else 'neuron'} ({shape[0]})"
    if name == "embeddings" and len(shape) == 2:
        return f"{shape[0]} words × {shape[1]} numbers each"
    if len(shape) == 1:
        return f"{shape[0]} numbers, one per channel or unit"
    return " × ".join(str(s) for s in shape) + " numbers"


class ModelRunner:
    """What the Inspect page needs of a job's engine, for a model loaded from a file:
    `model`, `predict(x)` (batched, training=False) and `logits`."""

    def __init__(self, model, task: str, train=None):
        self.model = model
        self.logits = outputs_are_logits(model, task, train)

    def predict(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        parts = [np.asarray(self.model(x[i:i + batch_size], training=False))
                 for i in range(0, len(x), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0,))


class SavedRun:
    """A finished run from the store, with the same face as a TrainingJob for the Inspect
    page: `id`, `name`, `exp`, `dataset`, `model()`, `predict(x)`, `alive` (False) and
    `snapshot()`. Its history and gradient norms are the stored ones; its weights are the
    saved model's (a saved run keeps no weight history: `weight_history` holds the final
    weights only).

            saved = SavedRun(store.get_run(run_id), load_model(store.model_path(run_id)),
                             load(run.spec.data), store.history(run_id), store.grad_norms(run_id))
    """
    alive = False

    def __init__(self, run, model, dataset, history: dict, grad_norms: list):
        from .jobapi import Snapshot
        self.id, self.name, self.exp = run.id, run.name, run.spec
        self.dataset = dataset
        self.engine = ModelRunner(model, dataset.info.task,
                                  run.spec.train if run.spec is not None else None)
        history = {n: list(v) for n, v in history.items() if n != "epoch"}
        names = [v.path for v in model.trainable_variables]
        norms = [list(row) for row in grad_norms if row and len(row) == len(names)]
        grid = None
        if on_plane(dataset):
            points = grid_points(dataset.grid_bounds, 100)
            grid = grid_values(self.engine.predict(dataset.features_for(points)),
                               dataset.info.task, logits=self.engine.logits)
        stats = weight_stats(model)
        self._snap = Snapshot(
            run.id, status=run.status, message=run.message, epoch=run.epochs,
            epochs=run.spec.train.epochs, history=history, grad_names=names, grad_norms=norms,
            best_epoch=run.best_epoch, final=dict(run.final), grid=grid, grid_epoch=run.epochs,
            weights=stats, weight_history=[{"epoch": run.epochs, "layers": stats}],
            task=dataset.info.task)

    def snapshot(self):
        return copy.copy(self._snap)  # the run is shared (cached) between sessions

    def model(self):
        return self.engine.model

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.engine.predict(x)


def load_saved_run(store, run, dataset) -> SavedRun:
    """The stored run `run` with its .keras model (opened without compiling: Inspect only
    predicts), its data, history and gradient norms."""
    import keras
    model = keras.models.load_model(store.model_path(run.id), compile=False)
    return SavedRun(run, model, dataset, store.history(run.id), store.grad_norms(run.id))
