"""The 2-D sets of TensorFlow Playground (src/dataset.ts): same formulas and noise scale (spec
noise 0.5 is the Playground's slider at 50), labels -1/+1 mapped to classes 0/1.
"""
from __future__ import annotations

import numpy as np

from ..spec import TOY_FEATURES
from .base import DataError, Dataset, DatasetInfo
from .registry import DatasetEntry, dataset_entry
from .splits import assemble, shuffled_split


TOY_RADIUS = 6.0


def checked_features(features) -> tuple:
    unknown = [f for f in features if f not in TOY_FEATURES]
    if unknown or not features:
        raise DataError(f"input features must be some of {', '.join(TOY_FEATURES)}; "
                        f"got {', '.join(map(repr, unknown)) or 'none'}")
    return tuple(features)


def toy_info(entry: DatasetEntry, features: tuple) -> DatasetInfo:
    classes = dict(n_classes=2, class_names=("orange", "blue")) if entry.task == "binary" else {}
    return DatasetInfo(entry.name, "toy", entry.task, (len(features),),
                       feature_names=features, **classes)


TOY_FEATURE_FUNCTIONS = {
    "x1": lambda x1, x2: x1, "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1, "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1), "sin(x2)": lambda x1, x2: np.sin(x2),
}


def expand_features(points: np.ndarray, features) -> np.ndarray:
    """The chosen input features (Playground's INPUTS) of raw (n, 2) points, as (n, k) float32."""
    x1, x2 = points[:, 0].astype(np.float32), points[:, 1].astype(np.float32)
    return np.stack([TOY_FEATURE_FUNCTIONS[f](x1, x2) for f in features], axis=1)


def _uniform_noise(rng, n: int, half_width: float, noise: float) -> np.ndarray:
    """Playground's randUniform(-w, w) * noise for x and y of n points."""
    return rng.uniform(-half_width, half_width, (n, 2)) * noise


def _polar(r, angle) -> np.ndarray:
    return np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)


def _class_sizes(n: int) -> tuple:
    return n - n // 2, n // 2


def toy_circle(n: int, noise: float, rng) -> tuple:
    """Positives inside radius 2.5, negatives in the ring 3.5..5; labels from the noisy point."""
    radius = 5.0
    inner, outer = _class_sizes(n)
    r = np.concatenate([rng.uniform(0, radius * 0.5, inner), rng.uniform(radius * 0.7, radius, outer)])
    points = _polar(r, rng.uniform(0, 2 * np.pi, n))
    noisy = points + _uniform_noise(rng, n, radius, noise)
    return points, (np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5).astype(np.int32)


def toy_xor(n: int, noise: float, rng) -> tuple:
    """Uniform points kept 0.3 off the axes; positive where x1 and x2 share a sign."""
    points = rng.uniform(-5, 5, (n, 2))
    points += np.where(points > 0, 0.3, -0.3)
    noisy = points + _uniform_noise(rng, n, 5, noise)
    return points, (noisy[:, 0] * noisy[:, 1] >= 0).astype(np.int32)


def toy_gauss(n: int, noise: float, rng) -> tuple:
    """Two Gaussian clouds at (2, 2) and (-2, -2); variance 0.5 at no noise, 4 at noise 0.5."""
    std = np.sqrt(0.5 + noise * 7.0)
    pos, neg = _class_sizes(n)
    points = np.concatenate([rng.normal(2, std, (pos, 2)), rng.normal(-2, std, (neg, 2))])
    return points, np.repeat(np.int32([1, 0]), [pos, neg])


def toy_spiral(n: int, noise: float, rng) -> tuple:
    """Two spirals of 1.75 turns out to radius 5, the second rotated by pi."""
    arms = [_spiral_arm(count, delta, noise, rng) for count, delta in zip(_class_sizes(n), (0, np.pi))]
    return np.concatenate(arms), np.repeat(np.int32([1, 0]), _class_sizes(n))


def _spiral_arm(count: int, delta_t: float, noise: float, rng) -> np.ndarray:
    step = np.arange(count) / max(count, 1)
    points = _polar(step * 5, 1.75 * step * 2 * np.pi + delta_t)
    return points + rng.uniform(-1, 1, (count, 2)) * noise


def toy_moons(n: int, noise: float, rng) -> tuple:
    """scikit-learn's two moons, stretched from about [-1, 2] x [-0.5, 1] onto [-6, 6].

    Noise 0.5 adds Gaussian noise of standard deviation 1 after stretching, about as much
    overlap as the Playground's sets get at its 50%.
    """
    from sklearn.datasets import make_moons
    points, labels = make_moons(n, noise=noise * 0.5, random_state=int(rng.integers(2**31)))
    return (points - [0.5, 0.25]) * 4.0, labels.astype(np.int32)


def toy_plane(n: int, noise: float, rng) -> tuple:
    """Target (x1 + x2) / 10 of the noisy point: -1.2 .. 1.2."""
    points = rng.uniform(-TOY_RADIUS, TOY_RADIUS, (n, 2))
    noisy = points + _uniform_noise(rng, n, TOY_RADIUS, noise)
    return points, (noisy.sum(axis=1) / 10.0).astype(np.float32)


GAUSSIAN_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                           [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]])


def toy_reg_gauss(n: int, noise: float, rng) -> tuple:
    """Six bumps of height +-1 falling to 0 at distance 2; each point takes the strongest one."""
    points = rng.uniform(-TOY_RADIUS, TOY_RADIUS, (n, 2))
    noisy = points + _uniform_noise(rng, n, TOY_RADIUS, noise)
    distance = np.linalg.norm(noisy[:, None, :] - GAUSSIAN_BUMPS[None, :, :2], axis=2)
    heights = GAUSSIAN_BUMPS[:, 2] * np.clip(1 - distance / 2, 0, 1)
    strongest = np.abs(heights).argmax(axis=1)
    return points, heights[np.arange(n), strongest].astype(np.float32)


TOY_GENERATORS = {"circle": toy_circle, "xor": toy_xor, "gauss": toy_gauss, "spiral": toy_spiral,
                  "moons": toy_moons, "plane": toy_plane, "reg-gauss": toy_reg_gauss}


def toy_points(name: str, samples: int, noise: float, seed: int) -> tuple:
    """(points (n, 2) float32, labels) of a toy; the same seed gives the same points."""
    points, labels = TOY_GENERATORS[name](samples, noise, np.random.default_rng(seed))
    return points.astype(np.float32), labels


def load_toy(spec) -> Dataset:
    entry = dataset_entry(spec.dataset)
    features = checked_features(spec.features)
    info = toy_info(entry, features)
    points, labels = toy_points(entry.name, spec.samples, spec.noise, spec.seed)
    parts, notes = shuffled_split(labels, spec, entry.title, stratify=info.task != "regression")
    dataset, scaler = assemble(info, expand_features(points, features), labels, parts, spec,
                                scaling="per_feature", notes=notes)
    dataset.raw_train, dataset.raw_val = points[parts[0]], points[parts[1]]
    dataset.grid_bounds = (-TOY_RADIUS, TOY_RADIUS)
    dataset._transform = lambda raw: scaler(expand_features(raw, features))
    return dataset
