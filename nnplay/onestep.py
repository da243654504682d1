"""One step of training, in numbers: for the next mini-batch of a tiny Dense network, the
forward pass (each layer's pre-activation z = h·W + b and activation a = f(z)), the loss, the
backward pass (every weight's and bias's gradient, from tf.GradientTape on the real model's
variables, and the chain rule written out for one weight) and the optimizer's update.

The numbers are Keras's own: the batch is the one the job trains on next (the engine's
shuffle), the loss is the one it trains with (`engine.built.loss`, the mask and the
regularization penalties as the engine adds them), the model's output is checked against
`model(x, training=True)`. For plain SGD the new value is exact (w - lr·g); momentum SGD too
(m = μ·m - lr·g; w + m); other optimizers show their formula with their state.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

MAX_UNITS = 8          # neurons per layer (and inputs) the view writes out
ACTIVATION_SLOPES = {"sigmoid": "a·(1 − a)", "tanh": "1 − a²", "relu": "1 if z > 0 else 0",
                     "linear": "1"}


# Keras optimizers' per-variable state lists, by the name a student reads
SLOT_NAMES = {"momentums": "momentum", "velocities": "velocity", "accumulators": "accumulator",
              "velocity_hats": "velocity_hat", "accumulated_grads": "accumulated_grad",
              "accumulated_delta_vars": "accumulated_delta", "linears": "linear"}


class NotTiny(ValueError):
    """The model is not a small stack of Dense layers: its step is not written out."""


@dataclass
class LayerNumbers:
    name: str
    activation: str
    kernel: np.ndarray            # (inputs, units), before the update
    bias: np.ndarray              # (units,)
    z: np.ndarray                 # (batch, units) pre-activation h·W + b
    a: np.ndarray                 # (batch, units) activation f(z)
    grad_kernel: np.ndarray
    grad_bias: np.ndarray
    kernel_path: str = ""
    bias_path: str = ""


@dataclass
class StepNumbers:
    x: np.ndarray                 # (batch, inputs) as the model reads them
    y: np.ndarray
    mask: np.ndarray              # 1 for real rows, 0 for the last batch's repeats
    batch_indices: np.ndarray     # rows of the training split
    epoch: int                    # the epoch (0-based) and batch within it
    batch: int
    loss: float                   # what is differentiated: data loss + penalties
    data_loss: float
    penalty: float
    loss_name: str
    layers: list[LayerNumbers]
    learning_rate: float
    optimizer: str
    formula: str
    updates: list[dict] = field(default_factory=list)   # per variable: path, old, grad, step, new
    chain: dict = field(default_factory=dict)            # one weight's chain rule, with numbers


def check_tiny(model) -> None:
    """Raise NotTiny unless the model is Dense layers only, each of at most MAX_UNITS neurons
    on at most MAX_UNITS inputs."""
    layers = model.layers
    if not layers or any(type(l).__name__ != "Dense" for l in layers):
        raise NotTiny("One step is written out for stacks of Dense layers only (as the toy "
                      "networks are); this model has other layers.")
    widest = max([int(model.inputs[0].shape[-1])] + [int(l.units) for l in layers])
    if widest > MAX_UNITS or len(model.inputs[0].shape) != 2:
        raise NotTiny(f"One step is written out for networks of at most {MAX_UNITS} inputs "
                      f"and {MAX_UNITS} neurons per layer; this one has a layer of {widest}.")


def next_batch(engine) -> tuple[np.ndarray, np.ndarray]:
    """(indices, mask) of the batch the engine trains on next: its `_batch_indices` rule read
    from outside the graph (at the start of an epoch, the epoch's shuffle is drawn the way
    the engine draws it)."""
    bs, n, pos = engine.batch_size, engine.n, int(engine.pos_var.numpy())
    perm = _epoch_shuffle(engine) if pos == 0 else engine.perm.numpy()
    start = pos * bs + np.arange(bs)
    return perm[np.minimum(start, n - 1)], (start < n).astype(np.float32)


def _epoch_shuffle(engine) -> np.ndarray:
    """The permutation the engine draws at the start of its current epoch. Drawn where the
    engine's next call draws it: eagerly before its first call, else in a function compiled
    as the engine's is (XLA picks another random algorithm than eager TensorFlow)."""
    import tensorflow as tf

    def draw(seed, epoch):
        pair = tf.stack([tf.cast(seed, tf.int64), epoch])
        return tf.argsort(tf.random.stateless_uniform([engine.n], seed=pair))
    if engine.step > 0:
        draw = tf.function(draw, jit_compile=engine._xla_compatible())
    return draw(tf.constant(engine.train.seed, tf.int64), engine.epoch_var.value()).numpy()


