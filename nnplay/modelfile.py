"""Opening a .keras model file that came from elsewhere, in Keras's safe mode.

A .keras file can carry Python code (a Lambda layer's function) that would run on load;
safe mode refuses it. Every failure becomes a ModelFileError that says what was wrong.
"""
from __future__ import annotations

import io
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
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    if "config.json" not in names:
        raise ModelFileError("the archive has no config.json, so it is not a Keras 3 model file")


def _explain(error: Exception) -> str:
    text = str(error)
    if "Lambda" in text or "safe_mode" in text or "unsafe" in text.lower():
        return ("it contains a Lambda layer, i.e. arbitrary Python code that would run when the "
                "model is opened; nnplay opens models in Keras's safe mode and refuses it. Replace "
                "the Lambda with built-in layers and save again")
    if "Could not locate" in text or "Unknown" in text or "custom" in text.lower():
        return ("it uses a custom layer or function that this Keras does not know (" +
                text.splitlines()[0][:200] + "); only models made of built-in Keras layers can be "
                "opened here")
    return f"Keras could not read it: {text.splitlines()[0][:300] if text else type(error).__name__}"


def load_model_file(data: bytes):
    """A keras.Model from the bytes of a .keras file, loaded with safe_mode=True."""
    import keras
    _check_archive(data)
    fd, path = tempfile.mkstemp(suffix=".keras")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return keras.models.load_model(path, safe_mode=True, compile=False)
    except ModelFileError:
        raise
    except Exception as e:  # Keras raises ValueError, TypeError, KeyError... for bad files
        raise ModelFileError(_explain(e)) from None
    finally:
        os.unlink(path)
