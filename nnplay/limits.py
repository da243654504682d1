"""Size caps a host can rely on: the largest model, data, run, upload and link nnplay accepts.

Two sets of defaults: **hosted** (one 2-core server shared by a class of 30) and **laptop**
(generous: only what would crash a 2-core, 8 GB machine is stopped). The host changes any
of them with an environment variable or in nnplay.toml (read through `nnplay.config`):

    NNPLAY_MAX_PARAMS=500000 streamlit run app.py
    # nnplay.toml
    [limits]
    max_params = 500_000

`current()` is the set in force. `check_limits(exp, info)` is run by `spec.validate`, so every
spec is measured in pure Python before TensorFlow is touched; each refusal says the limit and
what to change. Nothing here imports TensorFlow or Streamlit.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, fields, replace

from . import config
from . import layers as L
from . import spec as S


class LimitError(ValueError):
    """Something is larger than the limits allow; the message says which limit and what to do."""


@dataclass(frozen=True)
class Limits:
    max_params: int               # weights in the whole model, output layer included
    max_layers: int               # layers in the spec's stack
    max_units: int                # units, filters or output_dim of one layer
    max_samples: int              # data.samples
    max_epochs: int               # train.epochs
    max_image_side: int           # height or width of an input image, in pixels
    max_sequence_length: int      # steps of a sequence: window, maxlen, input_shape
    max_batch_size: int           # train.batch_size
    max_batch_values: int         # batch_size x the widest layer's values per sample
    max_train_minutes: float      # training time of one job (0: no limit)
    max_upload_mb: float          # one uploaded file (CSV, .keras, spec)
    max_link_kb: int              # a share link's spec once inflated
    max_model_file_mb: float      # a .keras file's contents once unpacked
    max_model_file_layers: int    # layers declared in a .keras file's config
    max_runs_per_workspace: int   # runs a workspace keeps, oldest pruned (0: no limit)
    hosted: bool = False          # whose limits these are, for the messages

    def allows(self, name: str, unit: str = "") -> str:
        """"this server allows at most 2,000,000 (set by the host)" and its laptop form."""
        limit = f"{_number(getattr(self, name))}{unit}"
        if self.hosted:
            return f"this server allows at most {limit} (set by the host)"
        return f"nnplay allows at most {limit} here (NNPLAY_{name.upper()} changes it)"


# Measured on this 2-core machine (ARCHITECTURE.md, "Limits"): a process with TensorFlow
# holds ~640 MB, training a toy with Adam peaks at ~860 MB, and each parameter adds ~29 bytes
# of peak memory (weights, gradients, Adam's two slots, XLA's buffers) and each value of a
# batch's widest layer ~20-29 bytes. Hosted: 2M parameters (+60 MB) and 2M batch values
# (+60 MB) keep a job within ~1 GB, so a few train at once on a small server. Laptop: 200M
# parameters (~6.7 GB; TensorFlow's 480x680 tutorial CNN has 167M) and 64M batch values.
HOSTED = Limits(
    max_params=2_000_000, max_layers=20, max_units=1_024, max_samples=20_000,
    max_epochs=5_000, max_image_side=64, max_sequence_length=500, max_batch_size=1_024,
    max_batch_values=2_000_000, max_train_minutes=10, max_upload_mb=10, max_link_kb=256,
    max_model_file_mb=64, max_model_file_layers=100, max_runs_per_workspace=50, hosted=True)
LAPTOP = Limits(
    max_params=200_000_000, max_layers=200, max_units=8_192, max_samples=100_000,
    max_epochs=100_000, max_image_side=2_048, max_sequence_length=5_000,
    max_batch_size=65_536, max_batch_values=64_000_000, max_train_minutes=0,
    max_upload_mb=100, max_link_kb=256, max_model_file_mb=1_024,
    max_model_file_layers=1_000, max_runs_per_workspace=0, hosted=False)
NAMES = tuple(f.name for f in fields(Limits) if f.name != "hosted")
_FRACTIONAL = ("max_train_minutes", "max_upload_mb", "max_model_file_mb")
_MAY_BE_ZERO = ("max_train_minutes", "max_runs_per_workspace")   # 0: no limit


def _number(value) -> str:
    """2000000 -> "2,000,000"; 10.0 -> "10"; 0.5 -> "0.5"."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _parse(name: str, raw) -> int | float:
    """A host's value for limit `name`; LimitError saying what is expected otherwise."""
    fractional = name in _FRACTIONAL
    kind = "a positive number" if fractional else "a positive whole number"
    if name in _MAY_BE_ZERO:
        kind += " (0 for no limit)"
    value = raw
    if isinstance(raw, str):
        text = raw.strip().replace("_", "").replace(",", "")
        try:
            value = float(text) if fractional else int(text)
        except ValueError:
            value = None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        and (fractional or isinstance(value, int)) \
        and (value > 0 or (value == 0 and name in _MAY_BE_ZERO))
    if not ok:
        raise LimitError(f"limit {name} (NNPLAY_{name.upper()} or [limits] in nnplay.toml) must "
                         f"be {kind}, got {raw!r}")
    return value


