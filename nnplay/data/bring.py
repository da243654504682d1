"""Bringing Keras's own files: a teacher gives nnplay the file Keras would download (once, from
the Data page or `python -m nnplay bring`), and nnplay puts it into Keras's cache under the
name Keras looks for, so nnplay and the student's own Keras script both find it offline.

Nothing reaches the cache unchecked, in this order: the file's name is one Keras downloads
for the set; its size is of the right order (a third to three times the original's); its
SHA-256 is Keras's own where Keras has one; it opens as the right archive without running
code (npz through the arrays-only unpickler, gzip and tar read with size bounds, only the
expected tar members); its arrays have the set's shapes. It is checked in a scratch folder
laid out like the cache and moved into place only when the set reads back whole.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
import zipfile

import numpy as np

from .base import DataError
from .keras_cache import (CIFAR_DIRS, CIFAR_TRAIN_BATCHES, KERAS_DOWNLOADS, cached_keras_dir,
                          keras_cache_dir,
                          megabytes, origin_name, read_keras_split)
from .registry import DATASETS

SIZE_SLACK = 3            # a file a third to three times the original's size is "of its order"
MAX_MEMBER_BYTES = 64e6   # one CIFAR batch is 31 MB; a bigger member is not CIFAR's
MIN_EXAMPLES = 1000       # fewer is a sample someone made, not Keras's set


def expected_files(name: str) -> dict:
    """{file name as downloaded: its KerasDownload} for the set `name`."""
    if name not in KERAS_DOWNLOADS:
        raise DataError(f"{DATASETS[name].title if name in DATASETS else name} is not one of "
                        f"Keras's sets; files can be brought for {', '.join(KERAS_DOWNLOADS)}")
    return {origin_name(d): d for d in KERAS_DOWNLOADS[name]}


def worth_bringing(name: str) -> bool:
    """A Keras set whose own files are not here, where bringing them adds something: Boston
    housing's stand-in is already all of it."""
    return name in KERAS_DOWNLOADS and name != "boston_housing" and cached_keras_dir(name) is None


def bring_keras_files(name: str, files: dict) -> str:
    """Check `files` ({file name: bytes}) as `name`'s Keras files and put them in the Keras
    cache; a sentence saying what is now there. DataError, saying what is wrong, otherwise."""
    expected = expected_files(name)
    title = DATASETS[name].title
    _check_names(title, expected, files)
    for fname, content in files.items():
        _check_size(fname, expected[fname], len(content))
        _check_hash(fname, expected[fname], content)
    cache = keras_cache_dir()
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".bringing-") as scratch:
        _unpack(name, expected, files, scratch)
        folder = _files_folder(name, scratch)
        try:
            (x_train, y_train), (x_test, y_test) = read_keras_split(name, folder)
        except DataError:
            raise DataError(f"these files cannot be read as {title}: they are damaged or are "
                            "not Keras's; download them again") from None
        _check_arrays(name, title, x_train, y_train, x_test, y_test)
        _move_into_cache(scratch, cache)
    return (f"{title} is ready offline: {len(y_train):,} training and {len(y_test):,} test "
            "examples, kept where Keras looks for them.")


def _check_names(title: str, expected: dict, files: dict) -> None:
    wanted = ", ".join(expected)
    strangers = [f for f in files if f not in expected]
    if strangers:
        raise DataError(f"{strangers[0][:80]} is not a file of {title}: Keras downloads {wanted}")
    missing = [f for f in expected if f not in files]
    if missing:
        raise DataError(f"{title} needs all of {wanted}; missing: {', '.join(missing)}")


def _check_size(fname: str, download, n_bytes: int) -> None:
    if not download.size / SIZE_SLACK <= n_bytes <= download.size * SIZE_SLACK:
        raise DataError(f"{fname} is {megabytes(n_bytes)}, but Keras's {fname} is about "
                        f"{megabytes(download.size)}: this is not that file (or it was cut "
                        "short); download it again")


def _check_hash(fname: str, download, content: bytes) -> None:
    if download.file_hash and hashlib.sha256(content).hexdigest() != download.file_hash:
        raise DataError(f"{fname} is not the file Keras downloads (its checksum differs): "
                        "download it again from the address given")


def _unpack(name: str, expected: dict, files: dict, scratch: str) -> None:
    """Write the files into `scratch` as the cache holds them (CIFAR's archive unpacked)."""
    if name == "cifar10":
        _unpack_cifar(next(iter(files.values())), scratch)
        return
    for fname, content in files.items():
        _check_archive(fname, content)
        folder = os.path.join(scratch, expected[fname].subdir)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, expected[fname].fname), "wb") as f:
            f.write(content)


