"""The compiled engine: real Keras training on every layer kind, optimizer and schedule."""
import numpy as np
import pytest

from nnplay.build import build
from nnplay.data import DatasetInfo, Dataset, load
from nnplay.engine import Engine
from nnplay.spec import OPTIMIZERS, SCHEDULES

from conftest import make_exp


def engine_for(exp, dataset=None):
    dataset = dataset or load(exp.data)
    return Engine(build(exp, dataset.info), dataset, exp.train), dataset


def train_all(engine):
    rows = []
    while not engine.done:
        rows += engine.run_chunk()
    return rows


def test_circle_reaches_high_validation_accuracy(toy_exp):
    toy_exp.train.epochs = 200
    engine, _ = engine_for(toy_exp)
    rows = train_all(engine)
    assert [r["epoch"] for r in rows] == list(range(1, 201))
    assert rows[-1]["val_accuracy"] >= 0.99
    assert rows[-1]["loss"] < rows[0]["loss"]


def test_metrics_match_keras_evaluate(toy_exp):
    engine, data = engine_for(toy_exp)
    train_all(engine)
    model = engine.model
    model.compile(loss=engine.built.loss, metrics=["accuracy"])
    keras_loss, keras_acc = model.evaluate(data.x_val, data.y_val, verbose=0)
    ours = engine.evaluate(data.x_val, data.y_val, "val_")
    assert ours["val_loss"] == pytest.approx(keras_loss, rel=1e-4)
    assert ours["val_accuracy"] == pytest.approx(keras_acc, abs=1e-6)


def test_same_seed_gives_the_same_history(toy_exp):
    a = train_all(engine_for(toy_exp)[0])
    b = train_all(engine_for(toy_exp)[0])
    toy_exp.train.seed = 7
    c = train_all(engine_for(toy_exp)[0])
    assert [r["val_loss"] for r in a] == [r["val_loss"] for r in b]
    assert [r["val_loss"] for r in a] != [r["val_loss"] for r in c]


def test_partial_last_batch_counts_every_sample():
    exp = make_exp(data={"dataset": "xor", "samples": 103, "validation_split": 0.0},
                   train={"batch_size": 10, "epochs": 2})
    engine, data = engine_for(exp)
    assert engine.steps_per_epoch == 11
    rows = train_all(engine)
    assert len(rows) == 2 and "val_loss" not in rows[0]


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_optimizer_trains(optimizer):
    exp = make_exp(train={"optimizer": optimizer, "learning_rate": 0.05, "epochs": 3,
                          "momentum": 0.9 if optimizer == "sgd" else 0.0})
    rows = train_all(engine_for(exp)[0])
    assert len(rows) == 3 and all(np.isfinite(r["loss"]) for r in rows)


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_schedule_lowers_the_rate(schedule):
    exp = make_exp(train={"epochs": 4, "lr_schedule": {"type": schedule, "decay_steps": 10}})
    engine, _ = engine_for(exp)
    train_all(engine)
    lr = engine.built.optimizer.learning_rate
    assert float(lr.numpy() if hasattr(lr, "numpy") else lr) < 0.03


LAYER_STACKS = {
    "dense-dropout-batchnorm-activation": ("iris", [
        {"type": "Dense", "units": 8, "kernel_regularizer": {"l2": 0.01}},
        {"type": "BatchNormalization"}, {"type": "Activation", "activation": "gelu"},
        {"type": "Dropout", "rate": 0.2}]),
    "conv2d-pools-flatten": ("digits", [
        {"type": "Conv2D", "filters": 4, "padding": "same"}, {"type": "MaxPooling2D"},
        {"type": "Conv2D", "filters": 4}, {"type": "AveragePooling2D", "padding": "same"},
        {"type": "Flatten"}]),
    "conv2d-global-pool": ("digits", [{"type": "Conv2D", "filters": 4},
                                      {"type": "GlobalAveragePooling2D"}]),
    "reshape-conv1d": ("iris", [{"type": "Reshape", "target_shape": [4, 1]},
                                {"type": "Conv1D", "filters": 3, "kernel_size": 2},
                                {"type": "Flatten"}]),
    "recurrent": ("sine", [{"type": "SimpleRNN", "units": 4, "return_sequences": True},
                           {"type": "GRU", "units": 4, "return_sequences": True},
                           {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 4}}]),
}


