"""Looking inside a model: weight statistics, decision grids, confusion matrices, activations.

Plain data in, plain data out (numpy arrays and dicts), so the training thread can compute
them and a page can draw them without either knowing about the other.
"""
from __future__ import annotations

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


def grid_points(bounds: tuple[float, float], resolution: int = 100) -> np.ndarray:
    """(resolution**2, 2) raw points covering the square `bounds`, row-major from the bottom."""
    axis = np.linspace(bounds[0], bounds[1], resolution, dtype=np.float32)
    xx, yy = np.meshgrid(axis, axis)
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def grid_values(outputs: np.ndarray, task: str, resolution: int = 100) -> np.ndarray:
    """The model's outputs on the grid as one number per point, shaped (res, res).

    Binary: probability of class 1; multiclass: the predicted class; regression: the value.
    """
    outputs = np.asarray(outputs)
    if task == "multiclass":
        values = outputs.argmax(axis=-1).astype(np.float32)
    elif outputs.ndim == 2 and outputs.shape[1] == 2:
        values = outputs[:, 1]
    else:
        values = outputs.reshape(len(outputs), -1)[:, 0]
    return values.reshape(resolution, resolution)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[i, j] = samples of true class i predicted as class j."""
    m = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(m, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return m


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    totals = matrix.sum(axis=1)
    return np.divide(np.diag(matrix), totals, out=np.zeros(len(matrix)), where=totals > 0)


def predicted_classes(outputs: np.ndarray) -> np.ndarray:
    """Class ids from model outputs: argmax over classes, or a 0.5 threshold on one sigmoid."""
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        return outputs.argmax(axis=1)
    return (outputs.reshape(-1) > 0.5).astype(int)
