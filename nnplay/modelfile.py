"""Opening a .keras model file that came from elsewhere, in Keras's safe mode.

A .keras file can carry Python code (a Lambda layer's function) that would run on load;
safe mode refuses it. Before Keras reads anything, the archive is measured against the
limits (`nnplay.limits`): its unpacked size, the layers its config declares and the weights
they would allocate, so a zip bomb or a config of 20,000 layers is refused in milliseconds.
Every failure becomes a ModelFileError that says what was wrong.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile

from . import layers as L
from . import limits


class ModelFileError(ValueError):
    """A model file nnplay will not or cannot open, with the reason for the student."""


def _check_archive(data: bytes):
    if data[:4] == b"\x89HDF":
        raise ModelFileError("this is an old HDF5 (.h5) model; open it in Keras and save it again "
                             "with model.save('model.keras')")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ModelFileError("this is not a .keras model file (those are zip archives that Keras "
                             "writes with model.save('model.keras'))")
    archive = zipfile.ZipFile(io.BytesIO(data))
    if "config.json" not in archive.namelist():
        raise ModelFileError("the archive has no config.json, so it is not a Keras 3 model file")
    lim = limits.current()
    _check_unpacked_size(archive, lim)
    config = json_config(archive)
    _check_declared_model(config, lim)
    return config


def _too_big(what: str, lim) -> ModelFileError:
    return ModelFileError(f"{what}; {lim.allows('max_model_file_mb', ' MB')} unpacked. "
                          "Open a smaller model (fewer or narrower layers)")


def _check_unpacked_size(archive: zipfile.ZipFile, lim):
    """The sizes the archive declares, then the bytes it really inflates to, counted as they
    come (a damaged or lying entry fails its checksum) and never more than the limit."""
    bound = lim.max_model_file_mb * 1e6
    declared = sum(info.file_size for info in archive.infolist())
    if declared > bound:
        raise _too_big(f"it unpacks to {declared / 1e6:,.0f} MB", lim)
    inflated = 0
    try:
        for info in archive.infolist():
            with archive.open(info) as member:
                while chunk := member.read(1 << 20):
                    inflated += len(chunk)
                    if inflated > bound:
                        raise _too_big(f"it unpacks to more than {bound / 1e6:,.0f} MB", lim)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError) as e:
        raise ModelFileError(f"the archive is damaged ({e}); save the model again") from None


def json_config(archive: zipfile.ZipFile) -> dict:
    """The archive's config.json (its size already bounded)."""
    try:
        config = json.loads(archive.read("config.json"))
    except (ValueError, RecursionError):
        raise ModelFileError("its config.json is not valid JSON (or is nested too deeply); "
                             "save the model again with model.save('model.keras')") from None
    if not isinstance(config, dict):
        raise ModelFileError("its config.json does not describe a model; save the model again")
    return config


def _layer_lists(config: dict):
    """Every list of layers in the config (a model inside a model has its own), walked
    without recursion: the file decides how deep it nests."""
    pending = [config]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("layers"), list):
                yield node["layers"]
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)


def _as_spec_layer(layer) -> dict | None:
    """A layer of the config in nnplay's spec form, for the catalogue's kinds; None otherwise."""
    if not isinstance(layer, dict) or layer.get("class_name") not in L.CATALOGUE:
        return None
    cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    kind = L.CATALOGUE[layer["class_name"]]
    spec = {"type": kind.name}
    for p in kind.params:
        value = cfg.get(p.name)
        if p.name == "layer":
            value = _as_spec_layer(value)
        elif kind.name == "Conv1D" and isinstance(value, list) and value:
            value = value[0]    # Keras keeps Conv1D's sizes as 1-tuples
        if value is not None:
            spec[p.name] = value
    return spec


def _declared_input(layer: dict) -> tuple | None:
    """The per-sample input shape a layer of the config says it was built on."""
    build = layer.get("build_config") if isinstance(layer.get("build_config"), dict) else {}
    cfg = layer.get("config") if isinstance(layer.get("config"), dict) else {}
    shape = build.get("input_shape") or cfg.get("batch_shape")
    if isinstance(shape, list) and len(shape) > 1 and all(
            v is None or (isinstance(v, int) and v > 0) for v in shape[1:]):
        return tuple(shape[1:])
    return None


