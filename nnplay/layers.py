"""The layer catalogue: every layer kind a student can stack, its parameters with Keras's own
names, defaults, allowed ranges and a one-line help text, and pure-Python shape inference.

Nothing here imports TensorFlow: the spec is checked (and the page can draw the stack) before
any model is built.

    >>> output_shape({"type": "Dense", "units": 4}, (2,))
    (4,)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

ACTIVATIONS = ("relu", "sigmoid", "tanh", "linear", "softmax", "elu", "selu", "gelu",
               "swish", "leaky_relu", "softplus", "relu6", "hard_sigmoid", "mish")
INITIALIZERS = ("glorot_uniform", "glorot_normal", "he_uniform", "he_normal",
                "lecun_uniform", "lecun_normal", "random_normal", "random_uniform",
                "orthogonal", "zeros", "ones")
RECURRENT = ("SimpleRNN", "LSTM", "GRU")


class ShapeError(ValueError):
    """A layer cannot take the shape that reaches it."""


@dataclass(frozen=True)
class Param:
    """One constructor argument of a Keras layer, as the layer editor shows it."""
    name: str
    type: str  # int | float | bool | choice | size | shape | regularizer | layer
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    max_exclusive: bool = False
    choices: tuple = ()
    nullable: bool = False


@dataclass(frozen=True)
class LayerKind:
    name: str
    help: str
    params: tuple[Param, ...]
    group: str = "core"
    example: dict = field(default_factory=dict)

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def defaults(self) -> dict:
        """A complete layer dict with every parameter at its default."""
        layer = {"type": self.name}
        for p in self.params:
            layer[p.name] = dict(p.default) if isinstance(p.default, dict) else p.default
        return layer


def _activation(default: str, help_: str = "The function applied to each output.",
                nullable: bool = False) -> Param:
    return Param("activation", "choice", default, help_, choices=ACTIVATIONS, nullable=nullable)


# Keras's Dense and Conv layers default to activation=None, a linear output; the spec spells
# it "linear" (null is read as that).
_LINEAR_BY_DEFAULT = _activation("linear", "The function applied to each output (Keras's default, "
                                 "linear, passes the sum through unchanged).", nullable=True)


def _kernel_params(default_init: str = "glorot_uniform") -> tuple[Param, ...]:
    return (
        Param("use_bias", "bool", True, "Add a learned bias to each output."),
        Param("kernel_initializer", "choice", default_init,
              "How the weights are set before training starts.", choices=INITIALIZERS),
        Param("kernel_regularizer", "regularizer", None,
              "Penalty on large weights, e.g. {\"l2\": 0.001}: fights overfitting.", nullable=True),
    )


_UNITS = Param("units", "int", 8, "How many neurons (outputs) the layer has.", min=1, max=8192)
_RNN = (
    Param("units", "int", 32, "Size of the hidden state carried from step to step.", min=1, max=4096),
    _activation("tanh", "Squashes the hidden state at each step."),
    Param("return_sequences", "bool", False,
          "Output the state at every step (needed before another recurrent layer)."),
    Param("dropout", "float", 0.0, "Fraction of inputs dropped at each step while training.",
          min=0.0, max=1.0, max_exclusive=True),
    Param("kernel_regularizer", "regularizer", None,
          "Penalty on large input weights, e.g. {\"l2\": 0.001}.", nullable=True),
)
_POOL = (
    Param("pool_size", "size", 2, "Size of the window that is summarised.", min=1, max=64),
    Param("strides", "size", None, "Step between windows (empty: same as pool size).",
          min=1, max=64, nullable=True),
    Param("padding", "choice", "valid", "'valid' drops the edge, 'same' pads to keep the size.",
          choices=("valid", "same")),
)

CATALOGUE: dict[str, LayerKind] = {k.name: k for k in (
    LayerKind("Dense", "Every input connected to every neuron: the basic building block.",
              (_UNITS, _LINEAR_BY_DEFAULT) + _kernel_params()),
    LayerKind("Conv1D", "Slides small filters along a sequence to find local patterns.",
              (Param("filters", "int", 16, "How many filters (feature detectors) to learn.", min=1, max=2048),
               Param("kernel_size", "int", 3, "Length of each filter window.", min=1, max=512),
               Param("strides", "int", 1, "Step between filter positions.", min=1, max=64),
               Param("padding", "choice", "valid", "'valid' shrinks the output, 'same' keeps its length.",
                     choices=("valid", "same", "causal")),
               _LINEAR_BY_DEFAULT) + _kernel_params(), group="convolution"),
    LayerKind("Conv2D", "Slides small filters over an image to find edges, textures, shapes.",
              (Param("filters", "int", 16, "How many filters (feature maps) to learn.", min=1, max=2048),
               Param("kernel_size", "size", 3, "Height and width of each filter.", min=1, max=64),
               Param("strides", "size", 1, "Step between filter positions.", min=1, max=64),
               Param("padding", "choice", "valid", "'valid' shrinks the image, 'same' keeps its size.",
                     choices=("valid", "same")),
               _LINEAR_BY_DEFAULT) + _kernel_params(), group="convolution"),
    LayerKind("MaxPooling2D", "Keeps the largest value in each window: halves the image, keeps strong features.",
              _POOL, group="convolution"),
    LayerKind("AveragePooling2D", "Averages each window: a smoother way to shrink the image.",
              _POOL, group="convolution"),
    LayerKind("GlobalAveragePooling2D", "Averages each feature map to one number.",
              (), group="convolution"),
    LayerKind("Flatten", "Unrolls an image or grid into one long vector for Dense layers.", ()),
    LayerKind("Reshape", "Rearranges the values into a new shape with the same size.",
              (Param("target_shape", "shape", [1], "The new shape, e.g. [28, 28, 1].", min=1),)),
    LayerKind("Dropout", "Randomly zeroes a fraction of inputs while training: fights overfitting.",
              (Param("rate", "float", 0.5, "Fraction of inputs dropped (0 to just under 1).",
                     min=0.0, max=1.0, max_exclusive=True),), group="regularization"),
    LayerKind("BatchNormalization", "Re-centres and re-scales each batch: steadier, faster training.",
              (Param("momentum", "float", 0.99, "How slowly the running statistics move.",
                     min=0.0, max=1.0, max_exclusive=True),), group="regularization"),
    LayerKind("Activation", "Applies an activation function on its own.", (_activation("relu"),)),
    LayerKind("ReLU", "The ReLU activation as a layer of its own: max(0, x).",
              (Param("negative_slope", "float", 0.0, "Slope below the threshold.", min=0.0, max=1.0),
               Param("threshold", "float", 0.0, "Values below this are cut.", min=-1e6, max=1e6))),
    LayerKind("LeakyReLU", "ReLU that lets a little through for negative inputs.",
              (Param("negative_slope", "float", 0.3, "Slope for negative inputs.", min=0.0, max=1.0),)),
    LayerKind("Softmax", "Turns the values into probabilities that sum to 1.", ()),
    LayerKind("RandomCrop", "Crops a random height x width window while training (the centre "
              "when predicting): augmentation for images.",
              (Param("height", "int", 24, "Height of the crop.", min=1, max=4096),
               Param("width", "int", 24, "Width of the crop.", min=1, max=4096)), group="regularization"),
    LayerKind("RandomShear", "Shears images by a random amount while training: augmentation.",
              (Param("x_factor", "float", 0.0, "Largest horizontal shear (0 to 1).", min=0.0, max=1.0),
               Param("y_factor", "float", 0.0, "Largest vertical shear (0 to 1).", min=0.0, max=1.0)),
              group="regularization"),
    LayerKind("SimpleRNN", "The plainest recurrent layer: forgets quickly.", _RNN, group="recurrent"),
    LayerKind("LSTM", "Recurrent layer with gates that remember over long spans.", _RNN, group="recurrent"),
    LayerKind("GRU", "A lighter gated recurrent layer, often as good as LSTM.", _RNN, group="recurrent"),
    LayerKind("Bidirectional", "Runs a recurrent layer forwards and backwards and joins both.",
              (Param("layer", "layer", {"type": "LSTM", "units": 32},
                     "The recurrent layer to run both ways."),
               Param("merge_mode", "choice", "concat", "How the two directions are joined.",
                     choices=("concat", "sum", "mul", "ave"))), group="recurrent"),
    LayerKind("Embedding", "Turns word ids into learned vectors; must be the first layer.",
              (Param("input_dim", "int", 8000, "Vocabulary size: the largest word id + 1.", min=1, max=1_000_000),
               Param("output_dim", "int", 64, "Length of each word vector.", min=1, max=4096)),
              group="recurrent"),
)}

GROUPS = ("core", "convolution", "recurrent", "regularization")


def complete(layer: dict) -> dict:
    """The layer with every missing parameter filled with its default (nested layers too)."""
    kind = CATALOGUE[layer["type"]]
    full = kind.defaults()
    full.update(layer)
    if kind.name == "Bidirectional" and isinstance(full.get("layer"), dict) \
            and full["layer"].get("type") in RECURRENT:
        full["layer"] = complete(full["layer"])
    return full


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def is_number(value) -> bool:
    """A finite int or float (not a bool): NaN and infinity pass no range check, so they are
    refused here, the one test every numeric field of a spec goes through."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def number_kind(value) -> str:
    """What a numeric field asks for, in the words that fit what it got: "a number" for a
    word, "a finite number" for NaN or infinity."""
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    return "a finite number" if numeric else "a number"


