"""The datasets a student can choose, in the order pages list them, and the shapes of the
fixed ones (known without reading a file or importing a library).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..layers import shown
from ..limits import current
from ..spec import DataSpec
from .base import DataError, DatasetInfo


@dataclass(frozen=True)
class DatasetEntry:
    """One choosable dataset. `task` is "inferred" for a CSV file (it depends on the file)."""
    name: str
    title: str
    kind: str           # toy | table | image | sequence | text | csv
    task: str           # binary | multiclass | regression | inferred
    description: str    # one sentence a student understands
    needs_download: bool = False   # a Keras set: read from Keras's cache (or its stand-in)
    train_size: int = 0            # training examples of a big set: `samples` caps them


DATASETS: dict[str, DatasetEntry] = {e.name: e for e in (
    DatasetEntry("circle", "Circle", "toy", "binary",
                 "Blue points inside a circle, orange points in a ring around it."),
    DatasetEntry("xor", "Exclusive or", "toy", "binary",
                 "Points are blue where x1 and x2 have the same sign and orange where they differ."),
    DatasetEntry("gauss", "Two Gaussians", "toy", "binary",
                 "Two round clouds of points, one per class; more noise makes them overlap."),
    DatasetEntry("spiral", "Spiral", "toy", "binary",
                 "Two spirals wound into each other, the hardest toy: try extra features or more layers."),
    DatasetEntry("moons", "Two moons", "toy", "binary",
                 "Two interlocking half circles, one per class."),
    DatasetEntry("plane", "Plane", "toy", "regression",
                 "A value that rises evenly from one corner to the other: predict a number, not a class."),
    DatasetEntry("reg-gauss", "Multi-Gaussian", "toy", "regression",
                 "Six hills and valleys side by side: predict the height at each point."),
    DatasetEntry("iris", "Iris flowers", "table", "multiclass",
                 "Four measurements of a flower's petals and sepals; predict which of three irises it is."),
    DatasetEntry("wine", "Wine", "table", "multiclass",
                 "13 chemical measurements of a wine; predict which of three growers made it."),
    DatasetEntry("breast_cancer", "Breast cancer", "table", "binary",
                 "30 measurements of cells in a biopsy; predict whether the tumour is malignant or benign."),
    DatasetEntry("diabetes", "Diabetes", "table", "regression",
                 "Age, BMI, blood pressure and blood tests of a patient; predict how much their "
                 "diabetes progressed a year later."),
    DatasetEntry("auto_mpg", "Auto MPG", "table", "regression",
                 "Cylinders, engine size, horsepower, weight, year and origin of 392 cars from the "
                 "1970s and 80s; predict how many miles each goes on a gallon of fuel."),
    DatasetEntry("digits", "Digits 8x8", "image", "multiclass",
                 "1,797 tiny 8x8 pictures of handwritten digits; predict which digit each one shows."),
    DatasetEntry("sine", "Noisy sine waves", "sequence", "regression",
                 "A wavy signal made of two sine waves plus noise; predict the next value from the last few."),
    DatasetEntry("sunspots", "Sunspots (yearly)", "sequence", "regression",
                 "How many sunspots were seen each year from 1700 to 2008; predict next year's number."),
    DatasetEntry("co2", "CO2 at Mauna Loa (weekly)", "sequence", "regression",
                 "Carbon dioxide in the air measured every week in Hawaii from 1958 to 2001; "
                 "predict next week's value."),
    DatasetEntry("mnist", "MNIST digits", "image", "multiclass",
                 "28x28 grey photos of handwritten digits; predict which digit each one shows.",
                 True, 60_000),
    DatasetEntry("fashion_mnist", "Fashion-MNIST", "image", "multiclass",
                 "28x28 grey pictures of 10 kinds of clothes and shoes; predict the kind.", True, 60_000),
    DatasetEntry("cifar10", "CIFAR-10", "image", "multiclass",
                 "32x32 colour photos of planes, cars, birds, cats and six more; predict which.", True,
                 50_000),
    DatasetEntry("imdb", "IMDB movie reviews", "text", "binary",
                 "Movie reviews written as lists of word numbers; predict whether a review is positive.",
                 True, 25_000),
    DatasetEntry("boston_housing", "Boston housing", "table", "regression",
                 "13 facts about Boston neighbourhoods in the 1970s; predict the median house price "
                 "(in $1000s).", True),
    DatasetEntry("csv", "Your CSV file", "csv", "inferred",
                 "A table of your own: choose the column to predict and the other columns become inputs."),
    DatasetEntry("csv_series", "Your CSV series", "csv", "regression",
                 "A series of your own, like a stock's daily closing prices: one column read in "
                 "row order, the next value predicted from the last few."),
)}


def list_datasets() -> list[DatasetEntry]:
    """Every dataset, toys first, in the order a page lists them."""
    return list(DATASETS.values())




def dataset_entry(name) -> DatasetEntry:
    if name is None:   # a model-only spec (spec.Experiment.from_dict)
        raise DataError("this spec describes a model only (it names no data): choose a dataset "
                        "on the Data page, or add a data section to the spec")
    if name not in DATASETS:
        raise DataError(f"unknown dataset {shown(name)}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


DIGIT_NAMES = tuple(str(d) for d in range(10))
AUTO_MPG_COLUMNS = ("Cylinders", "Displacement", "Horsepower", "Weight", "Acceleration",
                    "Model Year", "Europe", "Japan", "USA")
BOSTON_COLUMNS = ("CRIM", "ZN", "INDUS", "CHAS", "NOX", "RM", "AGE", "DIS", "RAD", "TAX",
                  "PTRATIO", "B", "LSTAT")

# Shapes known without loading, so describe() never reads a file or imports a library.
KNOWN_INFO = {info.name: info for info in (
    DatasetInfo("iris", "table", "multiclass", (4,), 3, ("setosa", "versicolor", "virginica")),
    DatasetInfo("wine", "table", "multiclass", (13,), 3, ("class_0", "class_1", "class_2")),
    DatasetInfo("breast_cancer", "table", "binary", (30,), 2, ("malignant", "benign")),
    DatasetInfo("diabetes", "table", "regression", (10,)),
    DatasetInfo("digits", "image", "multiclass", (8, 8, 1), 10, DIGIT_NAMES),
    DatasetInfo("mnist", "image", "multiclass", (28, 28, 1), 10, DIGIT_NAMES),
    DatasetInfo("fashion_mnist", "image", "multiclass", (28, 28, 1), 10,
                ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                 "Sneaker", "Bag", "Ankle boot")),
    DatasetInfo("cifar10", "image", "multiclass", (32, 32, 3), 10,
                ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                 "ship", "truck")),
    DatasetInfo("boston_housing", "table", "regression", (13,), feature_names=BOSTON_COLUMNS),
    DatasetInfo("auto_mpg", "table", "regression", (9,), feature_names=AUTO_MPG_COLUMNS),
)}


def default_samples(name: str, samples: int) -> int:
    """What `samples` is when a spec leaves it out: every training example a big set has
    (within the limit in force: hosted servers cap it), else `samples` (the spec default)."""
    return min(DATASETS[name].train_size, current().max_samples) if _is_big(name) else samples


def choose_dataset(spec, name: str) -> None:
    """Switch `spec` (a DataSpec) to dataset `name`. A big set takes all its examples
    (`default_samples`); leaving one goes back to the spec's default, so a toy never draws
    60,000 points."""
    old, spec.dataset = spec.dataset, name
    if name == old:
        return
    if _is_big(name):
        spec.samples = default_samples(name, spec.samples)
    elif _is_big(old):
        spec.samples = DataSpec().samples


def _is_big(name) -> bool:
    return isinstance(name, str) and name in DATASETS and DATASETS[name].train_size > 0


def is_series(name) -> bool:
    """Loaded as a series (windows in time order): the shipped ones and the user's CSV series,
    which the Data page lists with the user's CSV table."""
    return name == "csv_series" or (name in DATASETS and DATASETS[name].kind == "sequence")


