"""The datasets a student can choose, in the order pages list them, and the shapes of the
fixed ones (known without reading a file or importing a library).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..layers import shown
from .base import DataError, DatasetInfo


@dataclass(frozen=True)
class DatasetEntry:
    """One choosable dataset. `task` is "inferred" for a CSV file (it depends on the file)."""
    name: str
    title: str
    kind: str           # toy | table | image | sequence | text | csv
    task: str           # binary | multiclass | regression | inferred
    description: str    # one sentence a student understands
    needs_download: bool = False


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
                 "28x28 grey photos of handwritten digits; predict which digit each one shows.", True),
    DatasetEntry("fashion_mnist", "Fashion-MNIST", "image", "multiclass",
                 "28x28 grey pictures of 10 kinds of clothes and shoes; predict the kind.", True),
    DatasetEntry("cifar10", "CIFAR-10", "image", "multiclass",
                 "32x32 colour photos of planes, cars, birds, cats and six more; predict which.", True),
    DatasetEntry("imdb", "IMDB movie reviews", "text", "binary",
                 "Movie reviews written as lists of word numbers; predict whether a review is positive.",
                 True),
    DatasetEntry("boston_housing", "Boston housing", "table", "regression",
                 "13 facts about Boston neighbourhoods in the 1970s; predict the median house price "
                 "(in $1000s).", True),
    DatasetEntry("csv", "Your CSV file", "csv", "inferred",
                 "A table of your own: choose the column to predict and the other columns become inputs."),
)}


def list_datasets() -> list[DatasetEntry]:
    """Every dataset, toys first, in the order a page lists them."""
    return list(DATASETS.values())




def dataset_entry(name) -> DatasetEntry:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {shown(name)}; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


DIGIT_NAMES = tuple(str(d) for d in range(10))
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
)}
