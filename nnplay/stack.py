"""The layer stack the Model page edits, beside the layer catalogue (`nnplay.layers`): new,
moved, copied and removed layers, the shape after each, and how layers and shapes are said.

    >>> layer_title({"type": "Dense", "units": 8, "activation": "relu"})
    'Dense(8, relu)'
    >>> shape_text((8, 8, 16)), shape_words((20, 1))
    ('(None, 8, 8, 16)', '20 steps of 1 value per sample')

Pure functions of plain specs: no Streamlit, no TensorFlow.
"""
from __future__ import annotations

import copy
import re

from . import layers as L
from .spec import auto_head

# Parameters shown behind "more" in the editor: rarely changed, same on every weight layer.
ADVANCED_PARAMS = ("use_bias", "kernel_initializer", "kernel_regularizer")


# A hidden layer added in the editor starts as ReLU, the usual choice, written out in the spec
# (Keras's own default, and the spec's, is linear).
HIDDEN_ACTIVATION = {"Dense": "relu", "Conv1D": "relu", "Conv2D": "relu"}


def new_layer(kind: str) -> dict:
    """A layer of `kind` with its everyday parameters at their defaults (the rest implied),
    and ReLU written out on Dense and Conv layers."""
    full = L.CATALOGUE[kind].defaults()
    if kind in HIDDEN_ACTIVATION:
        full["activation"] = HIDDEN_ACTIVATION[kind]
    return {k: v for k, v in full.items() if k not in ADVANCED_PARAMS}


def moved(layers: list, index: int, offset: int) -> list:
    """The layers with the one at `index` moved `offset` places (clamped to the ends)."""
    out = list(layers)
    target = min(max(index + offset, 0), len(out) - 1)
    out.insert(target, out.pop(index))
    return out


def duplicated(layers: list, index: int) -> list:
    """The layers with a copy of the one at `index` right after it."""
    return layers[:index + 1] + [copy.deepcopy(layers[index])] + layers[index + 1:]


def removed(layers: list, index: int) -> list:
    return layers[:index] + layers[index + 1:]


def layer_shapes(layers: list, input_shape) -> list:
    """The output shape after each layer (per sample), None from the first that cannot be known."""
    shapes, shape = [], tuple(input_shape) if input_shape is not None else None
    for layer in layers:
        if shape is not None:
            try:
                shape = None if L.check_layer(layer) else L.output_shape(layer, shape)
            except (L.ShapeError, KeyError, TypeError, ValueError):
                shape = None
        shapes.append(shape)
    return shapes


def shape_text(shape) -> str:
    """A per-sample shape as Keras prints it, with the batch axis: (None, 8, 8, 16)."""
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if s is None else str(s) for s in (None, *shape)) + ")"


def shape_words(shape) -> str:
    """A per-sample shape in plain words: (4,) -> "4 values per sample", (8, 8, 16) ->
    "8×8 grid of 16 values per sample", (20, 1) -> "20 steps of 1 value per sample"."""
    if shape is None:
        return "shape unknown"
    dims = [d for d in shape]
    if any(d is None for d in dims):
        return "length depends on the input"

    def values(n):
        return f"{n:,} value" + ("" if n == 1 else "s")
    if len(dims) == 1:
        return values(dims[0]) + " per sample"
    if len(dims) == 2:
        return f"{dims[0]} steps of {values(dims[1])} per sample"
    if len(dims) == 3:
        return f"{dims[0]}×{dims[1]} grid of {values(dims[2])} per sample"
    return " × ".join(map(str, dims)) + " values per sample"


BATCH_NOTE = ("Shapes are written as Keras prints them: the first entry, None, is the batch "
              "(how many samples go through at once, chosen only when training); the rest is "
              "one sample.")


def _size_text(value) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(map(str, value))
    return f"{value}x{value}"


def layer_title(layer) -> str:
    """A compact call-like title with the parameters that matter: "Dense(8, relu)"."""
    if not isinstance(layer, dict) or layer.get("type") not in L.CATALOGUE:
        return str(layer.get("type", "?") if isinstance(layer, dict) else layer)
    full = L.complete(layer)
    t = full["type"]
    if t == "Dense":
        args = [full["units"], full["activation"]]
    elif t == "Conv2D":
        args = [full["filters"], _size_text(full["kernel_size"]), full["padding"], full["activation"]]
    elif t == "Conv1D":
        args = [full["filters"], full["kernel_size"], full["padding"], full["activation"]]
    elif t in ("MaxPooling2D", "AveragePooling2D"):
        args = [_size_text(full["pool_size"])]
    elif t == "Dropout":
        args = [full["rate"]]
    elif t == "Activation":
        args = [full["activation"]]
    elif t == "Reshape":
        args = [list(full["target_shape"])]
    elif t in L.RECURRENT:
        args = [full["units"]] + (["sequences"] if full["return_sequences"] else [])
    elif t == "Bidirectional":
        args = [layer_title(full["layer"])]
    elif t == "Embedding":
        args = [f"{full['input_dim']}→{full['output_dim']}"]
    else:
        args = []
    return f"{t}({', '.join(map(str, args))})"


