"""The files a spec may name, and how they are read: nnplay's sandbox for `data.path`.

A spec's `data.path` can come from people the server must not trust: a shared link, an
uploaded spec, a student on a hosted server. So a spec names a CSV by what nnplay stored
when it was uploaded, an *upload reference*:

    >>> reference("3f2a9c1b2d4e5f60", "my data.csv")
    'upload:3f2a9c1b2d4e5f60/my data.csv'

The hash picks the file in `$NNPLAY_HOME/uploads/` (the name after it is only shown to
people, and is what an exported script reads). Any other path (absolute, relative, `..`, a
device, `/proc`, a symlink) is refused without opening it, except where the person at the
keyboard typed it: the laptop's command line and Python API (`config.hosted()` off). Every
read is bounded in size and opens regular files only, so `/dev/zero` or a FIFO cannot hang
or fill the server.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from . import config

PREFIX = "upload:"
_REFERENCE = re.compile(r"^upload:([0-9a-f]{16})/([^/\\\x00-\x1f]{1,120})$")
_STORED_NAME = re.compile(r"^([0-9a-f]{16})\.csv$")   # how an upload is kept (and older specs named it)


class FileRefused(ValueError):
    """A path nnplay will not read, or a file too big; the message says what to do."""


def max_bytes() -> int:
    """The largest CSV nnplay reads or keeps: the host's `max_upload_mb` (nnplay.limits)."""
    from .limits import current
    return int(current().max_upload_mb * 1e6)


def reference(digest: str, name: str) -> str:
    """The spec's name for an uploaded file: its content hash and a display name."""
    return f"{PREFIX}{digest}/{_display_name(name)}"


def _display_name(name: str) -> str:
    """The file's own name without folders or control characters (what people see)."""
    name = re.sub(r"[\x00-\x1f]", "", os.path.basename(str(name).replace("\\", "/"))).strip()
    return name[:120] or "upload.csv"


def save(data: bytes, name: str) -> str:
    """Keep an uploaded CSV under `$NNPLAY_HOME/uploads/<hash>.csv`; its upload reference."""
    check_size(len(data), f"CSV file {_display_name(name)}")
    digest = hashlib.sha256(data).hexdigest()[:16]
    folder = config.uploads_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest}.csv"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.part")  # never a half-written upload
        partial.write_bytes(data)
        os.replace(partial, path)
    return reference(digest, name)


def check_size(n_bytes: int, what: str) -> None:
    """FileRefused when `n_bytes` is over the upload limit (a CSV needs ~20x its size in
    memory while it is parsed)."""
    from .limits import LimitError, check_upload_size
    try:
        check_upload_size(n_bytes, what)
    except LimitError as e:
        raise FileRefused(str(e)) from None


def upload_digest(path: str) -> str | None:
    """The content hash an upload reference (or an older spec's stored upload path) names."""
    match = _REFERENCE.match(path)
    if match:
        return match.group(1)
    stored = _STORED_NAME.match(os.path.basename(path))
    if stored and os.path.basename(os.path.dirname(path)) == "uploads":
        return stored.group(1)
    return None


def is_upload(path: str | None) -> bool:
    return bool(path) and upload_digest(path) is not None


def display_name(path: str) -> str:
    """What to call the file in a page: the uploaded file's name, never a server path."""
    match = _REFERENCE.match(path)
    if match:
        return match.group(2)
    return "uploaded CSV" if is_upload(path) else os.path.basename(path) or path


def local_paths_allowed() -> bool:
    """A local path is read only on a laptop, where the person typing it owns the files."""
    return not config.hosted()


def refusal(path: str) -> str:
    """Why `path` is not read: the message a page, a link or the CLI shows."""
    shown = path if len(path) <= 60 else path[:57] + "..."
    return (f"{shown!r} is not a file uploaded to nnplay: a shared link, an uploaded "
            "spec or a hosted server can only use CSV files uploaded here; upload the file on "
            "the Data page instead")


def resolve(path: str, allow_local: bool | None = None) -> Path:
    """The file `path` names, or FileRefused (nothing is opened to decide)."""
    digest = upload_digest(path)
    if digest is not None:
        return config.uploads_dir() / f"{digest}.csv"
    if allow_local is None:
        allow_local = local_paths_allowed()
    if not allow_local:
        raise FileRefused(refusal(path))
    return Path(path).expanduser()


def read(path: str, allow_local: bool | None = None) -> bytes:
    """The bytes of the CSV `path` names, read with a size bound; FileRefused otherwise."""
    file = resolve(path, allow_local)
    name = display_name(path)
    limit = max_bytes()
    try:
        # O_NOFOLLOW: no symlink out; O_NONBLOCK: a FIFO cannot block the open.
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if is_upload(path):
            raise FileRefused(f"the uploaded file {name!r} is not on this server (it was "
                              "uploaded elsewhere or removed): upload it again on the Data "
                              "page") from None
        raise FileRefused(f"cannot read {name}: no such file") from None
    except OSError as e:
        raise FileRefused(f"cannot read {name}: {e.strerror or e}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{name} is not a regular file: give a CSV file")
        check_size(info.st_size, f"CSV file {name}")
        data = f.read(limit + 1)   # /proc files report size 0: the bound is on the read
    check_size(len(data), f"CSV file {name}")
    return data


def modified(path: str) -> float:
    """When the file `path` names last changed (0.0 when it is not there or not allowed)."""
    try:
        return os.stat(resolve(path)).st_mtime
    except (FileRefused, OSError):
        return 0.0
