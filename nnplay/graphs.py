"""Training graphs traced once and shared by engines that train the same thing.

A class pressing Train on the teacher's link builds sixteen copies of one model. Tracing a
copy's training graph takes ~0.2 s of the server's one Python interpreter, and its eager
first epoch (run so that the student sees a point before the trace) another ~0.2 s: the
last student's first point waited behind fifteen of each. A traced graph reads and writes
its state only through what it captured: the resource handles of the model's, optimizer's,
metrics' and engine's variables, and the data tensors. Called with another engine's handles
in their place (the same model, optimizer and metrics, their variables created in the same
order), the one graph trains that engine exactly as its own trace would (`test_engine`
checks the histories match), and from its very first epoch.

    graph = graphs.trace(key, engine._run_steps, [tf.TensorSpec([], tf.int32)], state, nbytes)
    rows, count = graph([n], state)        # any engine with this key passes its own state

`key` says what the trace baked in (the model's, optimizer's, loss's and metrics' configs,
the training spec, the data's shapes, XLA or not; `Engine._graph_key`). A graph is shared only
when every capture is a known piece of the tracer's state, and only while that state is
small (SHARED_MAX_BYTES: a shared graph keeps its tracer's variables and data alive); the
registry keeps the SHARED_MAX most recently used. Anything else is traced for its engine
alone, as before.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import tensorflow as tf
from tensorflow.python.eager import context

SHARED_MAX = 16                # graphs kept for sharing (least recently used dropped): a
                               # spec's training and predict graphs, for 8 specs
SHARED_MAX_BYTES = 8 << 20     # the captured state a shared graph may keep alive


class Graph:
    """A traced function and, for each of its captures, the index of the piece of state it
    stands for (None: the graph is its tracer's alone and runs on its own captures)."""

    def __init__(self, concrete, index: list[int] | None):
        self.concrete, self.index = concrete, index

    @property
    def shared(self) -> bool:
        return self.index is not None

    def __call__(self, args: list, state: list):
        ctx = context.context()
        before = ctx.function_call_options   # this thread's: other threads' calls keep theirs
        ctx.function_call_options = _plain_options()
        try:
            if self.index is None:
                return self.concrete(*args)
            return self.concrete._call_flat(list(args), [state[i] for i in self.index])
        finally:
            ctx.function_call_options = before


def _plain_options():
    """Call options without Grappler's graph rewrites. Rewritten, a graph's float rounding
    differs from the eager first epoch's (6e-8 after two epochs), so one spec and seed drew
    two curves depending on whether its run shared a trace; plain, eager and graph agree
    bit for bit. Measured side by side it cost nothing (toy MLP 0.29 -> 0.22 s for 100
    epochs, digits CNN and a 60,000-row MLP within noise), and a shared graph's first call on
    new variables takes 0.03 s instead of 0.1 s."""
    global _PLAIN
    if _PLAIN is None:
        config = context.context().config
        config.allow_soft_placement = True     # what TensorFlow's own default options set
        config.graph_options.rewrite_options.disable_meta_optimizer = True
        _PLAIN = context.FunctionCallOptions(config_proto=config)
    return _PLAIN


_PLAIN = None


_lock = threading.Lock()
_graphs: OrderedDict = OrderedDict()     # key -> Graph, most recently used last
_tracing: dict = {}                      # key -> the lock its first tracer holds


def lookup(key: str) -> Graph | None:
    """The shared graph traced for `key`, if an engine traced it already."""
    with _lock:
        graph = _graphs.get(key)
        if graph is not None:
            _graphs.move_to_end(key)
        return graph


def trace(key: str, function, specs: list, state: list, state_bytes: int,
          jit_compile: bool = False) -> Graph:
    """The graph for `key`: the shared one if there is one, else `function` traced for
    `specs`, then shared if it can be (`state_bytes`: the size of `state`). Engines tracing one key at once wait for the first
    (waiting costs no CPU; a second trace would cost the class another 0.2 s)."""
    with _lock:
        lock = _tracing.setdefault(key, threading.Lock())
    with lock:
        try:
            found = lookup(key)
            if found is not None:
                return found
            concrete = tf.function(function, jit_compile=jit_compile).get_concrete_function(*specs)
            index = _capture_index(concrete.captured_inputs, state)
            graph = Graph(concrete, index)
            if index is not None and state_bytes <= SHARED_MAX_BYTES:
                _share(key, graph)
            return Graph(concrete, None)   # the tracer runs on its own captures either way
        finally:
            with _lock:
                if key not in _graphs:
                    _tracing.pop(key, None)


def _capture_index(captures: list, state: list) -> list[int] | None:
    """Where each capture sits in `state`, matched by identity; None if any is unknown."""
    where = {id(t): i for i, t in enumerate(state)}
    index = [where.get(id(c)) for c in captures]
    return None if None in index else index


def _share(key: str, graph: Graph):
    with _lock:
        _graphs[key] = graph
        while len(_graphs) > SHARED_MAX:
            old, _ = _graphs.popitem(last=False)
            _tracing.pop(old, None)


def clear():
    """Forget every shared graph (tests; the memory they keep is then the tracers' again)."""
    with _lock:
        _graphs.clear()
        _tracing.clear()
