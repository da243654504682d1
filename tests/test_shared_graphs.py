"""One traced training graph for a class's copies of one spec (`nnplay.graphs`): each run
trains its own model, exactly as its own trace would, and nothing else shares."""
import threading

import numpy as np
import pytest

from nnplay import graphs
from nnplay.build import build
from nnplay.data import load
from nnplay.engine import Engine

from conftest import make_exp


def engine(exp, dataset):
    return Engine(build(exp, dataset.info), dataset, exp.train)


def train_all(eng):
    rows = []
    while not eng.done:
        rows += eng.run_chunk()
    return rows


def curve(rows):
    return [{k: v for k, v in r.items()} for r in rows]


def weights(eng):
    return [w.numpy().copy() for w in eng.model.weights]


SPECS = {
    "playground": {"train": {"epochs": 40}},
    "dropout, batch norm, L2": {
        "model": {"layers": [{"type": "Dense", "units": 8, "activation": "relu"},
                             {"type": "BatchNormalization"}, {"type": "Dropout", "rate": 0.3},
                             {"type": "Dense", "units": 4, "activation": "tanh"}]},
        "train": {"epochs": 30, "regularization": {"l2": 0.001}}},
    "adam, schedule, early stopping": {
        "train": {"epochs": 60, "optimizer": "adam", "learning_rate": 0.05,
                  "lr_schedule": {"type": "ExponentialDecay", "decay_steps": 50, "decay_rate": 0.5},
                  "early_stopping": {"monitor": "val_loss", "patience": 3}}},
}


@pytest.mark.parametrize("name", list(SPECS))
def test_runs_of_one_spec_share_one_trace_and_draw_the_same_curve(name):
    exp = make_exp(**SPECS[name])
    data = load(exp.data)
    first = engine(exp, data)
    first_rows = train_all(first)          # eager first epoch, then traces the graph
    first_weights = weights(first)
    second, third = engine(exp, data), engine(exp, data)
    assert not first.shares_graph() and second.shares_graph() and third.shares_graph()
    second_rows = train_all(second)
    assert curve(second_rows) == curve(first_rows)    # bit for bit, not approximately
    for mine, theirs in zip(weights(second), first_weights):
        np.testing.assert_array_equal(mine, theirs)
    assert second.stopped_early == first.stopped_early and second.best_epoch == first.best_epoch
    # each trains its own variables: the first is untouched, the third starts from scratch
    for now, before in zip(weights(first), first_weights):
        np.testing.assert_array_equal(now, before)
    assert third.epoch == 0
    assert curve(train_all(third)) == curve(first_rows)


def test_runs_compiled_with_xla_share_it_and_draw_the_same_curve(monkeypatch):
    monkeypatch.setenv("NNPLAY_XLA_MIN_BATCHES", "0")
    exp = make_exp(train={"epochs": 30})
    data = load(exp.data)
    first = engine(exp, data)
    first_rows = train_all(first)
    second = engine(exp, data)
    assert second.xla and second.shares_graph()
    assert curve(train_all(second)) == curve(first_rows)


def test_a_different_seed_or_layer_is_traced_anew():
    exp = make_exp(train={"epochs": 5})
    data = load(exp.data)
    train_all(engine(exp, data))
    other_seed = make_exp(train={"epochs": 5, "seed": 1})
    wider = make_exp(model={"layers": [{"type": "Dense", "units": 5, "activation": "tanh"}]},
                     train={"epochs": 5})
    for exp2 in (other_seed, wider):
        eng = engine(exp2, data)
        assert not eng.shares_graph()
        assert len(train_all(eng)) == 5


def test_a_class_tracing_together_traces_once(monkeypatch):
    exp = make_exp(train={"epochs": 3})
    data = load(exp.data)
    traced = []
    index = graphs._capture_index
    monkeypatch.setattr(graphs, "_capture_index", lambda *a: traced.append(1) or index(*a))
    engines = [engine(exp, data) for _ in range(4)]
    barrier = threading.Barrier(4)
    rows = {}

    def run(i):
        barrier.wait()
        rows[i] = train_all(engines[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(traced) == 1
    assert all(curve(rows[i]) == curve(rows[0]) for i in range(4))


def test_the_registry_keeps_few_small_graphs(monkeypatch):
    data = load(make_exp().data)
    a, b = make_exp(train={"epochs": 3}), make_exp(train={"epochs": 3, "seed": 7})
    monkeypatch.setattr(graphs, "SHARED_MAX", 1)
    train_all(engine(a, data))
    train_all(engine(b, data))
    assert not engine(a, data).shares_graph()      # dropped: the least recently used
    assert engine(b, data).shares_graph()
    graphs.clear()
    monkeypatch.setattr(graphs, "SHARED_MAX_BYTES", 1000)   # the circle's state is ~17 KB
    train_all(engine(a, data))
    big = engine(a, data)
    assert not big.shares_graph()
    assert len(train_all(big)) == 3


def test_copies_of_a_model_share_its_predict_graph_and_predict_with_their_own_weights():
    # The decision grid of each student's run comes from that run's weights, through the
    # one predict graph the first copy traced.
    exp = make_exp(train={"epochs": 5})
    data = load(exp.data)
    first = engine(exp, data)
    train_all(first)
    x = data.x_train[:300]
    mine = first.predict(x)
    twin = engine(exp, data)                      # untrained: other weights
    theirs = twin.predict(x)
    assert all(g.shared for g in twin._predict_graphs.values())
    np.testing.assert_allclose(theirs, twin.model(x, training=False).numpy(), rtol=1e-5, atol=1e-6)
    assert not np.allclose(theirs, mine)
    np.testing.assert_array_equal(first.predict(x), mine)   # the first's untouched