def current() -> Limits:
    """The limits in force: hosted or laptop defaults by `config.hosted()`, with the host's
    overrides. A bad override raises LimitError naming it (call this at startup)."""
    base = HOSTED if config.hosted() else LAPTOP
    overrides = config.limit_overrides()
    unknown = sorted(set(overrides) - set(NAMES))
    if unknown:
        raise LimitError(f"unknown limit {', '.join(unknown)} (NNPLAY_{unknown[0].upper()} or "
                         f"[limits] in nnplay.toml); the limits are {', '.join(NAMES)}")
    return replace(base, **{name: _parse(name, raw) for name, raw in overrides.items()})


# ---- the spec ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerSize:
    """One layer of the model as built: its place, name, shapes in and out, and weights."""
    index: int | None      # into model.layers; None for the auto output layer
    name: str
    layer: dict            # complete (every parameter present)
    shape_in: tuple
    shape_out: tuple
    params: int


def _input_shape(exp, info) -> tuple | None:
    if exp.model.input_shape is not None:
        return tuple(exp.model.input_shape)
    return tuple(info.input_shape) if info is not None else None


def _head(exp, info) -> dict | None:
    if exp.model.output != "auto":
        return None
    # Without data the head's width is unknown: one unit is the least it can be.
    return S.auto_head(info) if info is not None else {"type": "Dense", "units": 1}


def layer_sizes(exp, info=None) -> list[LayerSize] | None:
    """Every layer's shapes and weights in pure Python; None when the input shape is unknown
    or the stack does not connect (validation reports that)."""
    shape = _input_shape(exp, info)
    if shape is None:
        return None
    stack = [(i, L.layer_name(i, layer), layer) for i, layer in enumerate(exp.model.layers)]
    head = _head(exp, info)
    if head is not None:
        stack.append((None, "output", head))
    rows = []
    try:
        for index, name, layer in stack:
            out = L.output_shape(layer, shape)
            rows.append(LayerSize(index, name, L.complete(layer), shape, out,
                                  L.param_count(layer, shape)))
            shape = out
    except (L.ShapeError, KeyError, TypeError, ValueError):
        return None
    return rows


def _layer_problem(row: LayerSize, message: str):
    where = "model.output" if row.index is None else S._layer_where(row.index, row.layer)
    return S.Problem(where, message, row.index)