def compute(model, loss_fn, x, y, mask, *, batch_size: int, learning_rate: float,
            optimizer=None) -> dict:
    """Forward, loss and backward on one batch, as the engine's `_train_batch` computes them
    (without applying anything). Returns plain numpy values."""
    import tensorflow as tf
    check_tiny(model)
    x, y, mask = tf.constant(x), tf.constant(y), tf.constant(mask)
    with tf.GradientTape(persistent=True) as tape:
        h, zs, acts = x, [], []
        for layer in model.layers:          # the forward pass, layer by layer
            z = tf.matmul(h, layer.kernel) + layer.bias
            h = layer.activation(z)
            zs.append(z)
            acts.append(h)
        data_loss = loss_fn(y, h, sample_weight=mask) * (batch_size / tf.reduce_sum(mask))
        penalty = tf.add_n(model.losses) if model.losses else tf.constant(0.0)
        total = data_loss + penalty
    reference = model(x, training=True)
    if not np.allclose(h.numpy(), np.asarray(reference), atol=1e-5):
        raise NotTiny("this model's output is not the plain stack of Dense layers it seems "
                      "to be, so its step is not written out")
    variables = [v for l in model.layers for v in (l.kernel, l.bias)]
    grads = tape.gradient(total, variables)
    d_z = tape.gradient(data_loss, zs[-1])
    del tape
    with tf.GradientTape() as inner:      # f'(z), element by element
        z = tf.identity(zs[-1])
        inner.watch(z)
        a = model.layers[-1].activation(z)
    slope = inner.gradient(a, z).numpy()
    # A sigmoid or softmax into cross-entropy is differentiated from its logits in Keras, so
    # ∂L/∂a is not on the tape: it is ∂L/∂z / f'(z).
    d_a = np.divide(d_z.numpy(), slope, out=np.zeros_like(slope), where=slope != 0)
    layers = []
    for i, layer in enumerate(model.layers):
        layers.append(LayerNumbers(
            layer.name, getattr(layer.activation, "__name__", "linear"),
            layer.kernel.numpy(), layer.bias.numpy(), zs[i].numpy(), acts[i].numpy(),
            grads[2 * i].numpy(), grads[2 * i + 1].numpy(), layer.kernel.path, layer.bias.path))
    inputs = acts[-2].numpy() if len(acts) > 1 else x.numpy()
    return {"layers": layers, "loss": float(total), "data_loss": float(data_loss),
            "penalty": float(penalty),
            "chain": _chain(layers[-1], inputs, d_a, slope, d_z.numpy(), grads[-2].numpy()),
            "updates": _updates(variables, grads, learning_rate, optimizer)}


