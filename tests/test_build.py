"""Spec -> keras model: the seed tutorials' parameter counts, every layer kind, heads and losses."""
import keras
import pytest

from nnplay import layers as L
from nnplay.build import build, summary, summary_text
from nnplay.data import DatasetInfo
from nnplay.spec import Experiment, SpecError

from conftest import make_exp

SEED_MODELS = {
    "housing regressor 13-10-10-1": (261, {
        "input_shape": [13], "output": "none",
        "layers": [{"type": "Dense", "units": 10}, {"type": "Dense", "units": 10},
                   {"type": "Dense", "units": 1, "activation": "linear"}]}),
    "simple MLP on 28x28": (25_450, {
        "input_shape": [28, 28], "output": "none",
        "layers": [{"type": "Flatten"}, {"type": "Dense", "units": 32},
                   {"type": "Dense", "units": 10, "activation": "softmax"}]}),
    "three-block CNN on 480x680x3": (167_141_409, {
        "input_shape": [480, 680, 3], "output": "none",
        "layers": [{"type": "Conv2D", "filters": 16, "padding": "same"}, {"type": "MaxPooling2D"},
                   {"type": "Conv2D", "filters": 32, "padding": "same"}, {"type": "MaxPooling2D"},
                   {"type": "Conv2D", "filters": 64, "padding": "same"}, {"type": "MaxPooling2D"},
                   {"type": "Flatten"}, {"type": "Dense", "units": 512},
                   {"type": "Dense", "units": 1, "activation": "sigmoid"}]}),
    "bidirectional LSTM on words": (586_369, {
        "input_shape": [None], "output": "none",
        "layers": [{"type": "Embedding", "input_dim": 8000, "output_dim": 64},
                   {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 64}},
                   {"type": "Dense", "units": 64},
                   {"type": "Dense", "units": 1, "activation": "sigmoid"}]}),
}


@pytest.mark.parametrize("name", SEED_MODELS)
def test_seed_tutorial_param_counts(name):
    expected, model = SEED_MODELS[name]
    built = build(make_exp(model=model))
    s = summary(built.model)
    assert s["total_params"] == expected
    assert sum(r["params"] for r in s["layers"]) == expected
    assert summary_text(built.model).splitlines()[-1] == f"Total params: {expected}"


def test_summary_rows_match_keras():
    built = build(make_exp(model=SEED_MODELS["simple MLP on 28x28"][1]))
    rows = summary(built.model)["layers"]
    assert [(r["name"], r["type"], r["output_shape"], r["params"]) for r in rows] == [
        ("flatten_1", "Flatten", "(None, 784)", 0),
        ("dense_2", "Dense", "(None, 32)", 25_120),
        ("dense_3", "Dense", "(None, 10)", 330)]
    keras_rows = [(l.name, l.count_params()) for l in built.model.layers]
    assert keras_rows == [(r["name"], r["params"]) for r in rows]


@pytest.mark.parametrize("info, head, loss", [
    (DatasetInfo("iris", "table", "multiclass", (4,), 3), (3, "softmax"), "sparse_categorical_crossentropy"),
    (DatasetInfo("circle", "toy", "binary", (2,), 2), (1, "sigmoid"), "binary_crossentropy"),
    (DatasetInfo("diabetes", "table", "regression", (10,)), (1, "linear"), "mean_squared_error"),
])
def test_auto_head_and_loss_fit_the_task(info, head, loss):
    built = build(Experiment(), info)
    last = built.model.layers[-1]
    assert last.name == "output"
    assert (last.units, last.activation.__name__) == head
    assert built.loss_name == loss
    main = "mae" if info.task == "regression" else "accuracy"
    assert built.metrics[0].name == main


def test_binary_extra_metrics():
    info = DatasetInfo("circle", "toy", "binary", (2,), 2)
    built = build(make_exp(train={"metrics": ["accuracy", "auc", "precision", "recall"]}), info)
    assert [m.name for m in built.metrics] == ["accuracy", "auc", "precision", "recall"]


def test_every_catalogue_activation_builds():
    info = DatasetInfo("circle", "toy", "binary", (2,), 2)
    layers = [{"type": "Dense", "units": 2, "activation": a} for a in L.ACTIVATIONS]
    built = build(make_exp(model={"layers": layers}), info)
    assert [l.activation.__name__ for l in built.model.layers[:-1]] == [
        a.replace("swish", "silu") for a in L.ACTIVATIONS]