def is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def shown(value, limit: int = 30) -> str:
    """`value` as a message quotes it: repr, cut to `limit` characters so a hostile value
    (a 4,000-digit number, a list of a million items) never floods a message."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        return f"a number with {len(str(abs(value)))} digits"
    if isinstance(value, str):
        return repr(cut(value, limit - 2))
    return cut(repr(value), limit)


def cut(text: str, limit: int = 30) -> str:
    """Plain text (a column name, a key) cut to `limit` characters for a message."""
    text = str(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def check_param(p: Param, value) -> str | None:
    """Why `value` is not acceptable for parameter `p`, or None when it is."""
    if value is None:
        return None if p.nullable else f"'{p.name}' needs a value"
    t = p.type
    if t == "int" and not is_whole(value):
        return f"'{p.name}' must be a whole number, got {shown(value)}"
    if t == "float" and not is_number(value):
        return f"'{p.name}' must be {number_kind(value)}, got {shown(value)}"
    if t == "bool" and not isinstance(value, bool):
        return f"'{p.name}' must be true or false, got {shown(value)}"
    if t == "choice" and value not in p.choices:
        return f"'{p.name}' must be one of {', '.join(p.choices)}; got {shown(value)}"
    if t == "size":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, (list, tuple)) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value))
        if not ok:
            return f"'{p.name}' must be a whole number or a pair like [3, 3], got {shown(value)}"
        values = _pair(value)
    elif t == "shape":
        if not (isinstance(value, (list, tuple)) and value
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            return f"'{p.name}' must be a list of whole numbers like [28, 28, 1], got {shown(value)}"
        values = tuple(value)
    elif t == "regularizer":
        if not isinstance(value, dict) or not value or set(value) - {"l1", "l2"} \
                or not all(is_number(v) and 0 <= v <= 10 for v in value.values()):
            return (f"'{p.name}' must look like {{\"l2\": 0.001}} (keys l1 and/or l2, "
                    f"values from 0 to 10), got {shown(value)}")
        return None
    elif t in ("int", "float"):
        values = (value,)
    else:
        return None
    for v in values:
        if p.min is not None and v < p.min:
            return f"'{p.name}' must be at least {p.min:g}, got {shown(v)}"
        if p.max is not None and (v >= p.max if p.max_exclusive else v > p.max):
            bound = f"below {p.max:g}" if p.max_exclusive else f"at most {p.max:g}"
            return f"'{p.name}' must be {bound}, got {shown(v)}"
    return None


def check_layer(layer: Any) -> list[str]:
    """Problems with one layer dict's type, keys and values (not its shape)."""
    if not isinstance(layer, dict):
        return [f"a layer must be an object like {{\"type\": \"Dense\", \"units\": 8}}, got {shown(layer)}"]
    kind_name = layer.get("type")
    if not isinstance(kind_name, str) or kind_name not in CATALOGUE:
        return [f"unknown layer type {shown(kind_name)}; choose one of {', '.join(CATALOGUE)}"]
    kind = CATALOGUE[kind_name]
    known = {p.name for p in kind.params}
    problems = [f"{kind_name} has no parameter {shown(k)}; it takes {', '.join(sorted(known | {'name'}))}"
                for k in layer if k not in known | {"type", "name"}]
    if "name" in layer and not (isinstance(layer["name"], str) and _LAYER_NAME.fullmatch(layer["name"])):
        problems.append(f"'name' must be 1 to 64 letters, digits, '_', '.' or '-' "
                        f"(Keras's layer names), got {shown(layer['name'])}")
    for p in kind.params:
        if p.name in layer:
            message = check_param(p, layer[p.name])
            if message:
                problems.append(message)
    if not problems and {"units", "activation"} <= known:
        full = {**kind.defaults(), **layer}
        if full["activation"] == "softmax" and full["units"] == 1:
            problems.append("softmax over 1 unit always outputs 1.0: use sigmoid for one unit, "
                            "or give it as many units as classes")
    if kind_name == "Bidirectional" and "layer" in layer:
        inner = layer["layer"]
        if not isinstance(inner, dict) or inner.get("type") not in RECURRENT:
            problems.append("Bidirectional wraps a recurrent layer: set 'layer' to "
                            "{\"type\": \"LSTM\", \"units\": 32} (or SimpleRNN, GRU)")
        else:
            problems += [f"inner {inner['type']}: {m}" for m in check_layer(inner)]
    return problems


