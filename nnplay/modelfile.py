"""Opening a .keras model file that came from elsewhere, in Keras's safe mode.

A .keras file can carry Python code (a Lambda layer's function) that would run on load;
safe mode refuses it. Every failure becomes a ModelFileError that says what was wrong.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile


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
    try:
        return json.loads(archive.read("config.json"))
    except (ValueError, RecursionError):
        raise ModelFileError("its config.json is not valid JSON, so the file is damaged; save the "
                             "model again with model.save('model.keras')") from None


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


def load_model_file(data: bytes):
    """A keras.Model from the bytes of a .keras file, loaded with safe_mode=True."""
    import keras
    config = _check_archive(data)
    fd, path = tempfile.mkstemp(suffix=".keras")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except ModelFileError:
        raise
    except Exception as e:  # Keras raises ValueError, TypeError, KeyError... for bad files
        raise ModelFileError(_explain(e, config)) from None
    finally:
        os.unlink(path)