def _fewer_weights(row: LayerSize) -> str:
    """What to change in the layer that holds the most weights."""
    layer, name = row.layer, row.name
    t = layer["type"]
    if t == "Dense" and (row.shape_in[-1] or 0) > layer["units"]:
        return (f"{name} takes {row.shape_in[-1]:,} inputs: shrink what reaches it (pooling or "
                f"fewer filters before Flatten, or a smaller input), or use fewer units "
                f"({layer['units']:,})")
    if t in ("Dense",) + L.RECURRENT:
        return f"Use fewer units in {name} ({layer['units']:,})"
    if t in ("Conv1D", "Conv2D"):
        return f"Use fewer filters in {name} ({layer['filters']:,}) or a smaller kernel_size"
    if t == "Bidirectional":
        return f"Use fewer units in {name}'s {layer['layer']['type']} ({layer['layer']['units']:,})"
    if t == "Embedding":
        return (f"Use a smaller input_dim ({layer['input_dim']:,}) or output_dim "
                f"({layer['output_dim']:,}) in {name}")
    return f"Put {name} after a narrower layer"


def _check_params(lim: Limits, rows: list[LayerSize]) -> list:
    total = sum(r.params for r in rows)
    if total <= lim.max_params:
        return []
    biggest = max(rows, key=lambda r: r.params)
    return [_layer_problem(biggest, f"The model has {total:,} parameters; "
                              f"{lim.allows('max_params')}. {_fewer_weights(biggest)}.")]


def _check_widths(lim: Limits, layers: list[dict]) -> list:
    """units, filters and output_dim of each layer (a Bidirectional's: its inner layer's)."""
    problems = []
    for i, layer in enumerate(layers):
        full = L.complete(layer)
        if full["type"] == "Bidirectional":
            full = full["layer"]
        for key in ("units", "filters", "output_dim"):
            value = full.get(key)
            if isinstance(value, int) and value > lim.max_units:
                problems.append(S.Problem(
                    S._layer_where(i, layer), f"{key} is {value:,}; {lim.allows('max_units')}. "
                    f"Use {lim.max_units:,} or fewer.", i))
    return problems


def _values(shape: tuple, steps: int) -> int:
    """Values per sample in a tensor of `shape`; a variable length counts as `steps`. A
    variable image side counts as 1: the data's own images are measured (max_image_side)."""
    unknown = steps if len(shape) <= 2 else 1
    return math.prod(unknown if s is None else s for s in shape)


def _check_batch_values(lim: Limits, exp, rows: list[LayerSize]) -> list:
    """batch_size x the values per sample of the widest tensor (the input or a layer's output):
    what one training step holds at once, several times over for the gradients."""
    batch, steps = exp.train.batch_size, lim.max_sequence_length
    widest = max(rows, key=lambda r: _values(r.shape_out, steps))
    values, name, smaller = _values(widest.shape_out, steps), widest.name, f"a narrower {widest.name}"
    if _values(rows[0].shape_in, steps) > values:
        values, name, smaller = _values(rows[0].shape_in, steps), "the input", "a smaller input"
    if batch * values <= lim.max_batch_values:
        return []
    fits = lim.max_batch_values // values
    fix = f"Use a batch_size of {fits:,} or less, or {smaller}" if fits else f"Use {smaller}"
    return [S.Problem("train.batch_size",
                      f"a batch of {batch:,} × {values:,} values per sample in {name} is "
                      f"{batch * values:,} values at once; {lim.allows('max_batch_values')}. "
                      f"{fix}.")]


def _check_shape(lim: Limits, exp, info) -> list:
    """Image side and sequence length of the input."""
    shape = _input_shape(exp, info)
    if shape is None:
        return []
    where = "model.input_shape" if exp.model.input_shape is not None else "data.dataset"
    if len(shape) == 3:
        side = max(s or 0 for s in shape[:2])
        if side > lim.max_image_side:
            return [S.Problem(where, f"images are {shape[0]}×{shape[1]} pixels; "
                                     f"{lim.allows('max_image_side', ' pixels a side')}. "
                                     f"Use images of at most {lim.max_image_side} pixels a side.")]
    first = exp.model.layers[0].get("type") if exp.model.layers else None
    sequence = len(shape) == 2 or (len(shape) == 1 and first == "Embedding")
    if exp.model.input_shape is not None and sequence and (shape[0] or 0) > lim.max_sequence_length:
        return [S.Problem(where, f"sequences of {shape[0]:,} steps; "
                                 f"{lim.allows('max_sequence_length')}. "
                                 f"Use at most {lim.max_sequence_length:,} steps.")]
    return []