def data_for_shape(shape, text: bool = False) -> str:
    """Which data gives examples of `shape` (a model-only spec's input_shape), in words:
    "data.dataset "imdb" with maxlen 200"."""
    shape = tuple(shape)
    if text and len(shape) == 1:
        return f'data.dataset "imdb" with maxlen {shape[0] or 200}'
    if len(shape) == 2 and shape[1] == 1:
        return (f'a series: data.dataset "sunspots", "co2", "sine" or "csv_series", with '
                f"window {shape[0] or 20}")
    fixed = [name for name, info in KNOWN_INFO.items() if info.input_shape == shape]
    if fixed:
        return "data.dataset " + " or ".join(f'"{name}"' for name in fixed)
    if len(shape) == 1 and shape[0]:
        return f'data.dataset "csv" with {shape[0]} input columns (a path and a target)'
    return f"a dataset whose examples have shape {list(shape)}"


def model_only_error(exp) -> DataError:
    """What `train` says for a model-only spec: it needs data, and which."""
    first = exp.model.layers[0] if exp.model.layers else {}
    text = isinstance(first, dict) and first.get("type") == "Embedding"
    return DataError(f"this spec describes a model only (input_shape {list(exp.model.input_shape)}, "
                     "no data section), so there is nothing to train on: add a data section "
                     f"whose examples have that shape, e.g. {data_for_shape(exp.model.input_shape, text)}")