_SHAPE_TEXT = re.compile(r"\s*\d+(\s*[,x×]?\s*\d+)*\s*")


def parse_shape(text: str) -> list[int]:
    """Positive whole numbers separated by commas, spaces or x ("28, 28, 1", "3x5") as a
    list; ValueError with what to write otherwise."""
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if not _SHAPE_TEXT.fullmatch(text) or not all(numbers):
        raise ValueError(f"{text!r} is not a shape: write positive whole numbers separated by "
                         "commas, like 28, 28, 1")
    return numbers


# ---- what the Model page says about the stack ------------------------------------------------

def input_shape(model, info) -> tuple | None:
    """The shape each sample enters the model with: the spec's own (`model.input_shape`) when
    set, else the data's; None when neither is known (the data cannot be read)."""
    if model.input_shape is not None:
        return tuple(model.input_shape)
    return tuple(info.input_shape) if info is not None else None


def input_text(model, info, data_title: str) -> str | None:
    """The stack's first line: the input shape, from the spec or from the data (None when
    neither is known)."""
    shape = input_shape(model, info)
    if model.input_shape is not None:
        data_shape = shape_text(info.input_shape) if info is not None else "?"
        return (f"**Input** `{shape_text(shape)}` ({shape_words(shape)}), set in the spec "
                f"(the data's is `{data_shape}`)")
    if shape is None:
        return None
    return f"**Input** `{shape_text(shape)}` from *{data_title}*: {shape_words(shape)}"


_HEAD_TEXT = {
    "multiclass": "one output per class with softmax, trained with sparse categorical "
                  "cross-entropy",
    "binary": "one sigmoid output, the probability of class {second}, trained with binary "
              "cross-entropy",
    "regression": "one linear output, the predicted number, trained with mean squared error",
}
_NONE_TEXT = {
    "multiclass": "so it must have {n} units (one per class), usually with softmax",
    "binary": "so it must have 1 unit with sigmoid (or 2 with softmax)",
    "regression": "so it must have 1 unit with a linear activation",
}


def head_text(output: str, info) -> str:
    """What the output head choice (`model.output`: auto | none) means for this data."""
    if output == "auto":
        second = f"'{info.class_names[1]}'" if len(info.class_names) > 1 else "1"
        return (f"**auto** adds `{layer_title(auto_head(info))}` named *output* after your "
                f"layers: {_HEAD_TEXT[info.task].format(second=second)}. It adapts when you "
                "change the data.")
    return (f"**none**: your last layer is the output, "
            f"{_NONE_TEXT[info.task].format(n=info.n_classes)}.")


def problems_by_layer(problems: list, n_layers: int) -> tuple[dict, list]:
    """The spec's problems split into {layer index: [Problem]} (shown beside their layer) and
    the rest (shown above the stack)."""
    by_layer, whole = {}, []
    for p in problems:
        if p.layer is not None and 0 <= p.layer < n_layers:
            by_layer.setdefault(p.layer, []).append(p)
        else:
            whole.append(p)
    return by_layer, whole


def diagram_boxes(model, info, shapes: list, problem_layers: set, params: dict) -> list[dict]:
    """The boxes of the stack's diagram (`plots.stack_dot`): the input, each layer with its
    output shape and Keras's parameter count (`params`: {Keras layer name: count}), and the
    auto head."""
    boxes = [{"title": "Input", "shape": shape_text(input_shape(model, info)), "group": "input"}]
    for i, (layer, shape) in enumerate(zip(model.layers, shapes)):
        kind = L.CATALOGUE.get(layer.get("type")) if isinstance(layer, dict) else None
        boxes.append({"title": layer_title(layer), "shape": shape_text(shape),
                      "group": kind.group if kind else "core",
                      "params": params.get(L.layer_name(i, layer)) if kind else None,
                      "problem": i in problem_layers})
    if model.output == "auto" and info is not None:
        out = auto_head(info)
        boxes.append({"title": "output: " + layer_title(out), "group": "output",
                      "shape": shape_text((out["units"],)), "params": params.get("output"),
                      "dashed": True})
    return boxes