def _over(lim: Limits, where: str, value, name: str, what: str) -> list:
    """A whole-number setting above its limit."""
    if isinstance(value, int) and value > getattr(lim, name):
        return [S.Problem(where, f"{value:,} {what}; {lim.allows(name)}. "
                                 f"Use {getattr(lim, name):,} or fewer.")]
    return []


def _check_settings(lim: Limits, exp) -> list:
    d, t = exp.data, exp.train
    return (_over(lim, "data.samples", d.samples, "max_samples", "samples")
            + _over(lim, "data.window", d.window, "max_sequence_length", "steps in a window")
            + _over(lim, "data.maxlen", d.maxlen, "max_sequence_length", "words per review")
            + _over(lim, "train.epochs", t.epochs, "max_epochs", "epochs")
            + _over(lim, "train.batch_size", t.batch_size, "max_batch_size", "samples in a batch")
            + _over(lim, "model.layers", len(exp.model.layers), "max_layers", "layers"))


def check_limits(exp, info=None, lim: Limits | None = None) -> list:
    """The ways `exp` exceeds the limits, as `spec.Problem`s (run on a spec that is otherwise
    valid). Pure Python: the parameter count and the shapes come from `nnplay.layers`."""
    lim = lim or current()
    problems = _check_settings(lim, exp) + _check_widths(lim, exp.model.layers) \
        + _check_shape(lim, exp, info)
    if len(exp.model.layers) > lim.max_layers:
        return problems   # do not walk a stack of thousands of layers
    rows = layer_sizes(exp, info)
    if rows:
        problems += _check_params(lim, rows) + _check_batch_values(lim, exp, rows)
    return problems


# ---- jobs, uploads, links ---------------------------------------------------------------

def training_time_over(seconds: float, lim: Limits | None = None) -> str | None:
    """Why a job that has trained `seconds` must stop now, or None while it may go on."""
    lim = lim or current()
    if not lim.max_train_minutes or seconds < lim.max_train_minutes * 60:
        return None
    return (f"stopped after {seconds / 60:.1f} minutes of training: "
            f"{lim.allows('max_train_minutes', ' minutes')} per run. "
            "Train for fewer epochs, or use less data or a smaller model.")


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:,.1f} MB"


def check_upload_size(n_bytes: int, what: str = "file", lim: Limits | None = None) -> None:
    """Raise LimitError when an upload of `n_bytes` is larger than `max_upload_mb`."""
    lim = lim or current()
    if n_bytes > lim.max_upload_mb * 1e6:
        raise LimitError(f"The {what} is {_megabytes(n_bytes)}; "
                         f"{lim.allows('max_upload_mb', ' MB')} per upload. "
                         f"Use a smaller {what}.")


def inflate_link(compressed: bytes, lim: Limits | None = None) -> bytes:
    """A share link's zlib-compressed spec, inflated to at most `max_link_kb`; LimitError past
    it (without inflating the rest: a small link can unpack to hundreds of megabytes)."""
    lim = lim or current()
    bound = lim.max_link_kb * 1024
    inflater = zlib.decompressobj()
    raw = inflater.decompress(compressed, bound + 1)
    if len(raw) > bound or inflater.unconsumed_tail:
        raise LimitError(f"The link holds a spec larger than {lim.max_link_kb:,} KB; "
                         f"{lim.allows('max_link_kb', ' KB')}. Share a smaller experiment.")
    if not inflater.eof:
        raise zlib.error("the link is cut short")   # as zlib.decompress says it
    return raw
