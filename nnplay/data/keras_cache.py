"""Keras's downloadable sets (mnist, fashion_mnist, cifar10, imdb, boston_housing), read from the
Keras cache ($KERAS_HOME or ~/.keras, subfolder datasets, Keras's own file names); when missing,
one download through `keras.utils.get_file`, and when that fails a DataError saying how to get
the file. Files are read without running pickled code.
"""
from __future__ import annotations

import io
import os
import pickle
import socket
import threading
import urllib.parse
import zipfile
from dataclasses import dataclass

import numpy as np

from ..limits import current
from .base import DataError
from .registry import DATASETS


KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
CIFAR_DIRS = (os.path.join("cifar-10-batches-py-target", "cifar-10-batches-py"),  # Keras 3
              "cifar-10-batches-py")                                               # tf.keras 2
CIFAR_TRAIN_BATCHES = [f"data_batch_{i}" for i in range(1, 6)]


@dataclass(frozen=True)
class KerasDownload:
    """One `keras.utils.get_file` call, with the file name and hash Keras itself uses."""
    fname: str
    origin: str
    file_hash: str | None = None
    subdir: str = ""            # below the cache's datasets folder
    extract: bool = False
    size: int = 0               # bytes of the file Keras downloads (its origin's)


FASHION_SIZES = (29_515, 26_421_880, 5_148, 4_422_102)
KERAS_DOWNLOADS = {
    "mnist": [KerasDownload("mnist.npz", KERAS_ORIGIN + "mnist.npz",
                            "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                            size=11_490_434)],
    "fashion_mnist": [KerasDownload(f, KERAS_ORIGIN + f, subdir="fashion-mnist", size=s)
                      for f, s in zip(FASHION_FILES, FASHION_SIZES)],
    "cifar10": [KerasDownload("cifar-10-batches-py-target",
                              "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                              "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
                              extract=True, size=170_498_071)],
    "imdb": [KerasDownload("imdb.npz", KERAS_ORIGIN + "imdb.npz",
                           "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
                           size=17_464_789)],
    "boston_housing": [KerasDownload("boston_housing.npz", KERAS_ORIGIN + "boston_housing.npz",
                                     "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5",
                                     size=57_026)],
}


def origin_name(download: KerasDownload) -> str:
    """The file as it is downloaded (cifar-10-python.tar.gz), which is what a teacher brings."""
    return download.origin.rsplit("/", 1)[-1]


def megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.0f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:.0f} KB"


def where_to_get(name: str) -> str:
    """One plain sentence: which file to fetch, from where, and how to bring it in (from the
    command line when it is larger than the uploads the limits allow)."""
    downloads = KERAS_DOWNLOADS[name]
    files = [origin_name(d) for d in downloads]
    size = sum(d.size for d in downloads)
    folder = downloads[0].origin.rsplit("/", 1)[0] + "/"
    what = (f"the {len(files)} files {', '.join(files)} ({megabytes(size)} together) from {folder}"
            if len(files) > 1 else f"{files[0]} ({megabytes(size)}) from {downloads[0].origin}")
    too_big = max(d.size for d in downloads) > current().max_upload_mb * 1e6
    it = "them" if len(files) > 1 else "it"
    how = (f"run python -m nnplay bring {' '.join(files)} where nnplay runs ({it} is larger than "
           "the page's uploads)" if too_big else f"bring {it} on the Data page")
    return f"To use it offline, download {what} on any computer with internet, then {how}, once."


def keras_home() -> str:
    """The Keras cache folder: $KERAS_HOME, or ~/.keras."""
    return os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras"))


def keras_cache_dir() -> str:
    """Where Keras keeps downloaded datasets."""
    return os.path.join(keras_home(), "datasets")


def _keras_required_files(name: str, cache: str) -> list:
    """Paths that must exist for `name`, for each layout Keras has used; the first complete wins."""
    if name == "cifar10":
        return [[os.path.join(cache, d, b) for b in CIFAR_TRAIN_BATCHES + ["test_batch"]]
                for d in CIFAR_DIRS]
    return [[os.path.join(cache, d.subdir, d.fname) for d in KERAS_DOWNLOADS[name]]]


def cached_keras_dir(name: str) -> str | None:
    """The folder holding `name`'s files in the Keras cache, or None when any file is missing."""
    for paths in _keras_required_files(name, keras_cache_dir()):
        if all(os.path.isfile(p) for p in paths):
            return os.path.dirname(paths[0])
    return None


def _keras_files_dir(name: str) -> str:
    """`name`'s folder in the cache, downloading it once if needed; DataError when impossible."""
    found = cached_keras_dir(name)
    if found is None:
        _download_keras_set(name)
        found = cached_keras_dir(name)
    if found is None:
        raise _not_cached_error(name, "the download left no usable file")
    return found


def _download_keras_set(name: str) -> None:
    downloads = KERAS_DOWNLOADS[name]
    # urllib waits forever on some dead networks: a quick bounded probe first
    reason = network_problem(urllib.parse.urlsplit(downloads[0].origin).hostname)
    if reason:
        raise _not_cached_error(name, reason)
    try:
        from keras.utils import get_file
        for d in downloads:
            get_file(d.fname, origin=d.origin, file_hash=d.file_hash, extract=d.extract,
                     cache_dir=keras_home(), cache_subdir=os.path.join("datasets", d.subdir))
    except Exception as error:  # any failure of a download is the same advice to the user
        raise _not_cached_error(name, short_reason(error)) from None


def network_problem(host: str, timeout: float = 3.0) -> str | None:
    """None when a TCP connection to host:443 opens within `timeout` seconds, else why not.

    The connection (name lookup included, which sockets cannot time out) runs in a daemon
    thread, so a dead resolver costs `timeout` seconds, not minutes.
    """
    outcome = {}

    def connect():
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            outcome["ok"] = True
        except OSError as error:
            outcome["error"] = short_reason(error)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    if outcome.get("ok"):
        return None
    return f"no network: {outcome.get('error', f'{host} did not answer in {timeout:g} s')}"


def short_reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _not_cached_error(name: str, reason: str) -> DataError:
    """Missing data in plain words: no errno, no cache path (the reason is only which)."""
    why = ("there is no internet connection to download it" if reason.startswith("no network")
           else "downloading it failed")
    return DataError(f"{DATASETS[name].title} is not on this computer yet, and {why}. "
                     f"{where_to_get(name)}")


_ALLOWED_PICKLE_GLOBALS = {("numpy", "ndarray"), ("numpy", "dtype"),
                           ("numpy.core.multiarray", "_reconstruct"),
                           ("numpy._core.multiarray", "_reconstruct")}


class ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays, lists and dicts only, so a tampered cache file cannot run code."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _read_npy(buffer: io.BytesIO) -> np.ndarray:
    try:
        return np.lib.format.read_array(buffer, allow_pickle=False)
    except ValueError:  # object arrays (IMDB's reviews of different lengths) are pickled
        buffer.seek(0)
        major, _ = np.lib.format.read_magic(buffer)
        read_header = (np.lib.format.read_array_header_1_0 if major == 1
                       else np.lib.format.read_array_header_2_0)
        read_header(buffer)
        return ArraysOnlyUnpickler(buffer).load()


def read_npz(path: str) -> dict:
    """The arrays of an .npz file, without running arbitrary pickled code."""
    with zipfile.ZipFile(path) as archive:
        return {member.removesuffix(".npy"): _read_npy(io.BytesIO(archive.read(member)))
                for member in archive.namelist() if member.endswith(".npy")}


def _read_idx_gz(path: str, header_bytes: int) -> np.ndarray:
    import gzip
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=header_bytes)


