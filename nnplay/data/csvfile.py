"""The user's own CSV table: read through the upload sandbox, checked line by line, target
chosen, text columns one-hot, task inferred.

CSV task inference (`infer_task`): a text target is a classification; a numeric target is a
classification when every value is a whole number and either it has exactly 2 distinct
values, or at most 20 distinct values with at least 5 rows per value on average; otherwise
it is a regression. Two classes make the task binary, more make it multiclass.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import uploads
from ..layers import cut, shown
from .base import DataError, Dataset, DatasetInfo
from .splits import assemble, shuffled_split


MISSING_MARKS = {"", "na", "n/a", "nan", "null", "none", "?"}
MAX_CATEGORIES = 100
MAX_CLASSES_FROM_NUMBERS = 20
MAX_CSV_MAGNITUDE = 1e30


def csv_path(spec) -> str:
    if not spec.path:
        raise DataError("no CSV file chosen: upload one on the Data page")
    return spec.path


def _csv_text(source) -> str:
    """The text of a path, bytes or file-like (an upload), BOM removed.

    A path is read through nnplay's sandbox (`uploads.read`): an upload reference, or a
    local file only where local paths are allowed, always with a size bound."""
    if isinstance(source, (str, os.PathLike)):
        try:
            source = uploads.read(os.fspath(source))
        except uploads.FileRefused as e:
            raise DataError(str(e)) from None
    elif hasattr(source, "getvalue"):
        source = source.getvalue()   # the whole upload, wherever its read position is
    elif hasattr(source, "read"):
        source = source.read()
    if isinstance(source, str):
        return source.lstrip("\ufeff")
    try:
        return bytes(source).decode("utf-8-sig")
    except UnicodeDecodeError:  # spreadsheets on Windows often save cp1252
        return bytes(source).decode("cp1252", errors="replace")


def _delimiter(header_line: str) -> str:
    """The most frequent of comma, semicolon and tab in the header (comma on a tie)."""
    return max((",", ";", "\t"), key=header_line.count)


def csv_delimiter(source) -> str:
    """The delimiter nnplay reads `source` (a path, bytes or file-like) with."""
    text = _csv_text(source).lstrip()
    return _delimiter(text.splitlines()[0] if text else "")
def _check_is_text(text: str) -> None:
    """Refuse a picture, a spreadsheet or any binary file before it is read as rows: NUL
    bytes, or many characters no text file holds (undecodable bytes, control codes)."""
    if text.startswith(("\xff\xfe", "\xfe\xff")):   # a UTF-16 byte-order mark, read as cp1252
        raise DataError("this CSV is saved as UTF-16 (\"Unicode text\"): save it as \"CSV UTF-8\"")
    sample = text[:65536]
    odd = sum(1 for ch in sample if ch == "\ufffd" or (ch < " " and ch not in "\t\r\n\f"))
    if "\x00" in sample or odd > max(2, len(sample) // 100):
        raise DataError("this is not a text CSV file (it holds binary data, like a picture or an "
                        ".xlsx workbook): export the table from your spreadsheet as CSV")


def _csv_rows(text: str, min_columns: int = 2) -> tuple:
    """(header, rows, line numbers) with every row as wide as the header; blank lines skipped."""
    if not text.strip():
        raise DataError("the CSV file is empty")
    _check_is_text(text)
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text.lstrip().splitlines()[0]))
    header, rows, lines = None, [], []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = _column_names(row)
            elif any("\n" in cell or "\r" in cell for cell in row):
                raise DataError(f"a quote (\") opened before line {reader.line_num} is never closed, so "
                                "several lines read as one cell: close the quote or remove it")
            elif len(row) != len(header):
                raise DataError(f"line {reader.line_num} has {len(row)} fields but the header "
                                f"has {len(header)}")
            else:
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as e:  # e.g. a quote never closed, a NUL byte
        raise DataError(f"line {reader.line_num} cannot be read as CSV ({e})") from None
    _check_csv_size(header, rows, min_columns)
    return header, rows, lines


def _check_csv_size(header: list | None, rows: list, min_columns: int) -> None:
    if header is None:
        raise DataError("the CSV file is empty")
    if len(header) < min_columns:
        raise DataError(f"the file has only one column ({shown(header[0])}); it needs input columns and "
                        "a column to predict, separated by commas")
    if not rows:
        raise DataError("the CSV file has a header line but no data rows")


def _column_names(header_row: list) -> list:
    names = [cell.strip() or f"column {i + 1}" for i, cell in enumerate(header_row)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(f"the header names column {shown(repeated[0])} more than once; "
                        "give every column its own name")
    return names


def _parse_column(name: str, cells: pd.Series, lines: pd.Index) -> pd.Series:
    """Numbers as float64, or the stripped text when the column is (mostly) text."""
    text = cells.str.strip()
    missing = text.str.lower().isin(MISSING_MARKS).to_numpy()
    if missing.any():
        raise DataError(f"line {lines[missing.argmax()]}, column {shown(name)} is empty "
                        f"({int(missing.sum())} empty cells in this column): fill them in or "
                        "delete those rows")
    numbers = pd.to_numeric(text, errors="coerce")
    not_numbers = numbers.isna().to_numpy()
    if not_numbers.mean() > 0.5:
        _check_decimal_commas(name, text)
        return text
    if not_numbers.any():
        bad = not_numbers.argmax()
        raise DataError(f"line {lines[bad]}, column {shown(name)}: {shown(text.iloc[bad])} is not a number "
                        "(the rest of the column is numeric): fix or delete that row")
    values = numbers.to_numpy()
    infinite = ~np.isfinite(values)
    if infinite.any():
        bad = infinite.argmax()
        raise DataError(f"line {lines[bad]}, column {shown(name)}: {shown(text.iloc[bad])} is not a "
                        "finite number")
    huge = np.abs(values) > MAX_CSV_MAGNITUDE
    if huge.any():   # float32 training overflows to inf; standardizing turns them to NaN
        bad = huge.argmax()
        raise DataError(f"line {lines[bad]}, column {shown(name)}: {shown(text.iloc[bad])} is too large "
                        f"to train on (beyond ±{MAX_CSV_MAGNITUDE:g}): rescale the column, e.g. "
                        "to thousands or millions")
    return numbers.astype(np.float64)


DECIMAL_COMMA = r"[-+]?\d+,\d+"


def _check_decimal_commas(name: str, text: pd.Series) -> None:
    """A column of "1,5"-style values is numbers from a locale with decimal commas; read as
    text it would silently become one-hot categories."""
    if text.str.fullmatch(DECIMAL_COMMA).mean() > 0.5:
        raise DataError(f"column {shown(name)} looks like numbers with decimal commas (1,5): save "
                        "the file with decimal points (1.5)")


def _column_list(columns) -> str:
    names = [cut(c) for c in columns[:10]]
    return ", ".join(names) + (f" and {len(columns) - 10} more" if len(columns) > 10 else "")


def _check_target(frame: pd.DataFrame, target: str) -> None:
    if target not in frame.columns:
        raise DataError(f"target column {shown(target)} is not in the file; its columns are: "
                        f"{_column_list(list(frame.columns))}")


def load_csv_frame(source, target: str | None = None, min_columns: int = 2) -> pd.DataFrame:
    """A checked CSV as a DataFrame indexed by file line number (the header is line 1).

    `source` is a path, bytes or a file-like (e.g. a Streamlit upload). Numeric columns come
    back as float64, text columns as stripped strings. Raises DataError naming the line or
    column for: an empty file, one column, rows wider or narrower than the header, empty or
    infinite cells, a stray word in a numeric column, and a `target` that is not a column.
    """
    header, rows, lines = _csv_rows(_csv_text(source), min_columns)
    raw = pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"), dtype=object)
    frame = pd.DataFrame({name: _parse_column(name, raw[name], raw.index) for name in header},
                         index=raw.index)
    if target is not None:
        _check_target(frame, target)
    return frame


def infer_task(target: pd.Series) -> str:
    """"binary", "multiclass" or "regression" for a target column (rule in the module docstring)."""
    if not pd.api.types.is_numeric_dtype(target):
        return "binary" if target.nunique() == 2 else "multiclass"
    values = target.to_numpy(np.float64)
    distinct = len(np.unique(values))
    whole = bool(np.all(values == np.round(values)))
    few_values = distinct == 2 or (distinct <= MAX_CLASSES_FROM_NUMBERS
                                   and len(values) >= 5 * distinct)
    if whole and few_values:
        return "binary" if distinct == 2 else "multiclass"
    return "regression"


@dataclass
class _CsvTable:
    """A CSV turned into numbers: features x, target y and what it took."""
    info: DatasetInfo
    x: np.ndarray
    y: np.ndarray
    notes: list


def prepare_csv(frame: pd.DataFrame, target: str | None) -> _CsvTable:
    target = frame.columns[-1] if target is None else target
    _check_target(frame, target)
    y_column = frame[target]
    _check_target_varies(target, y_column)
    task = infer_task(y_column)
    features, notes = _encode_features(frame.drop(columns=[target]))
    notes.insert(0, f"Predicting {shown(target)}: {_task_words(task)}, inferred from its values.")
    if task == "regression":
        y, class_names = y_column.to_numpy(np.float32), ()
    else:
        y, class_names = _encode_classes(target, y_column)
    info = DatasetInfo("csv", "csv", task, (features.shape[1],), len(class_names), class_names,
                       tuple(features.columns))
    return _CsvTable(info, features.to_numpy(np.float32), y, notes)


def _task_words(task: str) -> str:
    return {"binary": "a yes/no classification (2 classes)", "multiclass": "a classification",
            "regression": "a regression (a number)"}[task]


def _check_target_varies(name: str, column: pd.Series) -> None:
    if column.nunique() < 2:
        raise DataError(f"target column {shown(name)} has the same value ({shown(column.iloc[0])}) on every "
                        "row, so there is only one class and nothing to learn: choose another "
                        "target or add rows of other classes")


def _check_category_count(name: str, column: pd.Series) -> None:
    if column.nunique() > MAX_CATEGORIES:
        raise DataError(f"column {shown(name)} has {column.nunique()} different text values, too many "
                        f"to use as categories (at most {MAX_CATEGORIES}): it looks like names or "
                        "free text; delete the column")


def _encode_features(frame: pd.DataFrame) -> tuple:
    """Numeric columns as they are, text columns one-hot; (DataFrame of floats, notes)."""
    parts, notes = [], []
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column):
            parts.append(column.rename(name).to_frame())
            continue
        _check_category_count(name, column)
        categories = sorted(column.unique())
        parts.append(pd.DataFrame({f"{name}={c}": (column == c).astype(np.float64)
                                   for c in categories}, index=frame.index))
        listed = ", ".join(cut(c) for c in categories[:5]) + (", ..." if len(categories) > 5 else "")
        notes.append(f"{cut(name)} → {len(categories)} one-hot columns ({listed})")
    return pd.concat(parts, axis=1), notes


def _encode_classes(name: str, column: pd.Series) -> tuple:
    """(class indices int32, class names) with classes in sorted order."""
    if not pd.api.types.is_numeric_dtype(column):
        _check_category_count(name, column)
    classes, codes = np.unique(column.to_numpy(), return_inverse=True)
    names = tuple(f"{c:g}" if isinstance(c, float) else str(c) for c in classes)
    return codes.astype(np.int32), names


def load_csv(source, spec) -> Dataset:
    """A Dataset from a CSV `source` (path, bytes or file-like) with `spec`'s target and splits.

    `spec` needs target, validation_split, test_split, normalize and seed (a DataSpec works).
    """
    table = prepare_csv(load_csv_frame(source, spec.target), spec.target)
    stratify = table.info.task != "regression"
    parts, notes = shuffled_split(table.y, spec, "the CSV file", stratify=stratify)
    dataset, scaler = assemble(table.info, table.x, table.y, parts, spec, scaling="per_feature",
                               notes=table.notes + notes)
    if table.x.shape[1] == 2 and not any("=" in n for n in table.info.feature_names):
        # two numeric columns: points on a plane, with a decision grid as the toys have
        dataset.raw_train, dataset.raw_val = table.x[parts[0]], table.x[parts[1]]
        lo, hi = float(table.x.min()), float(table.x.max())
        dataset.grid_bounds = (lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        dataset._transform = scaler
    return dataset