def test_regularizer_and_initializer_reach_keras():
    info = DatasetInfo("circle", "toy", "binary", (2,), 2)
    built = build(make_exp(model={"layers": [
        {"type": "Dense", "units": 3, "kernel_initializer": "he_normal",
         "kernel_regularizer": {"l1": 0.01, "l2": 0.02}}]}), info)
    dense = built.model.layers[0]
    assert isinstance(dense.kernel_initializer, keras.initializers.HeNormal)
    assert dense.kernel_regularizer.l1 == pytest.approx(0.01)
    assert dense.kernel_regularizer.l2 == pytest.approx(0.02)
    assert len(built.model.losses) == 1


def test_global_regularization_applies_to_layers_without_their_own():
    info = DatasetInfo("circle", "toy", "binary", (2,), 2)
    built = build(make_exp(model={"layers": [{"type": "Dense", "units": 3}]},
                           train={"regularization": {"l2": 0.5}}), info)
    assert built.model.layers[0].kernel_regularizer.l2 == pytest.approx(0.5)


def test_same_seed_same_initial_weights():
    info = DatasetInfo("circle", "toy", "binary", (2,), 2)
    a, b = (build(Experiment(), info).model.get_weights() for _ in range(2))
    c = build(make_exp(train={"seed": 1}), info).model.get_weights()
    assert all((x == y).all() for x, y in zip(a, b))
    assert not all((x == y).all() for x, y in zip(a, c))


def test_models_built_at_the_same_moment_get_their_seeds_weights():
    """A class builds its models side by side (only making the layers is locked): each still
    gets exactly the weights its seed gives when built alone, as the exported Keras code does."""
    import sys
    import threading
    specs = [make_exp(model={"input_shape": [None], "output": "none", "layers": [
                 {"type": "Embedding", "input_dim": 50, "output_dim": 4},
                 {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 3}},
                 {"type": "Dropout", "rate": 0.2}, {"type": "Dense", "units": 1}]},
                      train={"seed": 7}),
             make_exp(model={"input_shape": [8, 8, 1], "output": "none", "layers": [
                 {"type": "Conv2D", "filters": 2}, {"type": "Flatten"},
                 {"type": "Dense", "units": 3, "kernel_initializer": "orthogonal"}]},
                      train={"seed": 8, "augmentation": {"rotation": 0.1, "noise": 0.1}}),
             make_exp(model={"input_shape": [2], "output": "none", "layers": [
                 {"type": "Dense", "units": 5}, {"type": "Dropout", "rate": 0.5},
                 {"type": "Dense", "units": 1}]}, train={"seed": 9})] * 2
    alone = [build(exp).model.get_weights() for exp in specs]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)    # threads change hands all through each other's builds
    try:
        together, start = [None] * len(specs), threading.Barrier(len(specs))

        def build_at_once(i):
            start.wait()
            together[i] = build(specs[i]).model.get_weights()
        threads = [threading.Thread(target=build_at_once, args=(i,)) for i in range(len(specs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        sys.setswitchinterval(interval)
    for mine, expected in zip(together, alone):
        assert len(mine) == len(expected)
        assert all((x == y).all() for x, y in zip(mine, expected))


def test_build_refuses_invalid_spec_before_keras():
    with pytest.raises(SpecError, match="layer 1 \\(Dense\\): 'units' must be at least 1"):
        build(make_exp(model={"input_shape": [2], "layers": [{"type": "Dense", "units": 0}]}))


def test_augmentation_layers_lead_the_model():
    info = DatasetInfo("digits", "image", "multiclass", (8, 8, 1), 10)
    built = build(make_exp(model={"layers": [{"type": "Flatten"}]},
                           train={"augmentation": {"flip": "horizontal", "rotation": 0.1,
                                                   "zoom": 0.1, "translation": 0.1,
                                                   "contrast": 0.2, "noise": 0.1}}), info)
    names = [l.name for l in built.model.layers]
    assert names[:6] == ["random_flip", "random_rotation", "random_zoom", "random_translation",
                         "random_contrast", "gaussian_noise"]
