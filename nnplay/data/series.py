"""Series (sine, sunspots, co2, and the user's CSV series: one column in row order): predict
the next value from the last `window`; split in time order, never shuffled.
"""
from __future__ import annotations

import functools
import os

import numpy as np
import pandas as pd

from ..layers import cut, shown
from .base import DataError, Dataset, DatasetInfo
from .csvfile import csv_path, load_csv_frame
from .registry import dataset_entry
from .splits import NORMALIZE_NOTES, assemble, chronological_split, fit_scaler


# the shipped files stay in nnplay/datasets, beside this package
DATA_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "datasets")


def sine_series(steps: int, noise: float, seed: int) -> np.ndarray:
    """Two sine waves (periods 40 and 11 steps) plus Gaussian noise of std `noise`."""
    t = np.arange(steps)
    clean = np.sin(2 * np.pi * t / 40) + 0.5 * np.sin(2 * np.pi * t / 11 + 1.0)
    return clean + noise * np.random.default_rng(seed).normal(size=steps)


SUNSPOTS_CSV, CO2_CSV = "sunspots_yearly.csv", "co2_mauna_loa_weekly.csv"


@functools.lru_cache(maxsize=None)
def _shipped_csv(name: str) -> pd.DataFrame:
    """A series shipped in nnplay/datasets, read once per process (the Data page asks on
    every rerun). Callers take copies of its columns, never change it."""
    return pd.read_csv(os.path.join(DATA_DIR, name))


def sunspots_series() -> np.ndarray:
    """Yearly mean sunspot number, 1700-2008."""
    return _shipped_csv(SUNSPOTS_CSV)["SUNACTIVITY"].to_numpy(float, copy=True)


def co2_series() -> tuple:
    """Weekly CO2 at Mauna Loa in ppm, empty weeks filled by linear interpolation; (values, n filled)."""
    co2 = _shipped_csv(CO2_CSV)["co2"]
    return co2.interpolate(limit_direction="both").to_numpy(float), int(co2.isna().sum())


def series_axes(spec) -> tuple:
    """(time of every value, x-axis title, value title) of the series `spec.dataset`: years
    for sunspots, dates (datetime64) for co2, step numbers for the synthetic sine."""
    if spec.dataset == "sunspots":
        return _shipped_csv(SUNSPOTS_CSV)["YEAR"].to_numpy(int, copy=True), "year", "sunspot number"
    if spec.dataset == "co2":
        dates = _shipped_csv(CO2_CSV)["date"]
        return (pd.to_datetime(dates.astype(str), format="%Y%m%d").to_numpy("datetime64[D]"),
                "date", "CO₂ (parts per million)")
    if spec.dataset == "csv_series":
        _, target, times, time_title = csv_series_column(spec)
        return times, time_title, cut(target)
    return np.arange(spec.samples), "step", "value"


def csv_series_column(spec) -> tuple:
    """(values in row order, column name, time of each row, time title) of a CSV series:
    its target column (the last by default), which must hold a number on every row."""
    frame = load_csv_frame(csv_path(spec), spec.target, min_columns=1)   # a series may be one column
    target = frame.columns[-1] if spec.target is None else spec.target
    if not pd.api.types.is_numeric_dtype(frame[target]):
        raise DataError(f"column {shown(target)} holds text, but a series needs a number on "
                        "every row: choose a column of numbers to predict")
    return (frame[target].to_numpy(float), target) + _row_times(frame, target)


def _row_times(frame: pd.DataFrame, target: str) -> tuple:
    """The dates of a first column that holds ISO dates (a stock's Date), else line numbers."""
    first = frame.columns[0]
    if first != target and not pd.api.types.is_numeric_dtype(frame[first]):
        dates = pd.to_datetime(frame[first], errors="coerce", format="ISO8601")
        if not dates.isna().any():
            return dates.to_numpy("datetime64[ns]"), cut(first)
    return frame.index.to_numpy(int), "line"


def _series_values(spec) -> tuple:
    """(values, notes) of the series `spec.dataset`."""
    if spec.dataset == "sine":
        return sine_series(spec.samples, spec.noise, spec.seed), [
            f"{spec.samples} steps of two sine waves plus noise {spec.noise:g}."]
    if spec.dataset == "co2":
        values, filled = co2_series()
        return values, [f"{filled} empty weeks were filled in by linear interpolation."]
    if spec.dataset == "csv_series":
        values, target, _, _ = csv_series_column(spec)
        return values, [f"The series is column {shown(target)} in row order ({len(values):,} "
                        "values); the other columns are not used."]
    return sunspots_series(), []


def series_info(spec) -> DatasetInfo:
    return DatasetInfo(spec.dataset, "sequence", "regression", (spec.window, 1))


def windows(values: np.ndarray, window: int) -> tuple:
    """Inputs (n, window, 1): each run of `window` values; targets (n,): the value after it."""
    x = np.lib.stride_tricks.sliding_window_view(values[:-1], window)
    return x[..., None].astype(np.float32), values[window:].astype(np.float32)


def load_series(spec) -> Dataset:
    entry = dataset_entry(spec.dataset)
    values, notes = _series_values(spec)
    if len(values) - spec.window < 10:
        more = " or raise samples" if spec.dataset == "sine" else ""
        raise DataError(f"{entry.title} has {len(values)} values, too few for windows of "
                        f"{spec.window}: lower window{more}")
    parts = chronological_split(len(values) - spec.window, spec, entry.title)
    # statistics of the values the training windows see (inputs and targets), nothing later
    scaler = fit_scaler(values[:len(parts[0]) + spec.window], spec.normalize, None)
    x, y = windows(scaler(values), spec.window)
    notes = notes + [
        f"Each example is {spec.window} values in a row; the target is the value after them.",
        "Split in time order, not shuffled: training is the earliest part, validation the part "
        "after it and test the last part, so the model is judged on a future it has not seen."]
    dataset = assemble(series_info(spec), x, y, parts, spec, scaling="off", notes=notes)[0]
    dataset.target_offset, dataset.target_scale = float(scaler.offset), float(scaler.scale)
    if spec.normalize != "none":
        dataset.notes.append(f"Values {NORMALIZE_NOTES[spec.normalize]} with statistics of the "
                             "training part only.")
    return dataset