ACTIVATION_LAYERS = {"ReLU": "relu", "LeakyReLU": "leaky_relu", "Softmax": "softmax"}


def output_activation(layer) -> str | None:
    """The activation a layer applies to its outputs ("linear" for a Dense left at Keras's
    default), or None for a layer that applies none (Dropout, Flatten, ...)."""
    if not isinstance(layer, dict) or layer.get("type") not in CATALOGUE:
        return None
    if layer["type"] in ACTIVATION_LAYERS:
        return ACTIVATION_LAYERS[layer["type"]]
    return complete(layer).get("activation")


_LAYER_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
RESERVED_NAMES = ("input", "output")   # the input and the auto head take these


def layer_name(index: int, layer: dict) -> str:
    """The Keras name of the spec's layer at `index`: its own `name` when the spec gives one,
    else from its place: "dense_1", "dropout_2", ..."""
    if isinstance(layer.get("name"), str):
        return layer["name"]
    return f"{layer['type'].lower()}_{index + 1}"


def _conv_length(size: int | None, kernel: int, stride: int, padding: str) -> int | None:
    if size is None:
        return None
    if padding in ("same", "causal"):
        return math.ceil(size / stride)
    return (size - kernel) // stride + 1


def _recurrent_output(layer: dict, shape: tuple) -> tuple:
    if len(shape) != 2:
        raise ShapeError(
            f"{layer['type']} reads a sequence (steps, features) but gets shape {list(shape)}; "
            + ("put a Reshape to [steps, features] before it, or use a sequence dataset"
               if len(shape) == 1 else "add a Reshape or Flatten to make it 2-D"))
    units = layer["units"]
    return (shape[0], units) if layer["return_sequences"] else (units,)


