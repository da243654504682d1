"""Datasets: registry, loaders, splits, normalization, CSV checks and the Keras cache."""
import gzip
import io
import os
import pickle
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest

from nnplay import data
from nnplay.data import DataError
from nnplay.spec import TOY_FEATURES, DataSpec

TOYS = ["circle", "xor", "gauss", "spiral", "moons", "plane", "reg-gauss"]
TABLES = ["iris", "wine", "breast_cancer", "diabetes", "auto_mpg", "digits"]
SERIES = ["sine", "sunspots", "co2"]
KERAS = ["mnist", "fashion_mnist", "cifar10", "imdb", "boston_housing"]
OFFLINE = TOYS + TABLES + SERIES
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ---- registry and describe ---------------------------------------------------------------

def test_registry_lists_every_dataset_with_a_kind_and_a_sentence():
    assert [e.name for e in data.list_datasets()] == OFFLINE + KERAS + ["csv", "csv_series"]
    for entry in data.list_datasets():
        assert entry.kind in ("toy", "table", "image", "sequence", "text", "csv")
        assert entry.description.endswith(".")
        assert entry.needs_download == (entry.name in KERAS)


def test_datasets_table_rows_say_what_works_offline():
    rows = {row["name"]: row for row in data.datasets_table()}
    assert set(rows["circle"]) == {"name", "kind", "task", "title", "offline", "needs_download",
                                   "note"}
    assert all(rows[name]["offline"] for name in OFFLINE + ["csv"])


def test_unknown_dataset_lists_the_valid_names():
    with pytest.raises(DataError, match="unknown dataset 'circles'.*circle, xor"):
        data.describe(DataSpec(dataset="circles"))


def test_describe_imports_neither_tensorflow_nor_sklearn():
    code = ("import sys; from nnplay import data; from nnplay.spec import DataSpec\n"
            "for e in data.list_datasets():\n"
            "    e.kind != 'csv' and data.describe(DataSpec(dataset=e.name))\n"
            "assert 'tensorflow' not in sys.modules and 'sklearn' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("name", OFFLINE)
def test_offline_datasets_load_with_the_shapes_describe_promised(name):
    spec = DataSpec(dataset=name, test_split=0.1)
    info, ds = data.describe(spec), data.load(spec)
    assert replace(ds.info, feature_names=()) == replace(info, feature_names=())
    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)):
        assert len(x) == len(y) > 0
        assert x.shape[1:] == info.input_shape and x.dtype == np.float32
        assert np.isfinite(x).all()
        if info.task == "regression":
            assert y.dtype == np.float32 and y.shape == (len(x),)
        else:
            assert y.dtype == np.int32 and set(np.unique(y)) <= set(range(info.n_classes))


@pytest.mark.parametrize("name, task, shape, n_classes", [
    ("iris", "multiclass", (4,), 3), ("wine", "multiclass", (13,), 3),
    ("breast_cancer", "binary", (30,), 2), ("diabetes", "regression", (10,), 0),
    ("digits", "multiclass", (8, 8, 1), 10), ("sunspots", "regression", (20, 1), 0),
    ("circle", "binary", (2,), 2), ("reg-gauss", "regression", (2,), 0)])
def test_tasks_and_shapes(name, task, shape, n_classes):
    info = data.describe(DataSpec(dataset=name))
    assert (info.task, info.input_shape, info.n_classes) == (task, shape, n_classes)


def test_tables_take_class_and_feature_names_from_sklearn():
    info = data.load(DataSpec(dataset="iris")).info
    assert info.class_names == ("setosa", "versicolor", "virginica")
    assert info.feature_names[0] == "sepal length (cm)"


def test_digits_are_8x8_images_in_0_1_before_normalization():
    ds = data.load(DataSpec(dataset="digits", normalize="none"))
    assert ds.x_train.min() == 0 and ds.x_train.max() == 1.0


# ---- toys --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TOYS)
def test_toys_repeat_exactly_with_a_seed_and_change_with_another(name):
    first = data.load(DataSpec(dataset=name, seed=3))
    again = data.load(DataSpec(dataset=name, seed=3))
    other = data.load(DataSpec(dataset=name, seed=4))
    assert np.array_equal(first.x_train, again.x_train) and np.array_equal(first.y_val, again.y_val)
    assert not np.array_equal(first.raw_train, other.raw_train)


@pytest.mark.parametrize("name", TOYS)
def test_toys_give_samples_points_in_the_playground_square(name):
    points, labels = data.toy_points(name, 301, 0.0, 0)
    assert points.shape == (301, 2) and len(labels) == 301
    assert np.abs(points).max() <= 6.0 + 1e-6 or name == "gauss"
    if name in ("plane", "reg-gauss"):
        assert np.abs(labels).max() <= 1.2
    else:
        assert 0.3 < labels.mean() < 0.7