def declared_params(layers: list) -> int:
    """The weights a list of config layers would allocate when Keras builds them: each known
    layer on its declared input shape, else on the shape the layer before it gives."""
    total, shape = 0, None
    for layer in layers:
        shape = _declared_input(layer) or shape
        spec = _as_spec_layer(layer)
        if spec is None or shape is None:   # an InputLayer passes its shape on; others unknown
            shape = shape if isinstance(layer, dict) and layer.get("class_name") == "InputLayer" \
                else None
            continue
        try:
            total += L.param_count(spec, shape)
            shape = L.output_shape(spec, shape)
        except (L.ShapeError, KeyError, TypeError, ValueError, IndexError):
            shape = None
    return total


def _check_declared_model(config: dict, lim):
    lists = list(_layer_lists(config))
    n_layers = sum(len(layers) for layers in lists)
    if n_layers > lim.max_model_file_layers:
        raise ModelFileError(f"its config declares {n_layers:,} layers; "
                             f"{lim.allows('max_model_file_layers')}. Open a smaller model")
    params = sum(declared_params(layers) for layers in lists)
    if params > lim.max_params:
        raise ModelFileError(f"it declares {int(params):,} parameters; {lim.allows('max_params')}. "
                             "Open a smaller model")


def _objects(config):
    """Every serialized object ({"class_name": ..., "module": ...}) in a Keras config."""
    stack = [config]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            if isinstance(v.get("class_name"), str):
                yield v
            stack += list(v.values())
        elif isinstance(v, list):
            stack += v


def _code_in(config) -> str | None:
    """What in the config would make Keras run code from the file, in words, or None."""
    for obj in _objects(config):
        name, module = obj["class_name"], obj.get("module")
        registered = obj.get("registered_name")
        if name == "Lambda":
            return "a Lambda layer, i.e. Python code that would run when the model is opened"
        if name in ("__lambda__", "function") and module in (None, "builtins"):
            return f"a Python function ({str(obj.get('config'))[:40]})"
        if isinstance(module, str) and module.split(".")[0] not in ("keras", "tensorflow", "tf_keras"):
            return f"a custom layer or function ({module[:40]}.{name[:40]}) that is not part of Keras"
        if isinstance(registered, str) and registered != name and ">" in registered:
            return f"a custom layer or function ({registered[:60]}) from someone's own Python code"
    return None


def _explain(error: Exception, config) -> str:
    text = str(error)
    code = _code_in(config)
    if code:
        return (f"it holds {code}; nnplay opens models in Keras's safe mode, which runs no code "
                "from a file. Rebuild the model from built-in Keras layers and save it again")
    if "Lambda" in text or "safe_mode" in text or "unsafe" in text.lower():
        return ("Keras's safe mode refused it: " + text.splitlines()[0][:200] + ". Rebuild the "
                "model from built-in Keras layers and save it again")
    if "Could not locate" in text or "Unknown" in text or "custom" in text.lower():
        return ("it uses a custom layer or function that this Keras does not know (" +
                text.splitlines()[0][:200] + "); only models made of built-in Keras layers can be "
                "opened here")
    return f"Keras could not read it: {text.splitlines()[0][:300] if text else type(error).__name__}"


def load_model_file(data: bytes, keep_paths: bool = False):
    """A keras.Model from the bytes of a .keras file, loaded with safe_mode=True.
    `keep_paths`: weight paths as where it was saved ("nnplay/dense_1/kernel"; Keras builds
    a loaded model's layers outside the model's name scope, so they would lose the prefix)."""
    import contextlib

    import keras
    config = _check_archive(data)
    name = config.get("config", {}).get("name") if isinstance(config.get("config"), dict) else None
    scope = keras.name_scope(name) if keep_paths and isinstance(name, str) and name else \
        contextlib.nullcontext()
    fd, path = tempfile.mkstemp(suffix=".keras")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        with scope:
            return keras.models.load_model(path, safe_mode=True, compile=False)
    except ModelFileError:
        raise
    except Exception as e:  # Keras raises ValueError, TypeError, KeyError... for bad files
        raise ModelFileError(_explain(e, config)) from None
    finally:
        os.unlink(path)
