"""Looking inside models: weight distributions over time, activations, filters, the network
view, confusion matrices and regression values (nnplay/inspection.py), and their figures."""
import ast

import keras
import numpy as np
import pytest

from nnplay import inspection as nni
from nnplay import plots
from nnplay.build import build
from nnplay.data import load

from conftest import make_exp


def small_dense():
    return keras.Sequential([keras.Input((3,), name="input"),
                             keras.layers.Dense(4, activation="tanh", name="d1"),
                             keras.layers.Dropout(0.5, name="drop"),
                             keras.layers.Dense(2, activation="softmax", name="d2")])


def small_cnn():
    return keras.Sequential([keras.Input((8, 8, 1), name="input"),
                             keras.layers.RandomFlip("horizontal", name="random_flip"),
                             keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
                             keras.layers.MaxPooling2D(name="pool"),
                             keras.layers.Flatten(name="flat"),
                             keras.layers.Dense(3, activation="softmax", name="out")])


def history_of(model, epochs):
    """A weight_history as the job keeps it, the weights scaled up a little each epoch."""
    history = []
    for epoch in epochs:
        history.append({"epoch": epoch, "layers": nni.weight_stats(model)})
        for w in model.trainable_weights:
            w.assign(w.numpy() * 1.5 + 0.1)
    return history


# ---- weights over time --------------------------------------------------------------------

def test_distribution_over_time_uses_one_range_and_keeps_every_weight():
    model = small_dense()
    history = history_of(model, [0, 5, 10])
    epochs, edges, counts = nni.distribution_over_time(history, "d1", "kernel", bins=40)
    assert list(epochs) == [0, 5, 10]
    assert edges.shape == (41,) and counts.shape == (3, 40)
    assert np.allclose(counts.sum(axis=1), 3 * 4)          # every weight counted once per row
    first, last = history[0]["layers"][0]["weights"][0], history[-1]["layers"][0]["weights"][0]
    assert edges[0] == pytest.approx(min(first["min"], last["min"]))
    assert edges[-1] == pytest.approx(max(first["max"], last["max"]))
    # a path works as well as a name; the bias has its own distribution
    by_path = nni.distribution_over_time(history, "d1", first["path"], bins=40)
    assert np.allclose(by_path[2], counts)
    assert np.allclose(nni.distribution_over_time(history, "d1", "bias")[2].sum(axis=1), 4)


def test_distribution_over_time_keeps_the_last_snapshot_of_an_epoch_and_handles_unknowns():
    model = small_dense()
    history = history_of(model, [0, 1, 1])
    epochs, _, counts = nni.distribution_over_time(history, "d2", "kernel", bins=10)
    assert list(epochs) == [0, 1] and counts.shape == (2, 10)
    epochs, edges, counts = nni.distribution_over_time(history, "nope", "kernel", bins=10)
    assert len(epochs) == 0 and counts.shape == (0, 10) and edges.shape == (11,)


def test_rebinning_spreads_counts_by_overlap():
    spread = nni._rebin([4, 2], [0.0, 1.0, 2.0], np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0]))
    assert np.allclose(spread, [2, 2, 1, 1, 0])


def test_weight_table_lists_shapes_and_params_like_get_weights():
    model = small_cnn()
    rows = nni.weight_table(nni.weight_stats(model))
    assert [(r["layer"], r["weight"], r["shape"]) for r in rows] == [
        ("conv", "kernel", "(3, 3, 1, 4)"), ("conv", "bias", "(4,)"),
        ("out", "kernel", "(36, 3)"), ("out", "bias", "(3,)")]
    assert sum(r["params"] for r in rows) == model.count_params()
    assert [np.shape(w) for w in model.get_weights()] == [ast.literal_eval(r["shape"]) for r in rows]


def test_gradient_table_shortens_names():
    names, norms = nni.gradient_table(["nnplay/dense_1/kernel", "nnplay/dense_1/bias"],
                                      [[1.0, 0.5], [0.8, 0.4], [0.6, 0.3]])
    assert names == ["dense_1/kernel", "dense_1/bias"] and norms.shape == (3, 2)


# ---- activations and filters --------------------------------------------------------------

def test_layer_outputs_of_a_dense_model():
    model = small_dense()
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    out = nni.layer_outputs(model, x, ["d1", "drop", "d2"])
    assert out["d1"].shape == (5, 4) and out["drop"].shape == (5, 4) and out["d2"].shape == (5, 2)
    assert np.allclose(out["drop"], out["d1"])             # dropout is off at inference
    assert np.allclose(out["d2"], model(x, training=False).numpy(), atol=1e-6)