def _chain(last: LayerNumbers, inputs: np.ndarray, d_a, slope, d_z, grad_kernel) -> dict:
    """The chain rule for the last layer's first weight, w = W[0, 0] (input 1 → neuron 1):
    ∂L/∂w = Σ_i ∂L/∂a_i · f'(z_i) · h_i, with each example's numbers."""
    return {"layer": last.name, "activation": last.activation,
            "slope_rule": ACTIVATION_SLOPES.get(last.activation, "f'(z)"),
            "d_loss_d_a": d_a[:, 0], "slope": slope[:, 0], "delta": d_z[:, 0], "input": inputs[:, 0],
            "terms": d_z[:, 0] * inputs[:, 0], "sum": float((d_z[:, 0] * inputs[:, 0]).sum()),
            "gradient": float(grad_kernel[0, 0])}


def _slots(optimizer, variable) -> dict:
    """The optimizer's state for `variable` (momentum, velocity, ...), by slot name."""
    if optimizer is None or not getattr(optimizer, "built", False):
        return {}
    try:
        index = optimizer._get_variable_index(variable)
    except (KeyError, AttributeError):
        return {}
    found = {}
    for attr, value in vars(optimizer).items():
        name = SLOT_NAMES.get(attr.strip("_"))
        if name and isinstance(value, list) and len(value) > index and hasattr(value[index], "numpy"):
            found[name] = np.array(value[index].numpy())
    return found


STEP_CHANGING_OPTIONS = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm",
                         "gradient_accumulation_steps", "ema_overwrite_frequency")


def _step_changed(optimizer) -> bool:
    """True when an optimizer argument makes a step differ from the plain rule (decayed,
    clipped, accumulated or overwritten by a moving average)."""
    return any(getattr(optimizer, name, None) for name in STEP_CHANGING_OPTIONS)


def _updates(variables, grads, learning_rate: float, optimizer) -> list[dict]:
    """Per variable: old value, gradient, the step the optimizer takes and the new value
    (exact for SGD, with or without momentum; None for others)."""
    kind = type(optimizer).__name__ if optimizer is not None else "SGD"
    if kind == "SGD" and _step_changed(optimizer):
        kind = "SGD with options"    # weight decay, clipping, ...: no formula here
    momentum = float(getattr(optimizer, "momentum", 0.0) or 0.0) if kind == "SGD" else 0.0
    nesterov = bool(getattr(optimizer, "nesterov", False))
    out = []
    for v, g in zip(variables, grads):
        old, g = v.numpy(), g.numpy()
        state = _slots(optimizer, v)
        lr_g = (np.float32(learning_rate) * g).astype(np.float32)
        if kind == "SGD" and momentum == 0:
            step, new = -lr_g, old - lr_g
        elif kind == "SGD" and not nesterov:
            step = np.float32(momentum) * state.get("momentum", np.zeros_like(old)) - lr_g
            new = old + step
        else:
            step, new = None, None
        out.append({"path": v.path, "old": old, "grad": g, "lr_grad": lr_g, "step": step,
                    "new": new, "state": state})
    return out


def formula(optimizer, learning_rate: float) -> str:
    """The optimizer's update rule, in Keras's own form, with its settings (and the
    arguments that change a step, such as weight decay or clipping, named after it)."""
    config = optimizer.get_config() if optimizer is not None else {}
    extras = [f"{name} {config[name]:g}" for name in STEP_CHANGING_OPTIONS if config.get(name)]
    return _rule(optimizer, learning_rate, config) + (
        f"; with {', '.join(extras)}, as Keras applies them" if extras else "")