def test_circle_without_noise_is_separable_by_radius():
    points, labels = data.toy_points("circle", 500, 0.0, 0)
    radius = np.hypot(points[:, 0], points[:, 1])
    assert radius[labels == 1].max() < 2.5 <= 3.5 <= radius[labels == 0].min()


def test_noise_blurs_the_labels_like_the_playground():
    points, labels = data.toy_points("circle", 500, 0.5, 0)
    radius = np.hypot(points[:, 0], points[:, 1])
    assert (labels != (radius < 2.5)).mean() > 0.1


def test_features_follow_the_spec_order():
    features = ["x1^2", "sin(x2)", "x1*x2"]
    ds = data.load(DataSpec(dataset="xor", features=features, normalize="none"))
    assert ds.info.feature_names == tuple(features) and ds.info.input_shape == (3,)
    x1, x2 = ds.raw_train[:, 0], ds.raw_train[:, 1]
    assert np.allclose(ds.x_train, np.stack([x1 ** 2, np.sin(x2), x1 * x2], axis=1), atol=1e-5)


def test_features_for_expands_then_normalizes_with_training_statistics():
    ds = data.load(DataSpec(dataset="circle", features=list(TOY_FEATURES)))
    squared = ds.raw_train[:, 0].astype(np.float64) ** 2
    points = np.array([[1.5, -2.0], [-4.0, 0.5]], np.float32)
    expected = (points[:, 0] ** 2 - squared.mean()) / squared.std()
    assert np.allclose(ds.features_for(points)[:, 2], expected, atol=1e-4)
    assert np.allclose(ds.features_for(ds.raw_val), ds.x_val, atol=1e-5)
    assert ds.grid_bounds == (-6.0, 6.0)


def test_features_for_refuses_data_that_is_not_2d():
    with pytest.raises(DataError, match="decision grid"):
        data.load(DataSpec(dataset="iris")).features_for(np.zeros((1, 2)))


def test_unknown_toy_feature_is_a_data_error():
    with pytest.raises(DataError, match="x3"):
        data.describe(DataSpec(dataset="circle", features=["x1", "x3"]))


# ---- splits and normalization ------------------------------------------------------------

def test_split_fractions_are_of_all_samples():
    ds = data.load(DataSpec(dataset="gauss", samples=500, validation_split=0.3, test_split=0.2))
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (250, 150, 100)