@pytest.mark.parametrize("name", LAYER_STACKS)
def test_every_layer_kind_trains_a_step(name):
    dataset, layers = LAYER_STACKS[name]
    exp = make_exp(data={"dataset": dataset}, model={"layers": layers},
                   train={"epochs": 1, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01})
    engine, _ = engine_for(exp)
    before = [w.copy() for w in engine.model.get_weights()]
    (row,) = engine.run_epoch()
    assert np.isfinite(row["loss"])
    changed = [not np.array_equal(a, b) for a, b in zip(before, engine.model.get_weights())]
    assert any(changed)


def test_embedding_trains_on_word_ids():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 50, size=(64, 12)).astype(np.int32)
    y = (x[:, 0] > 25).astype(np.int32)
    info = DatasetInfo("words", "text", "binary", (12,), 2, vocab_size=50)
    data = Dataset(info, x, y, x[:16], y[:16], x[:0], y[:0])
    exp = make_exp(model={"layers": [{"type": "Embedding", "input_dim": 50, "output_dim": 8},
                                     {"type": "GlobalAveragePooling2D"}]})
    exp.model.layers[1] = {"type": "LSTM", "units": 4}
    exp.train.epochs = 2
    rows = train_all(engine_for(exp, data)[0])
    assert len(rows) == 2


def test_augmentation_and_dropout_only_in_training():
    exp = make_exp(data={"dataset": "digits"},
                   model={"layers": [{"type": "Flatten"}, {"type": "Dropout", "rate": 0.5}]},
                   train={"epochs": 3, "batch_size": 64, "augmentation": {"rotation": 0.2, "noise": 0.5}})
    engine, data = engine_for(exp)
    rows = train_all(engine)  # past the first (eager) epoch: the compiled graph runs too
    assert len(rows) == 3 and all(np.isfinite(r["loss"]) for r in rows)
    x = data.x_val[:32]
    assert np.array_equal(engine.predict(x), engine.predict(x))  # inference is deterministic
    model = engine.model
    assert not np.array_equal(model(x, training=True).numpy(), model(x, training=True).numpy())


def test_early_stopping_stops_and_restores_best():
    exp = make_exp(data={"dataset": "gauss", "samples": 200, "noise": 0.5},
                   model={"layers": [{"type": "Dense", "units": 64, "activation": "relu"}] * 2},
                   train={"optimizer": "adam", "learning_rate": 0.05, "epochs": 400,
                          "early_stopping": {"monitor": "val_loss", "patience": 5}})
    engine, data = engine_for(exp)
    rows = train_all(engine)
    assert engine.stopped_early and len(rows) < 400
    best = min(range(len(rows)), key=lambda i: rows[i]["val_loss"])
    assert engine.best_epoch == best + 1
    assert len(rows) == best + 1 + 5
    assert engine.restore_best()
    restored = engine.evaluate(data.x_val, data.y_val, "val_")["val_loss"]
    assert restored == pytest.approx(rows[best]["val_loss"], rel=1e-4)


def test_learning_rate_can_change_between_chunks(toy_exp):
    engine, _ = engine_for(toy_exp)
    engine.run_epoch()
    engine.set_learning_rate(0.5)
    assert engine.current_learning_rate == pytest.approx(0.5)


def test_gradient_norms_per_variable_per_epoch(toy_exp):
    engine, _ = engine_for(toy_exp)
    (row,) = engine.run_epoch()
    assert len(row["grad_norms"]) == len(engine.model.trainable_variables) == 6
    assert all(g > 0 for g in row["grad_norms"])
