"""Where nnplay keeps things and how it is hosted: one place for the settings a host changes.

Each setting is read from the environment first (`NNPLAY_HOSTED=1`), then from the
`nnplay.toml` file in the working directory (the app's folder when started with
`streamlit run app.py`), then takes its default:

    # nnplay.toml
    hosted = true
    teacher_key = "choose-a-long-secret"
    [limits]
    max_params = 2_000_000

Nothing here imports TensorFlow or Streamlit.
"""
from __future__ import annotations

import functools
import logging
import os
import tomllib
from pathlib import Path

CONFIG_FILE = "nnplay.toml"
TRUE_WORDS = ("1", "true", "yes", "on")


@functools.lru_cache(maxsize=1)
def _file_settings() -> dict:
    """The settings in ./nnplay.toml ({} when there is none); read once per process."""
    path = Path(CONFIG_FILE)
    if not path.is_file():
        return {}
    with open(path, "rb") as f:
        return tomllib.load(f)


def setting(name: str, default=None):
    """`NNPLAY_<NAME>` from the environment, else `name` from nnplay.toml, else `default`."""
    value = os.environ.get("NNPLAY_" + name.upper())
    if value is not None:
        return value
    return _file_settings().get(name, default)


def hosted() -> bool:
    """Whether this process serves a class (private workspaces, fair slots, tight caps)."""
    value = setting("hosted", False)
    return value is True or str(value).strip().lower() in TRUE_WORDS


def home() -> Path:
    """Where runs, models and uploads are kept: $NNPLAY_HOME, default ~/.nnplay."""
    return Path(os.environ.get("NNPLAY_HOME") or "~/.nnplay").expanduser()


def uploads_dir() -> Path:
    """The only folder whose files a spec from a link or an upload may name."""
    return home() / "uploads"


def teacher_key() -> str | None:
    """The key a teacher link carries (`?teacher=KEY`); None: no teacher view."""
    value = setting("teacher_key")
    return str(value) if value else None


# ---- workspaces (hosted mode) ---------------------------------------------------------------

def max_runs_per_workspace() -> int | None:
    """How many runs a workspace keeps (its oldest finished ones are pruned past that);
    None: no cap (laptop mode's default)."""
    from .limits import current   # one of the limits (hosted 50, laptop 0: no cap)
    return current().max_runs_per_workspace or None


def workspace_idle_hours() -> float:
    """After how many hours without a visit a workspace's runs and models are deleted."""
    return _number("workspace_idle_hours", 72.0, float, minimum=0.01)


def grace_seconds() -> float:
    """How long a closed tab's jobs go on before they are stopped (`grace_seconds`, default
    120 s: long enough for a reload or a flaky network)."""
    return _number("grace_seconds", 120.0, float, minimum=0.0)


def _number(name: str, default, kind, minimum):
    """A numeric setting; a bad value stops the server with a message naming the setting."""
    value = setting(name, default)
    if value is None:
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not number >= minimum:     # `not >=` also refuses NaN
        raise ValueError(f"setting {name} (NNPLAY_{name.upper()} or {CONFIG_FILE}) must be a "
                         f"number of at least {minimum}, got {value!r}")
    return number


def limit_overrides() -> dict:
    """The host's changes to nnplay's limits, as written: {"max_params": "500000", ...} from
    `NNPLAY_MAX_...` environment variables over nnplay.toml's `[limits]` table. Which names
    exist, their defaults and how values are read live in `nnplay.limits`."""
    section = _file_settings().get("limits", {})
    if not isinstance(section, dict):
        raise ValueError(f"{CONFIG_FILE}: 'limits' must be a table, e.g. a line [limits] "
                         "followed by max_params = 2_000_000")
    found = dict(section)
    found.update({k[len("NNPLAY_"):].lower(): v for k, v in os.environ.items()
                  if k.startswith("NNPLAY_MAX_")})
    return found


XLA_MIN_BATCHES = 20_000


def xla_min_batches() -> int:
    """Runs of fewer batches (epochs × batches per epoch) than this train as a plain graph
    instead of compiling with XLA. TensorFlow never frees an XLA executable (its compilation
    cache has no eviction: ~12 MB per job for the Playground's toy net, for as long as the
    process lives), and below ~20,000 batches a toy run is no faster with XLA (compiling
    takes ~1.4 s, a frozen frame at the start of the run). Setting `xla_min_batches`; default
    20,000 on a laptop and hosted alike, so a spec trains to the same numbers on both (XLA
    and a plain graph differ in the third decimal after 60 epochs)."""
    value = setting("xla_min_batches", XLA_MIN_BATCHES)
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        raise ValueError(f"the setting xla_min_batches must be a whole number of batches, "
                         f"got {value!r}") from None


# ---- the Ray backend (issue #10) ------------------------------------------------------------

def ray_address() -> str | None:
    """Where training jobs run: None (unset, the default) in threads of this process;
    "local" on a Ray this process starts on this machine; "auto" or "host:port" on an
    existing Ray cluster. Setting `ray_address` (NNPLAY_RAY_ADDRESS)."""
    value = setting("ray_address", None)
    value = str(value).strip() if value is not None else ""
    return value or None


def ray_slots() -> float | None:
    """Training slots on Ray (cores the queue hands out); None: the cluster's CPUs.
    Setting `ray_slots` (NNPLAY_RAY_SLOTS)."""
    return _number("ray_slots", None, float, minimum=0.1)


def worker_env() -> dict:
    """This host's settings as NNPLAY_<NAME> environment variables, for a training process
    elsewhere (a Ray worker) that cannot read this machine's environment or nnplay.toml:
    hosted mode, the limits, xla_min_batches. Not where things are kept (NNPLAY_HOME) nor
    the Ray settings themselves."""
    env = {"NNPLAY_" + k.upper(): str(v) for k, v in _file_settings().items()
           if not isinstance(v, dict)}
    env.update({"NNPLAY_" + k.upper(): str(v) for k, v in limit_overrides().items()})
    env.update({k: v for k, v in os.environ.items() if k.startswith("NNPLAY_")})
    for local in ("NNPLAY_HOME", "NNPLAY_RAY_ADDRESS", "NNPLAY_RAY_SLOTS", "NNPLAY_TEACHER_KEY"):
        env.pop(local, None)
    return env


def reload():
    """Forget the cached nnplay.toml (tests that write one)."""
    _file_settings.cache_clear()


LOG_FORMAT = "%(asctime)s %(name)s: %(message)s"   # `python -m nnplay soak` reads these lines


def log_to_output():
    """nnplay's own log lines, INFO and up, on the server's output (app.py): a host reads
    there, among others, how long each student waited for a first point (the Train page)."""
    logger = logging.getLogger("nnplay")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False   # once, even where TensorFlow's absl put a handler on the root