def test_layer_outputs_of_a_conv_model_in_batches():
    model = small_cnn()
    x = np.random.default_rng(1).uniform(size=(7, 8, 8, 1)).astype(np.float32)
    out = nni.layer_outputs(model, x, ["conv", "pool"], batch_size=3)
    assert out["conv"].shape == (7, 6, 6, 4) and out["pool"].shape == (7, 3, 3, 4)
    # the augmentation layer in front is inactive: the conv sees the image as it is
    assert np.allclose(out["conv"], model.get_layer("conv")(x).numpy(), atol=1e-6)
    assert nni.feature_map_layers(model) == ["conv", "pool"]


def test_conv_filters_and_dense_unit_images():
    cnn = small_cnn()
    name, filters = nni.conv_filters(cnn)
    assert name == "conv" and filters.shape == (4, 3, 3, 1)
    assert np.allclose(filters[2, :, :, 0], cnn.get_layer("conv").kernel.numpy()[:, :, 0, 2])
    assert nni.dense_unit_images(cnn) is None              # its Dense reads feature maps
    mlp = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(),
                            keras.layers.Dense(20, name="hidden"), keras.layers.Dense(10)])
    name, images = nni.dense_unit_images(mlp, max_units=16)
    assert name == "hidden" and images.shape == (16, 8, 8, 1)
    assert np.allclose(images[3].ravel(), mlp.get_layer("hidden").kernel.numpy()[:, 3])
    assert nni.conv_filters(mlp) is None


# ---- the network view ---------------------------------------------------------------------

def test_network_view_shapes_for_the_playground_default():
    exp = make_exp(data={"features": ["x1", "x2", "x1*x2"]})
    ds = load(exp.data)
    model = build(exp, ds.info).model
    view = nni.network_view(model, ds, resolution=40)
    assert [c["units"] for c in view["columns"]] == [3, 4, 2, 1]
    assert [c["maps"].shape for c in view["columns"]] == [(3, 40, 40), (4, 40, 40), (2, 40, 40),
                                                         (1, 40, 40)]
    assert [w.shape for w in view["weights"]] == [(3, 4), (4, 2), (2, 1)]
    assert view["columns"][0]["labels"] == ["x1", "x2", "x1*x2"]
    assert [c["activation"] for c in view["columns"]] == ["", "tanh", "tanh", "sigmoid"]
    # the output neuron's map is the model's prediction on the grid
    grid = ds.features_for(nni.grid_points(ds.grid_bounds, 40))
    assert np.allclose(view["columns"][-1]["maps"][0].ravel(), model(grid).numpy().ravel(), atol=1e-5)


def test_network_view_caps_units_and_refuses_other_models():
    exp = make_exp(model={"layers": [{"type": "Dense", "units": 10, "activation": "relu"},
                                     {"type": "Dropout", "rate": 0.2},
                                     {"type": "Dense", "units": 3, "activation": "relu"}]})
    ds = load(exp.data)
    view = nni.network_view(build(exp, ds.info).model, ds, resolution=20, max_units=8)
    assert view["columns"][1]["units"] == 10 and view["columns"][1]["maps"].shape == (8, 20, 20)
    assert [w.shape for w in view["weights"]] == [(2, 8), (8, 3), (3, 1)]
    digits = load(make_exp(data={"dataset": "digits"}).data)
    assert nni.network_view(small_cnn(), digits) is None


# ---- evaluation ---------------------------------------------------------------------------

def test_confusion_matrix_known_values():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 2, 2]
    m = nni.confusion_matrix(y_true, y_pred, 3)
    assert m.tolist() == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert np.allclose(nni.per_class_accuracy(m), [0.5, 2 / 3, 1.0])


def test_evaluate_classes_softmax_sigmoid_and_logits():
    softmax = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])
    r = nni.evaluate_classes(softmax, [0, 2, 0], 3)
    assert r["predicted"].tolist() == [0, 2, 1] and r["wrong"].tolist() == [2]
    assert r["accuracy"] == pytest.approx(2 / 3) and np.allclose(r["confidence"], [0.7, 0.6, 0.5])
    sigmoid = np.array([[0.9], [0.2], [0.6]])
    r = nni.evaluate_classes(sigmoid, [1, 0, 0], 2)
    assert r["predicted"].tolist() == [1, 0, 1] and r["matrix"].tolist() == [[1, 1], [0, 1]]
    logits = np.array([[2.0], [-0.5], [0.1]])          # a linear unit: 0 splits the classes
    r = nni.evaluate_classes(logits, [1, 0, 0], 2, from_logits=True)
    assert r["predicted"].tolist() == [1, 0, 1]
    assert r["confidence"][0] == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert nni.predicted_classes(logits, threshold=0.0).tolist() == [1, 0, 1]


def test_regression_values_undo_target_scaling():
    r = nni.regression_values(np.array([[0.0], [1.0], [-1.0]]), np.array([0.0, 1.0, -0.5]),
                              offset=10.0, scale=2.0)
    assert r["predicted"].tolist() == [10.0, 12.0, 8.0]
    assert r["actual"].tolist() == [10.0, 12.0, 9.0]
    assert r["residual"].tolist() == [0.0, 0.0, -1.0]
    assert r["mae"] == pytest.approx(1 / 3)