def test_standard_normalization_uses_training_statistics_only():
    ds = data.load(DataSpec(dataset="gauss", noise=0.3, features=["x1", "x2", "x1^2"]))
    assert np.allclose(ds.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(ds.x_train.std(axis=0), 1, atol=1e-4)
    assert np.abs(ds.x_val.mean(axis=0)).max() > 1e-3


def test_minmax_maps_the_training_split_onto_0_1():
    ds = data.load(DataSpec(dataset="wine", normalize="minmax"))
    assert np.allclose(ds.x_train.min(axis=0), 0) and np.allclose(ds.x_train.max(axis=0), 1)


def test_images_share_one_mean_and_std_over_all_pixels():
    ds = data.load(DataSpec(dataset="digits"))
    assert abs(ds.x_train.mean()) < 1e-4 and abs(ds.x_train.std() - 1) < 1e-3
    assert np.abs(ds.x_train.mean(axis=0)).max() > 0.5  # not per pixel


def test_stratified_split_keeps_the_class_ratio():
    ds = data.load(DataSpec(dataset="breast_cancer", validation_split=0.3, test_split=0.2))
    overall = np.concatenate([ds.y_train, ds.y_val, ds.y_test]).mean()
    for y in (ds.y_train, ds.y_val, ds.y_test):
        assert abs(y.mean() - overall) < 1.5 / len(y)
    assert any("stratified" in note for note in ds.notes)


def test_regression_table_targets_scale_back_to_the_original_unit():
    from sklearn.datasets import load_diabetes
    ds = data.load(DataSpec(dataset="diabetes", validation_split=0.2, test_split=0.2))
    assert abs(ds.y_train.mean()) < 1e-5
    restored = np.concatenate([ds.y_train, ds.y_val, ds.y_test]) * ds.target_scale + ds.target_offset
    assert np.allclose(np.sort(restored), np.sort(load_diabetes().target), atol=1e-3)


def test_splits_change_with_the_seed():
    first, second = (data.load(DataSpec(dataset="iris", seed=s)) for s in (0, 1))
    assert not np.array_equal(first.x_train, second.x_train)


# ---- series ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SERIES)
def test_series_split_in_time_order(name):
    ds = data.load(DataSpec(dataset=name, validation_split=0.2, test_split=0.2, window=12))
    assert ds.x_train.shape[1:] == (12, 1)
    # the first validation window is the last training window moved on by one step
    assert np.allclose(ds.x_val[0, :-1, 0], ds.x_train[-1, 1:, 0])
    assert np.isclose(ds.x_val[0, -1, 0], ds.y_train[-1])
    assert np.isclose(ds.x_test[0, -1, 0], ds.y_val[-1])
    assert any("time order" in note for note in ds.notes)
    assert all(np.isfinite(a).all() for a in (ds.x_train, ds.y_train, ds.x_val, ds.x_test))


def test_sunspots_targets_scale_back_to_the_file_values():
    import pandas as pd
    years = pd.read_csv(os.path.join(ROOT, "nnplay", "datasets", "sunspots_yearly.csv"))
    ds = data.load(DataSpec(dataset="sunspots", window=20))
    assert np.isclose(ds.y_train[0] * ds.target_scale + ds.target_offset,
                      years["SUNACTIVITY"].iloc[20], atol=1e-3)


def test_series_statistics_come_from_the_training_part():
    ds = data.load(DataSpec(dataset="co2", validation_split=0.3, test_split=0.2))
    # CO2 rises: standardized on the early part, later weeks sit well above 0
    assert abs(ds.y_train.mean()) < 0.2 and ds.y_test.mean() > 1.0


def test_co2_fills_empty_weeks():
    values, filled = data.co2_series()
    assert filled > 0 and np.isfinite(values).all() and len(values) == 2284


def test_sine_repeats_with_its_seed_and_has_samples_steps():
    first, again, other = (data.load(DataSpec(dataset="sine", seed=s, samples=300, noise=0.1)) for s in (5, 5, 6))
    assert np.array_equal(first.x_train, again.x_train)
    assert not np.array_equal(first.x_train, other.x_train)
    assert sum(len(y) for y in (first.y_train, first.y_val, first.y_test)) == 300 - 20


def test_series_too_short_for_the_window():
    with pytest.raises(DataError, match="lower window or raise samples"):
        data.load(DataSpec(dataset="sine", samples=25, window=20))


# ---- CSV ---------------------------------------------------------------------------------

def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def csv_spec(path, **kw):
    return DataSpec(dataset="csv", path=path, validation_split=0.25, **kw)


def numbers_csv(rows=40, target="label", classes=2):
    lines = ["a,b," + target] + [f"{i},{i * 0.5},{i % classes}" for i in range(rows)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("\n\n", "empty"),
    ("only\n1\n2\n", "only one column"),
    ("a,b\n", "no data rows"),
    ("a,b,c,label\n1,2,3,0\n4,5,6,7,1\n", "line 3 has 5 fields but the header has 4"),
    ("a,b,c,label\n1,2,3,0\n4,5,1\n", "line 3 has 3 fields but the header has 4"),
    ("age,label\n" + "".join(f"{i},{i % 2}\n" for i in range(5)) + "abc,1\n",
     "line 7, column 'age': 'abc' is not a number"),
    ("age,label\n1,0\n,1\n3,0\n", "line 3, column 'age' is empty"),
    ("age,label\n1,0\n2,1\nNaN,0\n", "line 4, column 'age' is empty"),
    ("age,label\n1,0\ninf,1\n3,0\n", "line 3, column 'age': 'inf' is not a finite number"),
    ("x,y\n1,yes\n2,yes\n3,yes\n4,yes\n", "only one class"),
    ("a,b,c\n1,2,0\n3,4,1\n", "too few to split"),
])
def test_bad_csv_files_name_the_line_or_column(tmp_path, text, message):
    with pytest.raises(DataError, match=message):
        data.load(csv_spec(write(tmp_path, text)))


def test_missing_target_column_lists_the_columns(tmp_path):
    path = write(tmp_path, numbers_csv())
    with pytest.raises(DataError, match="'price' is not in the file; its columns are: a, b, label"):
        data.load(csv_spec(path, target="price"))


def test_csv_line_numbers_count_blank_lines(tmp_path):
    text = "a,label\n1,0\n\n2,1\nx,0\n" + "".join(f"{i},{i % 2}\n" for i in range(6))
    with pytest.raises(DataError, match="line 5, column 'a'"):
        data.load_csv_frame(text.encode())