def _pool_output(layer: dict, shape: tuple, name: str) -> tuple:
    if len(shape) != 3:
        raise ShapeError(f"{name} needs an image (height, width, channels) but gets shape {list(shape)}; "
                         "use it before Flatten, on image data")
    pool = _pair(layer["pool_size"])
    strides = _pair(layer["strides"]) if layer["strides"] is not None else pool
    out = tuple(_conv_length(shape[i], pool[i], strides[i], layer["padding"]) for i in range(2))
    if any(o is not None and o < 1 for o in out):
        raise ShapeError(f"{name}'s pool {list(pool)} is larger than its {list(shape[:2])} input; "
                         "use a smaller pool_size or padding 'same'")
    return out + (shape[2],)


def output_shape(layer: dict, shape: tuple) -> tuple:
    """The per-sample output shape of `layer` on a per-sample input `shape` (no batch axis).

    Raises ShapeError with a message that says what to change when they cannot connect.
    """
    layer = complete(layer)
    t = layer["type"]
    shape = tuple(shape)
    if t == "Dense":
        if not shape:
            raise ShapeError("Dense needs at least a vector input")
        if shape[-1] is None:
            raise ShapeError(f"Dense needs a fixed number of input features, but the last axis of "
                             f"{list(shape)} has a variable length: give it a size in input_shape")
        return shape[:-1] + (layer["units"],)
    if t in ("Dropout", "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "Softmax"):
        return shape
    if t in ("RandomCrop", "RandomShear"):
        if len(shape) != 3:
            raise ShapeError(f"{t} transforms images (height, width, channels) but gets shape "
                             f"{list(shape)}; use it first, on image data")
        if t == "RandomCrop" and any(s is not None and c > s for c, s in
                                     zip((layer["height"], layer["width"]), shape)):
            raise ShapeError(f"RandomCrop's {layer['height']}x{layer['width']} window is larger than "
                             f"the {shape[0]}x{shape[1]} image; choose a smaller height and width")
        return (layer["height"], layer["width"], shape[2]) if t == "RandomCrop" else shape
    if t == "Flatten":
        if any(s is None for s in shape):
            raise ShapeError("Flatten needs a fixed size but the input has a variable length; "
                             "use a recurrent layer or GlobalAveragePooling instead")
        return (math.prod(shape),)
    if t == "Reshape":
        target = tuple(layer["target_shape"])
        if None in shape:
            raise ShapeError(f"Reshape needs a fixed size but its input {list(shape)} has a variable "
                             "length; give input_shape a size, or remove the Reshape")
        if math.prod(target) != math.prod(shape):
            raise ShapeError(f"Reshape to {list(target)} holds {math.prod(target)} values but the "
                             f"input {list(shape)} has {math.prod(shape)}; choose a shape with that many")
        return target
    if t == "Conv2D":
        if len(shape) != 3:
            raise ShapeError(f"Conv2D needs an image (height, width, channels) but gets shape {list(shape)}; "
                             + ("it cannot come after Flatten or Dense: move it before Flatten"
                                if len(shape) == 1 else "add a Reshape to [height, width, channels] first"))
        k, s = _pair(layer["kernel_size"]), _pair(layer["strides"])
        out = tuple(_conv_length(shape[i], k[i], s[i], layer["padding"]) for i in range(2))
        if any(o is not None and o < 1 for o in out):
            raise ShapeError(f"Conv2D's kernel {list(k)} is larger than its {list(shape[:2])} input; "
                             "use a smaller kernel_size or padding 'same'")
        return out + (layer["filters"],)
    if t == "Conv1D":
        if len(shape) != 2:
            raise ShapeError(f"Conv1D needs a sequence (steps, channels) but gets shape {list(shape)}; "
                             "use it on sequence data, before Flatten")
        length = _conv_length(shape[0], layer["kernel_size"], layer["strides"], layer["padding"])
        if length is not None and length < 1:
            raise ShapeError(f"Conv1D's kernel {layer['kernel_size']} is longer than the {shape[0]} steps; "
                             "use a smaller kernel_size or padding 'same'")
        return (length, layer["filters"])
    if t in ("MaxPooling2D", "AveragePooling2D"):
        return _pool_output(layer, shape, t)
    if t == "GlobalAveragePooling2D":
        if len(shape) != 3:
            raise ShapeError(f"GlobalAveragePooling2D needs an image (height, width, channels) but gets "
                             f"shape {list(shape)}")
        return (shape[2],)
    if t in RECURRENT:
        return _recurrent_output(layer, shape)
    if t == "Bidirectional":
        inner = _recurrent_output(complete(layer["layer"]), shape)
        if layer["merge_mode"] == "concat":
            return inner[:-1] + (inner[-1] * 2,)
        return inner
    if t == "Embedding":
        if len(shape) != 1:
            raise ShapeError(f"Embedding reads a list of word ids but gets shape {list(shape)}; "
                             "use it first, on text data")
        return shape + (layer["output_dim"],)
    raise ShapeError(f"unknown layer type {t!r}")


def _gru_params(units: int, inputs: int) -> int:
    # Keras's GRU defaults to reset_after=True: two bias vectors of 3 * units.
    return 3 * units * (inputs + units) + 6 * units


def param_count(layer: dict, shape: tuple) -> int:
    """How many weights `layer` holds on a per-sample input `shape`, as Keras's
    `count_params()` counts them (BatchNormalization's moving statistics included).

        >>> param_count({"type": "Dense", "units": 4}, (2,))
        12
    """
    layer = complete(layer)
    t = layer["type"]
    inputs = shape[-1] if shape and shape[-1] is not None else 0
    bias = 1 if layer.get("use_bias", True) else 0
    if t == "Dense":
        return (inputs + bias) * layer["units"]
    if t == "Conv2D":
        kh, kw = _pair(layer["kernel_size"])
        return (kh * kw * inputs + bias) * layer["filters"]
    if t == "Conv1D":
        return (layer["kernel_size"] * inputs + bias) * layer["filters"]
    if t == "SimpleRNN":
        return layer["units"] * (inputs + layer["units"] + 1)
    if t == "LSTM":
        return 4 * layer["units"] * (inputs + layer["units"] + 1)
    if t == "GRU":
        return _gru_params(layer["units"], inputs)
    if t == "Bidirectional":
        return 2 * param_count(layer["layer"], shape)
    if t == "Embedding":
        return layer["input_dim"] * layer["output_dim"]
    if t == "BatchNormalization":
        return 4 * inputs   # gamma, beta, moving mean and variance
    return 0