def _rule(optimizer, learning_rate: float, config: dict) -> str:
    kind = type(optimizer).__name__ if optimizer is not None else "SGD"
    lr = f"{learning_rate:g}"
    momentum = float(config.get("momentum", 0.0) or 0.0)
    if kind == "SGD" and momentum == 0:
        return f"w ← w − lr·g, with lr = {lr}"
    if kind == "SGD":
        return (f"m ← μ·m − lr·g;  w ← w + m, with μ = {momentum:g}, lr = {lr}"
                + (" (Nesterov: w ← w + μ·m − lr·g)" if config.get("nesterov") else ""))
    b1, b2, eps = config.get("beta_1"), config.get("beta_2"), config.get("epsilon")
    rules = {
        "Adam": f"m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  "
                f"w ← w − lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε), with β₁ = {b1}, β₂ = {b2}, "
                f"ε = {eps}, lr = {lr}",
        "RMSprop": f"v ← ρ·v + (1 − ρ)·g²;  w ← w − lr·g / (√v + ε), with ρ = {config.get('rho')}, "
                   f"ε = {eps}, lr = {lr}" + (f", momentum {config.get('momentum')}"
                                              if config.get("momentum") else ""),
        "Adagrad": f"s ← s + g²;  w ← w − lr·g / (√s + ε), with ε = {eps}, lr = {lr}",
        "Adamax": f"m ← β₁·m + (1 − β₁)·g;  u ← max(β₂·u, |g|);  w ← w − lr/(1 − β₁ᵗ) · m / (u + ε), "
                  f"with β₁ = {b1}, β₂ = {b2}, lr = {lr}",
        "Nadam": f"Adam with Nesterov momentum: m and v as Adam's, the step looks one m ahead "
                 f"(β₁ = {b1}, β₂ = {b2}, ε = {eps}, lr = {lr})",
        "Adadelta": f"v ← ρ·v + (1 − ρ)·g²;  Δ = √(d + ε)/√(v + ε) · g;  d ← ρ·d + (1 − ρ)·Δ²;  "
                    f"w ← w − lr·Δ, with ρ = {config.get('rho')}, lr = {lr}",
        "Ftrl": f"follow-the-regularized-leader: per-weight accumulators n (Σg²) and z set w "
                f"(lr = {lr}, lr_power = {config.get('learning_rate_power')})",
    }
    return rules.get(kind, f"{kind} (lr = {lr})")


def for_job(job) -> StepNumbers:
    """The next step of a job training in this process (paused or running), in numbers.
    Raises NotTiny for a model too big or not plain Dense, LookupError when the job has no
    engine here (not built yet, let go, or training on another machine)."""
    engine = getattr(job, "engine", None)
    if engine is None or not hasattr(engine, "pos_var"):
        raise LookupError("One step needs the job training in this app (start it on the Train "
                          "page; a saved run has no next step)")
    check_tiny(engine.model)
    idx, mask = next_batch(engine)
    ds = job.dataset
    x, y = ds.x_train[idx], ds.y_train[idx]
    lr = engine.current_learning_rate
    optimizer = engine.built.optimizer
    numbers = compute(engine.model, engine.built.loss, x, y, mask, batch_size=engine.batch_size,
                      learning_rate=lr, optimizer=optimizer)
    return StepNumbers(x=x, y=y, mask=mask, batch_indices=idx, epoch=engine.epoch,
                       batch=int(engine.pos_var.numpy()), loss_name=type(engine.built.loss).__name__,
                       learning_rate=lr, optimizer=type(optimizer).__name__,
                       formula=formula(optimizer, lr), **numbers)


def steps_taken(job) -> int:
    """Batches the job has trained on so far (the engine's global step)."""
    engine = getattr(job, "engine", None)
    return int(engine.step) if engine is not None else 0


def take_step(job, timeout: float = 30.0) -> bool:
    """Advance the real job by one mini-batch and wait (polling, up to `timeout` seconds)
    until it has trained on it and paused again. False if it did not in time."""
    import time
    before = steps_taken(job)
    job.step(batches=1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if steps_taken(job) > before and job.progress()[0] == "paused" or not job.alive:
            return True
        time.sleep(0.02)
    return False


def is_tiny(model) -> bool:
    try:
        check_tiny(model)
    except NotTiny:
        return False
    return True


def wait_paused(job, timeout: float = 10.0) -> bool:
    """Poll until a paused job has finished its current chunk and says "paused"."""
    import time
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if job.progress()[0] == "paused" or not job.alive:
            return True
        time.sleep(0.02)
    return False