def _read_fashion(folder: str) -> tuple:
    """((x_train, y_train), (x_test, y_test)) from the four idx files, as Keras reads them."""
    parts = []
    for labels_file, images_file in (FASHION_FILES[:2], FASHION_FILES[2:]):
        labels = _read_idx_gz(os.path.join(folder, labels_file), 8)
        images = _read_idx_gz(os.path.join(folder, images_file), 16)
        parts.append((images.reshape(len(labels), 28, 28), labels))
    return tuple(parts)


def _read_cifar_batches(folder: str, names) -> tuple:
    images, labels = [], []
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            batch = ArraysOnlyUnpickler(f, encoding="bytes").load()
        images.append(np.asarray(batch[b"data"], np.uint8).reshape(-1, 3, 32, 32))
        labels.append(np.asarray(batch[b"labels"]))
    return np.concatenate(images).transpose(0, 2, 3, 1), np.concatenate(labels)


def _read_cifar(folder: str) -> tuple:
    return (_read_cifar_batches(folder, CIFAR_TRAIN_BATCHES),
            _read_cifar_batches(folder, ["test_batch"]))


def keras_boston_split(x: np.ndarray, y: np.ndarray, test_split: float = 0.2,
                       seed: int = 113) -> tuple:
    """Keras's boston_housing.load_data split of the 506 rows: shuffled with seed 113, the
    first 80% for training and the rest for test."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    n = int(len(x) * (1 - test_split))
    return (x[:n], y[:n]), (x[n:], y[n:])


def keras_imdb_order(train: tuple, test: tuple, seed: int = 113) -> tuple:
    """IMDB's parts in the order Keras's imdb.load_data returns them: the training reviews
    shuffled with seed 113, then the test reviews by the same generator."""
    rng, shuffled = np.random.RandomState(seed), []
    for x, y in (train, test):
        indices = np.arange(len(x))
        rng.shuffle(indices)
        shuffled.append((x[indices], y[indices]))
    return tuple(shuffled)


def read_keras_split(name: str, folder: str | None = None) -> tuple:
    """((x_train, y_train), (x_test, y_test)) of `name`, as Keras's load_data() returns them,
    straight from the Keras cache (or `folder`, laid out as the cache is)."""
    folder = folder or _keras_files_dir(name)
    try:
        if name == "fashion_mnist":
            return _read_fashion(folder)
        if name == "cifar10":
            return _read_cifar(folder)
        arrays = read_npz(os.path.join(folder, KERAS_DOWNLOADS[name][0].fname))
        if name == "boston_housing":
            return keras_boston_split(arrays["x"], arrays["y"])
        parts = (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
        return keras_imdb_order(*parts) if name == "imdb" else parts
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError) as e:
        raise DataError(f"the {DATASETS[name].title} file in the Keras cache could not be read "
                        f"({short_reason(e)}): bring it again on the Data page") from None
