"""Compiled training: one tf.function runs a chunk of batches per call.

`model.fit()` spends tens of milliseconds of Python per epoch; a toy network then trains at
~10 epochs/s. Here one graph call runs many batches (crossing epoch boundaries as needed),
computes train metrics, validation metrics, per-variable gradient norms and early stopping
inside the graph, and returns one small row per finished epoch. The chunk size adapts so a
call takes ~30 ms, which keeps pause and stop immediate.

    eng = Engine(build(exp, ds.info), ds, exp.train)
    rows = eng.run_chunk()            # list of {"epoch", "loss", "accuracy", "val_loss", ...}

Everything Keras gives still applies: model(x, training=True) runs dropout, batch norm and
augmentation layers in training mode, `model.losses` adds the regularization penalties, and
the optimizer (with its schedule) is Keras's own.
"""
from __future__ import annotations

import dataclasses
import json
import math
import time

import numpy as np
import tensorflow as tf

from . import graphs
from .build import Built, is_logits, output_kind, xla_compatible
from .data import Dataset
from .spec import EARLY_STOPPING_DEFAULTS, TrainSpec, higher_is_better

TARGET_CALL_SECONDS = 0.03
EVAL_BATCH = 1024
EAGER_STEPS = 64          # the first call (eager unless the graph is shared) runs at most this many batches
MAX_ROWS = 256            # epochs one call may finish (the chunk is capped to fit)


def _mode(monitor: str) -> float:
    """+1 when a larger value of `monitor` is better, -1 when smaller is."""
    return 1.0 if higher_is_better(monitor) else -1.0


def _no_replica_reduce(optimizer):
    """Skip Keras's all-reduce of the gradients over replicas: the engine trains on one
    replica, where it changes nothing, and in a traced graph it registers a `custom_gradient`
    in TensorFlow's global gradient registry that is never removed and keeps the whole traced
    graph alive (~1 MB a job, for as long as the process lives)."""
    optimizer._all_reduce_sum_gradients = lambda grads_and_vars: list(grads_and_vars)