def _check_archive(fname: str, content: bytes) -> None:
    """An .npz is a zip whose members unpack to a bounded size; a .gz unpacks, bounded."""
    try:
        if fname.endswith(".npz"):
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                unpacked = sum(i.file_size for i in archive.infolist())
            if unpacked > len(content) * 20 + 1e6:
                raise ValueError("it unpacks to far more than such a file holds")
        elif fname.endswith(".gz"):
            with gzip.open(io.BytesIO(content)) as f:
                if len(f.read(int(MAX_MEMBER_BYTES) + 1)) > MAX_MEMBER_BYTES:
                    raise ValueError("it unpacks to far more than such a file holds")
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        kind = "a zip (.npz)" if fname.endswith(".npz") else "a gzip (.gz)"
        raise DataError(f"{fname} is not {kind} archive as Keras's is ({str(e)[:80]}): "
                        "download it again") from None


CIFAR_MEMBERS = tuple(CIFAR_TRAIN_BATCHES) + ("test_batch",)


def _unpack_cifar(content: bytes, scratch: str) -> None:
    """Only CIFAR's batch files, as regular files of bounded size, written under names chosen
    here: no member can land outside the cache or be a link."""
    target = os.path.join(scratch, CIFAR_DIRS[0])
    os.makedirs(target)
    found = set()
    try:
        with tarfile.open(fileobj=io.BytesIO(content), mode="r:gz") as archive:
            for member in archive:
                base = member.name.rsplit("/", 1)[-1]
                if base not in CIFAR_MEMBERS or not member.isreg() or member.size > MAX_MEMBER_BYTES:
                    continue
                with open(os.path.join(target, base), "wb") as out:
                    out.write(archive.extractfile(member).read())
                found.add(base)
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DataError(f"cifar-10-python.tar.gz is not a gzipped tar archive as Keras's is "
                        f"({str(e)[:80]}): download it again") from None
    if found != set(CIFAR_MEMBERS):
        raise DataError("cifar-10-python.tar.gz lacks "
                        f"{', '.join(sorted(set(CIFAR_MEMBERS) - found))}: download it again")


def _files_folder(name: str, scratch: str) -> str:
    download = KERAS_DOWNLOADS[name][0]
    return os.path.join(scratch, CIFAR_DIRS[0] if name == "cifar10" else download.subdir)


SAMPLE_SHAPES = {"mnist": (28, 28), "fashion_mnist": (28, 28), "cifar10": (32, 32, 3),
                 "boston_housing": (13,)}
MIN_TRAINING = {"boston_housing": 400}   # Keras keeps 404 of its 506 rows for training


def _check_arrays(name: str, title: str, x_train, y_train, x_test, y_test) -> None:
    """The set's shapes: as many labels as examples, enough examples, each of the right shape."""
    sample = SAMPLE_SHAPES.get(name)
    for x, y, part in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        too_few = part == "training" and len(y) < MIN_TRAINING.get(name, MIN_EXAMPLES)
        if len(x) != len(y) or too_few or (sample and tuple(np.shape(x)[1:]) != sample):
            raise DataError(f"these files hold {len(y):,} {part} labels for "
                            f"{len(x):,} examples of shape {tuple(np.shape(x)[1:])}, not "
                            f"{title}'s: download them again")


def dataset_for_files(names) -> str:
    """The Keras set whose downloaded files these are (for `python -m nnplay bring`)."""
    for name, downloads in KERAS_DOWNLOADS.items():
        if set(names) <= {origin_name(d) for d in downloads}:
            return name
    known = ", ".join(origin_name(d) for downloads in KERAS_DOWNLOADS.values() for d in downloads)
    raise DataError(f"{', '.join(names)[:120]} is not a file Keras downloads; bring one of {known}")


def _move_into_cache(scratch: str, cache: str) -> None:
    """Each checked file replaces its place in the cache (a rename within one folder tree)."""
    for root, _, names in os.walk(scratch):
        for fname in names:
            source = os.path.join(root, fname)
            destination = os.path.join(cache, os.path.relpath(source, scratch))
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            shutil.move(source, destination)


def read_local_files(paths) -> dict:
    """{file name: bytes} of files the host names on the command line, each read only up to
    the size its Keras original could have (a wrong huge file is refused, not read whole)."""
    names = [os.path.basename(p) for p in paths]
    expected = expected_files(dataset_for_files(names))
    files = {}
    for path, fname in zip(paths, names):
        limit = int(expected[fname].size * SIZE_SLACK)
        try:
            with open(path, "rb") as f:
                content = f.read(limit + 1)
        except OSError as e:
            raise DataError(f"cannot read {fname}: {e.strerror or e}") from None
        _check_size(fname, expected[fname], len(content))
        files[fname] = content
    return files