# ---- figures --------------------------------------------------------------------------------

def test_inspect_figures_build():
    exp = make_exp()
    ds = load(exp.data)
    view = nni.network_view(build(exp, ds.info).model, ds, resolution=20)
    fig = plots.network_figure(view)
    assert len(fig.layout.images) == 2 + 4 + 2 + 1
    view["weights"][0][0, 0] = np.nan               # a diverged model still draws
    view["columns"][1]["maps"][0, 0, 0] = np.inf
    assert len(plots.network_figure(view).layout.images) == 2 + 4 + 2 + 1
    m = np.array([[5, 1], [2, 7]])
    fig = plots.confusion_figure(m, ["orange", "blue"])
    mistakes, right = fig.data
    assert mistakes.text.tolist() == [["", "1"], ["2", ""]] and right.text.tolist() == [["5", ""], ["", "7"]]
    assert plots.tile_maps(np.zeros((5, 3, 3)), [f"f{i}" for i in range(5)], symmetric=True).data
    assert plots.tile_maps(np.zeros((2, 3, 3, 3)), ["a", "b"]).data[0].type == "image"
    epochs, edges, counts = nni.distribution_over_time(history_of(small_dense(), [0, 1]), "d1", "kernel")
    assert len(plots.weight_distribution_over_time(epochs, edges, counts).data) == 2  # a ridge each
    assert len(plots.gradient_norms(np.ones((30, 3)), ["a/kernel", "a/bias", "b/kernel"]).data) == 3
    assert plots.predicted_vs_actual(np.arange(3.0), np.arange(3.0)).data
    assert plots.residuals_figure(np.arange(3.0), np.zeros(3)).data
    assert plots.misclassified_scatter(ds.raw_val, ds.y_val, [0, 3], "binary").data[-1].name \
        == "misclassified (2)"


def test_grid_values_turn_logits_into_probabilities():
    from nnplay.inspection import grid_values
    logits = np.zeros((4, 1))
    assert np.allclose(grid_values(logits, "binary", resolution=2, logits=True), 0.5)
    two = np.array([[0.0, 0.0]] * 4)
    assert np.allclose(grid_values(two, "binary", resolution=2, logits=True), 0.5)


# ---- saved runs and what shapes mean ----------------------------------------------------------

def test_weight_meaning_says_what_a_shape_holds():
    assert nni.weight_meaning("Dense", "kernel", [2, 4]) == "2 inputs × 4 neurons"
    assert nni.weight_meaning("Dense", "bias", [4]) == "one per neuron (4)"
    assert nni.weight_meaning("Conv2D", "kernel", [3, 3, 1, 8]) == \
        "8 filters of 3×3 pixels × 1 input channel"
    assert nni.weight_meaning("Conv2D", "bias", [8]) == "one per filter (8)"
    # Keras stacks an LSTM's four gates side by side: 64 columns are 4 gates of 16 units
    assert nni.weight_meaning("LSTM", "kernel", [8, 64]) == "8 inputs × (4 gates × 16 units)"
    assert nni.weight_meaning("LSTM", "bias", [64]) == "4 gates × 16 units"
    rows = nni.weight_table(nni.weight_stats(small_cnn()))
    assert rows[2]["meaning"] == "36 inputs × 3 neurons"


def test_saved_run_looks_like_a_job(tmp_path):
    from nnplay.engine import Engine
    from nnplay.store import RunStore
    exp = make_exp(train={"epochs": 3})
    ds = load(exp.data)
    built = build(exp, ds.info)
    engine = Engine(built, ds, exp.train)
    store = RunStore(tmp_path)
    run_id = store.create_run(exp, name="toy")
    store.add_epochs(run_id, [{"epoch": e, "loss": 1.0 / e, "grad_norms": [0.1] * 6}
                              for e in (1, 2, 3)])
    store.save_model(run_id, engine.model)
    store.finish(run_id, "completed")
    model = keras.models.load_model(store.model_path(run_id), compile=False)
    saved = nni.SavedRun(store.get_run(run_id), model, ds, store.history(run_id),
                         store.grad_norms(run_id))
    snap = saved.snapshot()
    assert (saved.name, saved.alive, snap.status, snap.epoch, snap.epochs) == \
        ("toy", False, "completed", 3, 3)
    assert snap.history == {"loss": [1.0, 0.5, 1.0 / 3]}
    names, norms = nni.gradient_table(snap.grad_names, snap.grad_norms)
    assert names[:2] == ["dense_1/kernel", "dense_1/bias"] and norms.shape == (3, 6)
    assert snap.grid.shape == (100, 100) and len(snap.weight_history) == 1
    np.testing.assert_allclose(saved.engine.predict(ds.x_val), engine.predict(ds.x_val),
                               rtol=1e-5, atol=1e-6)
    assert saved.engine.logits == engine.logits