class Engine:
    """Trains `built.model` on `dataset` as `train` says, one compiled chunk at a time."""

    def __init__(self, built: Built, dataset: Dataset, train: TrainSpec):
        self.built, self.model, self.train = built, built.model, train
        self.metrics = built.metrics
        self.val_metrics = [type(m).from_config(m.get_config()) for m in built.metrics]
        self.x = tf.constant(dataset.x_train)
        self.y = tf.constant(dataset.y_train)
        self.x_val = tf.constant(dataset.x_val)
        self.y_val = tf.constant(dataset.y_val)
        self.x_test, self.y_test = dataset.x_test, dataset.y_test
        self.n = int(dataset.x_train.shape[0])
        self.has_val = int(dataset.x_val.shape[0]) > 0
        self.batch_size = min(train.batch_size, self.n)
        self.steps_per_epoch = math.ceil(self.n / self.batch_size)
        self.total_steps = train.epochs * self.steps_per_epoch
        self.step = 0                      # global step, mirrored from the graph
        self.chunk = max(1, min(self.steps_per_epoch, 8))
        self.compiled_calls = 0
        self.names = self._names()
        self.logits = is_logits(train, built.task, output_kind(self.model)[1])
        self.grad_names = [v.path for v in self.model.trainable_variables]
        self._init_state()
        _no_replica_reduce(built.optimizer)
        if not built.optimizer.built:   # its slots exist before any graph: a shared one uses them
            built.optimizer.build(self.model.trainable_variables)
        self.xla = self._xla_compatible()
        self._state = self._state_tensors()
        self._key = self._graph_key()
        self._graph = None                 # the compiled training graph (graphs.trace)
        self._eval = tf.function(self._evaluate, reduce_retracing=True)
        self._predict_graphs: dict = {}    # input TensorSpec -> Graph (graphs.trace)

    def _xla_compatible(self) -> bool:
        """XLA cannot compile the image transform behind rotation, zoom and translation
        augmentation (ImageProjectiveTransformV3); those runs use a plain graph. So do runs
        too short to pay for compiling, as the host sets (`config.xla_min_batches`)."""
        from . import config
        if self.total_steps < config.xla_min_batches():
            return False
        return xla_compatible(self.model)

    # ---- names and state -----------------------------------------------------------------
    def _names(self) -> list[str]:
        train = ["loss"] + [m.name for m in self.metrics]
        return train + (["val_" + n for n in train] if self.has_val else [])

    def _init_state(self):
        es = self.train.early_stopping
        self.early = {**EARLY_STOPPING_DEFAULTS, **es} if es else None
        if self.early and self.early["monitor"] not in self.names:
            fallback = self.early["monitor"].removeprefix("val_")
            self.early["monitor"] = fallback if fallback in self.names else "loss"
        monitor = self.early["monitor"] if self.early else ("val_loss" if self.has_val else "loss")
        self.monitor_index = self.names.index(monitor)
        self.monitor_sign = _mode(monitor)
        n_vars = len(self.model.trainable_variables)
        v = lambda value, dtype=tf.float32: tf.Variable(value, dtype=dtype, trainable=False)
        self.epoch_var = v(0, tf.int64)
        self.pos_var = v(0, tf.int64)
        self.perm = tf.Variable(tf.range(self.n, dtype=tf.int32), trainable=False)
        self.loss_sum, self.seen = v(0.0), v(0.0)
        self.grad_sum = v(tf.zeros([n_vars]))
        self.best, self.best_epoch_var, self.wait = v(-np.inf), v(-1, tf.int64), v(0, tf.int64)
        self.stop_flag = v(False, tf.bool)
        self.rows_buf = v(tf.zeros([MAX_ROWS, len(self.names) + n_vars]))
        weights = self.model.weights
        self.best_weights = [tf.Variable(w.value, trainable=False) for w in weights] \
            if self.early and self.early["restore_best_weights"] else []

    def _state_tensors(self) -> list:
        """Everything a training graph captures, in creation order: the handles of the model's,
        optimizer's and metrics' variables and of the engine's own, then the data. Two engines
        of one key list theirs alike, so one graph can run on either (`nnplay.graphs`)."""
        keras_vars = list(self.model.variables) + list(self.built.optimizer.variables)
        for m in self.metrics + self.val_metrics:
            keras_vars += m.variables
        own = [self.epoch_var, self.pos_var, self.perm, self.loss_sum, self.seen, self.grad_sum,
               self.best, self.best_epoch_var, self.wait, self.stop_flag, self.rows_buf,
               *self.best_weights]
        variables = [v.value for v in keras_vars] + own
        self._state_bytes = sum(v.shape.num_elements() * v.dtype.size for v in variables) + sum(
            t.shape.num_elements() * t.dtype.size for t in (self.x, self.y, self.x_val, self.y_val))
        return [v.handle for v in variables] + [self.x, self.y, self.x_val, self.y_val]

    def _graph_key(self) -> str:
        """What a trace of `_run_steps` bakes in: engines with equal keys can share it."""
        loss = self.built.loss
        optimizer = {k: v for k, v in self.built.optimizer.get_config().items()
                     if k != "name"}   # Keras numbers its optimizers: sgd, sgd_1, ...
        parts = {"model": self.model.get_config(), "optimizer": optimizer,
                 "loss": [type(loss).__name__, getattr(loss, "get_config", dict)()],
                 "metrics": [[type(m).__name__, m.get_config()] for m in self.metrics],
                 "train": {k: v for k, v in dataclasses.asdict(self.train).items()
                           if k != "epochs"},    # the graph never reads them
                 "xla": self.xla,
                 "data": [(t.shape.as_list(), t.dtype.name)
                          for t in (self.x, self.y, self.x_val, self.y_val)]}
        return json.dumps(parts, sort_keys=True, default=repr)

    # ---- the graph -----------------------------------------------------------------------
    def _train_batch(self, xb, yb, mask):
        with tf.GradientTape() as tape:
            pred = self.model(xb, training=True)
            loss = self.built.loss(yb, pred, sample_weight=mask) * (self.batch_size / tf.reduce_sum(mask))
            total = loss + tf.add_n(self.model.losses) if self.model.losses else loss
        variables = self.model.trainable_variables
        grads = tape.gradient(total, variables)
        self.built.optimizer.apply_gradients(zip(grads, variables))
        count = tf.reduce_sum(mask)
        self.loss_sum.assign_add(tf.cast(total, tf.float32) * count)
        self.seen.assign_add(count)
        self.grad_sum.assign_add(tf.stack([tf.norm(tf.cast(g, tf.float32)) for g in grads]))
        for m in self.metrics:
            m.update_state(yb, pred, sample_weight=mask)

    def _evaluate(self, x, y):
        """Mean loss and metric values over (x, y) in batches, training=False."""
        for m in self.val_metrics:
            m.reset_state()
        n = int(x.shape[0])
        loss_sum = tf.constant(0.0)
        for start in range(0, n, EVAL_BATCH):  # unrolled: static shapes for XLA
            xb, yb = x[start:start + EVAL_BATCH], y[start:start + EVAL_BATCH]
            pred = self.model(xb, training=False)
            loss_sum += tf.cast(self.built.loss(yb, pred), tf.float32) * tf.cast(tf.shape(xb)[0], tf.float32)
            for m in self.val_metrics:
                m.update_state(yb, pred)
        reg = tf.add_n(self.model.losses) if self.model.losses else 0.0
        loss = loss_sum / max(n, 1) + tf.cast(reg, tf.float32)
        return tf.stack([loss] + [tf.cast(m.result(), tf.float32) for m in self.val_metrics])

    def _epoch_row(self):
        """Train metrics of the epoch just finished, validation metrics, mean grad norms."""
        train = [self.loss_sum / tf.maximum(self.seen, 1.0)] + \
                [tf.cast(m.result(), tf.float32) for m in self.metrics]
        values = tf.stack(train)
        if self.has_val:
            values = tf.concat([values, self._evaluate(self.x_val, self.y_val)], 0)
        grads = self.grad_sum / float(self.steps_per_epoch)
        self.loss_sum.assign(0.0)
        self.seen.assign(0.0)
        self.grad_sum.assign(tf.zeros_like(self.grad_sum))
        for m in self.metrics:
            m.reset_state()
        return tf.concat([values, grads], 0)

    def _track_best(self, values):
        """Early stopping in the graph: remember the best epoch (and its weights)."""
        score = values[self.monitor_index] * self.monitor_sign
        min_delta = float(self.early["min_delta"]) if self.early else 0.0
        if score > self.best + min_delta:
            self.best.assign(score)
            self.best_epoch_var.assign(self.epoch_var)
            self.wait.assign(0)
            for copy, w in zip(self.best_weights, self.model.weights):
                copy.assign(w.value)
        else:
            self.wait.assign_add(1)
            if self.early is not None and self.wait >= int(self.early["patience"]):
                self.stop_flag.assign(True)

    def _batch_indices(self):
        """Indices of the next batch, always batch_size long (static shapes for XLA); the
        last batch of an epoch repeats its final index and masks the repeats out."""
        bs = self.batch_size
        if self.pos_var == 0:
            seed = tf.stack([tf.cast(self.train.seed, tf.int64), self.epoch_var])
            self.perm.assign(tf.argsort(tf.random.stateless_uniform([self.n], seed=seed)))
        start = tf.cast(self.pos_var, tf.int32) * bs + tf.range(bs)
        mask = tf.cast(start < self.n, tf.float32)
        return tf.gather(self.perm, tf.minimum(start, self.n - 1)), mask

    def _run_steps(self, n_steps):
        rows_written = tf.constant(0)
        i = tf.constant(0)
        # A while loop, not tf.range: XLA would treat the range's length as a compile-time
        # constant and recompile for every chunk size.
        while i < n_steps and not self.stop_flag:
            i += 1
            idx, mask = self._batch_indices()
            self._train_batch(tf.gather(self.x, idx), tf.gather(self.y, idx), mask)
            self.pos_var.assign_add(1)
            if self.pos_var == self.steps_per_epoch:
                row = self._epoch_row()
                self._track_best(row)
                self.rows_buf.scatter_nd_update([[rows_written]], [row])
                rows_written += 1
                self.pos_var.assign(0)
                self.epoch_var.assign_add(1)
        return self.rows_buf.value(), rows_written

    # ---- the Python side -------------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return int(self.epoch_var.numpy())

    @property
    def done(self) -> bool:
        return self.epoch >= self.train.epochs or bool(self.stop_flag.numpy())

    @property
    def stopped_early(self) -> bool:
        return bool(self.stop_flag.numpy())

    @property
    def best_epoch(self) -> int:
        """1-based epoch with the best monitored value so far (0 before any epoch)."""
        return int(self.best_epoch_var.numpy()) + 1

    def _rows(self, array: np.ndarray, first_epoch: int) -> list[dict]:
        k = len(self.names)
        return [{"epoch": first_epoch + i + 1,
                 **{n: float(v) for n, v in zip(self.names, r[:k])},
                 "grad_norms": [float(g) for g in r[k:]]}
                for i, r in enumerate(array)]

    def run_chunk(self, max_steps: int | None = None) -> list[dict]:
        """Run up to one adaptive chunk of batches; return a row per epoch that finished."""
        remaining = (self.train.epochs - self.epoch) * self.steps_per_epoch - int(self.pos_var.numpy())
        n = min(self.chunk, remaining, max_steps or remaining)
        if n <= 0 or self.stopped_early:
            return []
        first_epoch = self.epoch
        t0 = time.perf_counter()
        # The first call finishes the first epoch (up to EAGER_STEPS batches), eagerly unless
        # another engine traced this graph already: the student sees a point in well under a
        # second instead of waiting for tracing (~0.2 s; ~1.4 s with XLA), done next call.
        # XLA rounds differently from eager (7e-4 in the loss after 30 epochs), so under XLA
        # every run's first epoch is eager: one spec and seed, one curve.
        if self.step == 0:
            n = min(remaining, max_steps or remaining, self.steps_per_epoch, EAGER_STEPS)
        eager = self.step == 0 and (self.xla or not self.shares_graph())
        if eager:
            buf, count = self._run_steps(tf.constant(n, tf.int32))
        else:
            buf, count = self._compiled(tf.constant(n, tf.int32))
        out = buf.numpy()[:int(count)]
        took = time.perf_counter() - t0
        self.step += n
        if not eager:
            self._adapt(n, took)
        self.compiled_calls += not eager
        return self._rows(out, first_epoch)

    def shares_graph(self) -> bool:
        """Whether this engine runs a graph another engine traced (found on first asking)."""
        if self._graph is None:
            self._graph = graphs.lookup(self._key)
        return self._graph is not None and self._graph.shared

    def _compiled(self, n):
        if self._graph is None:
            self._graph = graphs.trace(self._key, self._run_steps, [tf.TensorSpec([], tf.int32)],
                                       self._state, self._state_bytes, jit_compile=self.xla)
        return self._graph([n], self._state)

    def _adapt(self, n: int, took: float):
        """Aim the next call at TARGET_CALL_SECONDS (tracing makes the first call slow)."""
        if self.compiled_calls == 0:  # this call traced and compiled: its time says nothing
            return
        per_step = max(took / n, 1e-6)
        want = int(TARGET_CALL_SECONDS / per_step)
        self.chunk = max(1, min(want, self.chunk * 4, (MAX_ROWS - 1) * self.steps_per_epoch))

    def run_epoch(self) -> list[dict]:
        """Finish the current epoch (the Step button)."""
        return self.run_epochs(1)

    def run_epochs(self, count: int) -> list[dict]:
        """Finish the current epoch and `count` - 1 more (fewer at the end or on early
        stopping), in as few calls as the chunk allows: a row per epoch, as epoch by epoch."""
        rows: list[dict] = []
        while len(rows) < count and not self.done:
            left = (count - len(rows)) * self.steps_per_epoch - int(self.pos_var.numpy())
            rows += self.run_chunk(max_steps=left)
        return rows

    def restore_best(self) -> bool:
        """Put the best epoch's weights back (early stopping with restore_best_weights)."""
        if not self.best_weights or self.best_epoch < 1:
            return False
        for w, copy in zip(self.model.weights, self.best_weights):
            w.assign(copy)
        return True

    def evaluate(self, x: np.ndarray, y: np.ndarray, prefix: str = "") -> dict:
        """Loss and metrics on (x, y) with the current weights, named with `prefix`."""
        if len(x) == 0:
            return {}
        values = self._eval(tf.constant(x), tf.constant(y)).numpy()
        names = ["loss"] + [m.name for m in self.val_metrics]
        return {prefix + n: float(v) for n, v in zip(names, values)}

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Model outputs for x, in batches, with one compiled call per batch."""
        outs = [self._predict_batch(tf.constant(x[i:i + EVAL_BATCH]))
                for i in range(0, len(x), EVAL_BATCH)]
        return np.concatenate(outs) if outs else np.zeros((0,))

    def _predict_batch(self, xb) -> np.ndarray:
        """One batch through the predict graph, traced once for a class's copies of a model
        like the training graph (`nnplay.graphs`): a copy's own trace cost ~0.07 s of the
        server's one interpreter, as much as building the copy, before its first grid."""
        spec = tf.TensorSpec([None, *xb.shape[1:]], xb.dtype)
        graph = self._predict_graphs.get(spec)
        if graph is None:
            graph = self._predict_graphs[spec] = graphs.trace(
                f"{self._key}|predict {spec}", lambda x: self.model(x, training=False),
                [spec], self._state, self._state_bytes)
        return tf.nest.flatten(graph([xb], self._state))[0].numpy()

    def set_learning_rate(self, value: float):
        """Change the learning rate between chunks (refused when a schedule drives it)."""
        if self.train.lr_schedule:
            raise ValueError("a learning-rate schedule sets the rate; remove the schedule to "
                             "change it by hand")
        self.built.optimizer.learning_rate.assign(float(value))

    @property
    def current_learning_rate(self) -> float:
        opt = self.built.optimizer
        lr = opt.learning_rate
        return float(lr.numpy() if hasattr(lr, "numpy") else lr)