def test_csv_text_column_is_one_hot_encoded(tmp_path):
    colors = ["red", "green", "blue"]
    rows = [f"{i},{colors[i % 3]},{i % 2}" for i in range(30)]
    ds = data.load(csv_spec(write(tmp_path, "size,color,label\n" + "\n".join(rows)), normalize="none"))
    assert ds.info.feature_names == ("size", "color=blue", "color=green", "color=red")
    assert ds.info.input_shape == (4,)
    assert np.array_equal(ds.x_train[:, 1:].sum(axis=1), np.ones(len(ds.x_train)))
    assert any("color → 3 one-hot columns" in note for note in ds.notes)


def test_csv_text_target_becomes_named_classes(tmp_path):
    rows = [f"{i},{'cat' if i % 3 else 'dog'}" for i in range(30)]
    ds = data.load(csv_spec(write(tmp_path, "weight,animal\n" + "\n".join(rows))))
    assert (ds.info.task, ds.info.class_names, ds.info.kind) == ("binary", ("cat", "dog"), "csv")


def test_csv_target_defaults_to_the_last_column_and_can_be_chosen(tmp_path):
    path = write(tmp_path, numbers_csv())
    assert data.describe(csv_spec(path)).task == "binary"
    chosen = data.describe(csv_spec(path, target="b"))
    assert chosen.task == "regression" and chosen.feature_names == ("a", "label")


def test_csv_regression_targets_scale_back_to_the_file_values(tmp_path):
    targets = [i * 10.5 + 3 for i in range(40)]
    ds = data.load(csv_spec(write(tmp_path, "x,y\n" + "".join(f"{i},{t}\n" for i, t in enumerate(targets)))))
    assert ds.info.task == "regression" and abs(ds.y_train.mean()) < 1e-5
    restored = np.concatenate([ds.y_train, ds.y_val]) * ds.target_scale + ds.target_offset
    assert np.allclose(np.sort(restored), targets, atol=1e-3)


def test_split_falls_back_to_random_when_a_class_is_too_small(tmp_path):
    rows = [f"{i},{'rare' if i == 0 else 'common'}" for i in range(40)]
    ds = data.load(csv_spec(write(tmp_path, "x,kind\n" + "\n".join(rows))))
    assert any("not stratified" in note for note in ds.notes)
    assert len(ds.x_train) == 30


@pytest.mark.parametrize("values, task", [
    (["a", "b"] * 10, "binary"),
    (["a", "b", "c"] * 10, "multiclass"),
    ([0, 1] * 3, "binary"),
    ([0, 1, 2] * 10, "multiclass"),
    ([0, 1, 2, 3], "regression"),            # fewer than 5 rows per value
    (list(range(100)), "regression"),        # too many distinct values
    ([0.5, 1.5] * 10 + [2.5], "regression"),  # not whole numbers
    ([1.0, 2.0, 3.0] * 10, "multiclass"),
])
def test_task_inference(values, task):
    import pandas as pd
    assert data.infer_task(pd.Series(values)) == task


@pytest.mark.parametrize("wrap", [lambda text: text.encode(), lambda text: io.BytesIO(text.encode()),
                                  lambda text: io.StringIO(text)])
def test_csv_reads_bytes_and_file_like_uploads(wrap):
    ds = data.load_csv(wrap(numbers_csv(classes=3, rows=60)), DataSpec(validation_split=0.2))
    assert ds.info.task == "multiclass" and len(ds.x_train) == 48


def test_csv_semicolons_and_a_byte_order_mark():
    frame = data.load_csv_frame("\ufeffa;b;label\n1;2;0\n3;4;1\n".encode())
    assert list(frame.columns) == ["a", "b", "label"] and list(frame.index) == [2, 3]


def test_csv_without_a_path_says_to_choose_a_file():
    with pytest.raises(DataError, match="no CSV file"):
        data.load(DataSpec(dataset="csv"))


def test_csv_file_that_does_not_exist(tmp_path):
    with pytest.raises(DataError, match="cannot read"):
        data.load(csv_spec(str(tmp_path / "nope.csv")))


# ---- Keras cache -------------------------------------------------------------------------

@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def plant_mnist(cache, n=50):
    rng = np.random.default_rng(0)
    np.savez(cache / "mnist.npz", x_train=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
             y_train=np.arange(n, dtype=np.uint8) % 10,
             x_test=np.zeros((5, 28, 28), np.uint8), y_test=np.zeros(5, np.uint8))


def plant_fashion_mnist(cache, n=50):
    folder = cache / "fashion-mnist"
    folder.mkdir()
    contents = {"train-labels-idx1-ubyte.gz": bytes(8) + bytes(np.arange(n, dtype=np.uint8) % 10),
                "train-images-idx3-ubyte.gz": bytes(16) + bytes(n * 28 * 28),
                "t10k-labels-idx1-ubyte.gz": bytes(8) + bytes(5),
                "t10k-images-idx3-ubyte.gz": bytes(16) + bytes(5 * 28 * 28)}
    for fname in data.FASHION_FILES:
        with gzip.open(folder / fname, "wb") as f:
            f.write(contents[fname])


def plant_cifar10(cache, n=10):
    folder = cache / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": np.full((n, 3072), 255, np.uint8), b"labels": list(range(n))}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f)


def plant_imdb(cache, n=40):
    reviews = np.empty(n, dtype=object)
    for i in range(n):
        reviews[i] = list(range(1, 5 + i))
    np.savez(cache / "imdb.npz", x_train=reviews, y_train=np.arange(n) % 2,
             x_test=reviews[:3], y_test=np.zeros(3, np.int64))


def plant_boston_housing(cache, n=60):
    rng = np.random.default_rng(0)
    np.savez(cache / "boston_housing.npz", x=rng.normal(size=(n, 13)), y=rng.uniform(5, 50, n))


PLANTERS = {"mnist": plant_mnist, "fashion_mnist": plant_fashion_mnist, "cifar10": plant_cifar10,
            "imdb": plant_imdb, "boston_housing": plant_boston_housing}


@pytest.mark.skipif(data.network_problem("storage.googleapis.com", 2.0) is None,
                    reason="online: the download would succeed")
def test_missing_keras_set_fails_fast_with_the_cache_path(keras_home):
    start = time.monotonic()
    with pytest.raises(DataError) as caught:
        data.load(DataSpec(dataset="imdb"))
    assert time.monotonic() - start < 10
    message = str(caught.value)   # plain words: what is missing and where to get it, no cache path
    assert message.startswith("IMDB movie reviews is not on this computer yet, and there is no "
                              "internet connection to download it.")
    assert "download imdb.npz (17 MB) from https://" in message and str(keras_home) not in message
    assert not data.is_available_offline("imdb")


@pytest.mark.parametrize("name", KERAS)
def test_keras_sets_load_from_the_cache(keras_home, name):
    PLANTERS[name](keras_home)
    assert data.is_available_offline(name)
    spec = DataSpec(dataset=name, samples=30, validation_split=0.2, normalize="none", maxlen=8,
                    num_words=100)
    ds = data.load(spec)
    assert ds.info == data.describe(spec)
    assert ds.x_train.shape[1:] == ds.info.input_shape
    # Boston housing: Keras's own split keeps 80% of the rows for training (and validation)
    assert len(ds.x_train) + len(ds.x_val) == (30 if name != "boston_housing" else 48)


def test_keras_images_get_a_channel_axis_and_values_in_0_1(keras_home):
    plant_mnist(keras_home)
    ds = data.load(DataSpec(dataset="mnist", samples=40, normalize="none"))
    assert ds.x_train.shape[1:] == (28, 28, 1) and ds.x_train.dtype == np.float32
    assert 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    assert any("40 of the 50 training images" in note for note in ds.notes)


def test_keras_subset_follows_the_seed(keras_home):
    plant_mnist(keras_home)
    first, again, other = (data.load(DataSpec(dataset="mnist", samples=20, seed=s)) for s in (1, 1, 2))
    assert np.array_equal(first.x_train, again.x_train)
    assert not np.array_equal(first.x_train, other.x_train)


def test_imdb_word_ids_are_padded_in_front_like_keras(keras_home):
    plant_imdb(keras_home)
    ds = data.load(DataSpec(dataset="imdb", samples=40, maxlen=8, num_words=10, validation_split=0.0))
    assert ds.x_train.dtype == np.int32 and ds.info.vocab_size == 10
    assert ds.x_train.max() < 10
    assert data.pad_word_ids([[5, 6]], 4).tolist() == [[0, 0, 5, 6]]
    assert data.pad_word_ids([[1, 2, 3, 4, 5]], 3).tolist() == [[3, 4, 5]]
    assert data.imdb_word_ids([[1, 2, 50]], num_words=10) == [[1, 4, 5, 2]]


def test_cifar10_images_are_channels_last(keras_home):
    plant_cifar10(keras_home)
    ds = data.load(DataSpec(dataset="cifar10", samples=20, normalize="none"))
    assert ds.x_train.shape[1:] == (32, 32, 3) and np.all(ds.x_train == 1.0)


def test_damaged_cache_file_is_a_data_error(keras_home):
    (keras_home / "mnist.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="could not be read"):
        data.load(DataSpec(dataset="mnist"))
