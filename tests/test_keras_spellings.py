"""Issue #9: a spec typed with Keras's own spellings and defaults means what Keras means."""
import inspect

import keras
import numpy as np
import pytest

from nnplay import keras_names as K
from nnplay.build import build, info_from_shape
from nnplay.data import DatasetInfo, describe, load
from nnplay.spec import (Experiment, SpecError, check, describe_value, differing_settings, notes,
                         reading_notes, setting_title, validate)

DIGITS = DatasetInfo("digits", "image", "multiclass", (8, 8, 1), 10)
BINARY = DatasetInfo("circle", "toy", "binary", (2,), 2)
REGRESSION = DatasetInfo("reg-gauss", "toy", "regression", (2,), 0)


def v2(**sections) -> Experiment:
    return Experiment.from_dict({"version": 2, **sections})


def params(spec: dict) -> int:
    return build(v2(**spec)).model.count_params()


# ---- the tutorials' models, typed as Keras writes them ------------------------------------

QUICKSTART = {"model": {"layers": [
    {"type": "Flatten", "input_shape": [28, 28]},
    {"type": "Dense", "units": 128, "activation": "relu"},
    {"type": "Dropout", "rate": 0.2},
    {"type": "Dense", "units": 10}], "output": "none"},
    "train": {"optimizer": "adam",
              "loss": {"class_name": "SparseCategoricalCrossentropy", "config": {"from_logits": True}},
              "metrics": ["accuracy"]}}
def _lenet5() -> dict:
    """The LeNet-5 preset's layers with Keras's input_shape= on the first, as tutorials type it."""
    from nnplay.presets import PRESETS
    first, *rest = PRESETS["lenet5"]["model"]["layers"]
    return {"model": {"layers": [{**first, "input_shape": [28, 28, 1]}, *rest], "output": "none"},
            "train": {"optimizer": "SGD", "loss": "sparse_categorical_crossentropy"}}


LENET5 = _lenet5()


def _mlp(*hidden: int, inputs=(784,)) -> dict:
    layers = [{"class_name": "InputLayer", "config": {"batch_shape": [None, *inputs]}}]
    layers += [{"type": "Flatten"}] * (len(inputs) > 1)
    layers += [{"type": "Dense", "units": n, "activation": "relu"} for n in hidden]
    layers.append({"type": "Dense", "units": 10, "activation": "softmax"})
    return {"model": {"layers": layers, "output": "none"},
            "train": {"optimizer": "RMSprop", "loss": "categorical_crossentropy"}}


@pytest.mark.parametrize("spec, count", [
    (QUICKSTART, 101_770),
    (_mlp(64, 64), 55_050),
    (_mlp(32, inputs=(28, 28)), 25_450),
    (_mlp(256, 192, 128, inputs=(28, 28)), 276_298),
    (LENET5, 61_706),
    ({"model": {"input_shape": [13], "layers": [{"type": "Dense", "units": 10},
                                                 {"type": "Dense", "units": 10},
                                                 {"type": "Dense", "units": 1}], "output": "none"},
      "train": {"optimizer": "adam", "loss": "mse", "metrics": ["mae"]}}, 261),
], ids=["quickstart", "784-64-64-10", "fashion-simple", "fashion-deep", "lenet5", "boston"])
def test_tutorial_models_summarise_to_their_parameter_counts(spec, count):
    assert params(spec) == count


def test_a_regressors_hidden_dense_layers_are_linear_as_in_keras():
    built = build(v2(model={"input_shape": [13], "layers": [{"type": "Dense", "units": 10}],
                            "output": "auto"}), REGRESSION.__class__("x", "table", "regression", (13,), 0))
    assert built.model.get_layer("dense_1").activation is keras.activations.linear


def test_dense_10_logits_with_from_logits_learns_digits():
    """The quickstart's pattern on sklearn's 8x8 digits: linear logits + from_logits."""
    from nnplay.engine import Engine
    exp = v2(data={"dataset": "digits", "samples": 1797, "validation_split": 0.0, "test_split": 0.25},
             model={"layers": [{"type": "Flatten"}, {"type": "Dense", "units": 64, "activation": "relu"},
                               {"type": "Dense", "units": 10}], "output": "none"},
             train={"optimizer": "Adam", "epochs": 15, "batch_size": 32, "from_logits": True,
                    "loss": "SparseCategoricalCrossentropy"})
    dataset = load(exp.data)
    built = build(check(exp, dataset.info), dataset.info)
    assert built.model.layers[-1].activation is keras.activations.linear
    assert built.loss.get_config()["from_logits"] is True
    engine = Engine(built, dataset, exp.train)
    while not engine.done:
        engine.run_chunk()
    assert engine.evaluate(dataset.x_test, dataset.y_test)["accuracy"] >= 0.85


# ---- version 1 keeps its meaning; version 2 has Keras's defaults ---------------------------

def test_a_version_1_spec_keeps_relu_and_its_rate():
    old = {"version": 1, "model": {"layers": [{"type": "Dense", "units": 8},
                                              {"type": "Conv2D", "filters": 4},
                                              {"type": "Dense", "units": 4, "activation": "tanh"}]},
           "train": {"optimizer": "adam"}}
    exp = Experiment.from_dict(old)
    assert [layer.get("activation") for layer in exp.model.layers] == ["relu", "relu", "tanh"]
    assert exp.train.learning_rate == 0.03
    assert exp.to_dict()["version"] == 2
    assert Experiment.from_dict(exp.to_dict()) == exp          # the upgraded spec means the same


def test_a_spec_without_a_version_means_keras_and_a_version_1_spec_keeps_its_model():
    # nnplay always wrote the version: a spec without one was typed by a person, as Keras reads
    typed = {"model": {"layers": [{"type": "Dense", "units": 8}]}, "train": {"optimizer": "adam"}}
    exp = Experiment.from_dict(typed)
    assert exp.model.layers[0].get("activation", "linear") == "linear" and exp.train.learning_rate == 0.001
    assert reading_notes(typed) == []
    old = {"version": 1, **typed}
    exp = Experiment.from_dict(old)
    assert exp.model.layers[0]["activation"] == "relu" and exp.train.learning_rate == 0.03
    assert "version 1" in reading_notes(old)[0] and "linear" in reading_notes(old)[0]
    assert reading_notes({"version": 1, "model": {"layers": [
        {"type": "Dense", "units": 8, "activation": "tanh"}]},
        "train": {"learning_rate": 0.1}}) == []   # nothing relied on v1


def test_version_2_dense_and_conv_default_to_linear_and_null_is_linear():
    exp = v2(model={"input_shape": [8, 8, 1], "layers": [
        {"type": "Conv2D", "filters": 2}, {"type": "Flatten"},
        {"type": "Dense", "units": 4, "activation": None}, {"type": "Dense", "units": 3}]},
        train={"loss": "categorical_crossentropy"})
    assert exp.model.layers[2]["activation"] == "linear"
    model = build(exp, DatasetInfo("x", "image", "multiclass", (8, 8, 1), 3)).model
    assert {model.get_layer(n).activation.__name__ for n in ("conv2d_1", "dense_3", "dense_4")} == {"linear"}


@pytest.mark.parametrize("name", list(K.OPTIMIZER_CLASSES.values()) + list(K.OPTIMIZERS))
def test_a_named_optimizer_without_a_rate_starts_at_its_keras_default(name):
    exp = v2(train={"optimizer": name})
    canonical = name.lower()
    assert exp.train.optimizer == canonical
    keras_default = inspect.signature(getattr(keras.optimizers, K.OPTIMIZER_CLASSES[canonical])) \
        .parameters["learning_rate"].default
    assert exp.train.learning_rate == keras_default == K.DEFAULT_RATES[canonical]
    assert float(build(v2(data={"dataset": "xor"}, train={"optimizer": name}), BINARY)
                 .optimizer.learning_rate) == pytest.approx(keras_default)


def test_a_given_rate_is_kept_and_a_spec_naming_no_optimizer_is_the_playgrounds():
    assert v2(train={"optimizer": "Adam", "learning_rate": 0.01}).train.learning_rate == 0.01
    assert (v2().train.optimizer, v2().train.learning_rate) == ("sgd", 0.03)
    t = v2(train={"optimizer": {"class_name": "SGD", "config": {"learning_rate": 0.1, "momentum": 0.9}}}).train
    assert (t.optimizer, t.learning_rate, t.momentum) == ("sgd", 0.1, 0.9)


KERAS_OWN_FIELDS = {"learning_rate", "momentum", "name", "kwargs"}   # set elsewhere, or a label


@pytest.mark.parametrize("name", K.OPTIMIZERS)
def test_optimizer_options_are_the_pinned_keras_arguments_with_their_defaults(name):
    keras_params = inspect.signature(getattr(keras.optimizers, K.OPTIMIZER_CLASSES[name])).parameters
    own = {p: keras_params[p].default for p in keras_params if p not in KERAS_OWN_FIELDS}
    assert {p: option.default for p, option in K.optimizer_options(name).items()} == own


def test_an_optimizers_keras_arguments_are_carried_into_training_the_link_and_the_export():
    from nnplay.codegen import export_script
    serialized = keras.optimizers.serialize(keras.optimizers.Adam(beta_1=0.8, amsgrad=True,
                                                                  clipnorm=1.0))
    exp = v2(data={"dataset": "xor"}, train={"optimizer": serialized})
    t = exp.train
    assert (t.optimizer, t.learning_rate) == ("adam", 0.001)   # Keras serializes float32 0.001...
    assert t.optimizer_options == {"beta_1": 0.8, "amsgrad": True, "clipnorm": 1.0}  # defaults dropped
    assert validate(exp, BINARY) == []
    config = build(exp, BINARY).optimizer.get_config()
    assert (config["beta_1"], config["amsgrad"], config["clipnorm"]) == (0.8, True, 1.0)
    assert Experiment.from_url(exp.to_url()) == exp
    assert "optimizer=keras.optimizers.Adam(beta_1=0.8, amsgrad=True, clipnorm=1.0)" in export_script(exp)
    other = v2(data={"dataset": "xor"}, train={"optimizer": "adam"})
    assert differing_settings([exp, other]) == ["train.optimizer_options"]
    assert setting_title("train.optimizer_options") == "optimizer settings"
    assert describe_value("train.optimizer_options", t.optimizer_options) == \
        "beta_1 0.8, amsgrad True, clipnorm 1"


@pytest.mark.parametrize("train, refused", [
    ({"optimizer": {"class_name": "SGD", "config": {"beta_1": 0.8}}},
     "train.optimizer_options.beta_1: SGD has no argument 'beta_1'; its arguments are nesterov, "
     "weight_decay, clipnorm"),
    ({"optimizer": "adam", "optimizer_options": {"beta_2": 1}}, "beta_2: must be in [0, 1), got 1"),
    ({"optimizer": "adam", "optimizer_options": {"amsgrad": 1}}, "amsgrad: must be true or false"),
    ({"optimizer": "rmsprop", "optimizer_options": {"momentum": 0.9}},
     "optimizer_options.momentum: is set by train.momentum: move it there"),
    ({"optimizer": "adam", "optimizer_options": {"momentum": 0.9}}, "Adam has no argument 'momentum'"),
    ({"optimizer": "sgd", "optimizer_options": {"clipnorm": 1, "clipvalue": 0.5}},
     "Keras takes only one of clipnorm, clipvalue, global_clipnorm; remove clipvalue"),
    ({"optimizer": "sgd", "optimizer_options": {"gradient_accumulation_steps": 1}},
     "gradient_accumulation_steps: must be in [2, 1e+06], got 1"),
    ({"optimizer": "ftrl", "optimizer_options": {"learning_rate_power": 0.5}},
     "learning_rate_power: must be in [-10, 0], got 0.5"),
    ({"optimizer": "adam", "optimizer_options": ["beta_1"]}, "must be an object of Adam's arguments"),
])
def test_an_optimizer_argument_keras_would_refuse_or_lacks_is_named(train, refused):
    assert refused in "; ".join(map(str, validate(v2(train=train))))


def test_switching_optimizer_keeps_the_options_the_new_one_has():
    assert K.options_kept("sgd", {"beta_1": 0.8, "weight_decay": 0.01}) == {"weight_decay": 0.01}
    assert K.options_kept("sgd", {"beta_1": 0.8}) is None


def test_sgd_with_weight_decay_trains_as_keras_and_one_step_gives_no_plain_formula():
    from nnplay import onestep
    exp = v2(data={"dataset": "xor"}, train={"optimizer": "sgd", "optimizer_options":
                                             {"weight_decay": 0.1}})
    optimizer = build(exp, BINARY).optimizer
    assert optimizer.weight_decay == 0.1
    assert onestep.formula(optimizer, 0.01).endswith("; with weight_decay 0.1, as Keras applies them")
    assert onestep._step_changed(optimizer)


# ---- losses ---------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, canonical", [
    ("mse", "mean_squared_error"), ("mae", "mean_absolute_error"), ("MSE", "mean_squared_error"),
    ("MeanSquaredError", "mean_squared_error"), ("MeanAbsoluteError", "mean_absolute_error"),
    ("Huber", "huber"), ("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"),
    ("CategoricalCrossentropy", "categorical_crossentropy"), ("BinaryCrossentropy", "binary_crossentropy")])
def test_keras_loss_spellings_are_read_as_one_name(typed, canonical):
    assert v2(train={"loss": typed}).train.loss == canonical


def test_mse_on_a_regression_task_is_accepted_without_a_contradiction():
    exp = v2(data={"dataset": "reg-gauss"}, train={"loss": "mse", "metrics": ["mean_absolute_error"]})
    assert validate(exp, REGRESSION) == [] and exp.train.metrics == ["mae"]


def test_categorical_crossentropy_trains_on_one_hot_labels_made_for_it():
    exp = v2(model={"input_shape": [2], "layers": [{"type": "Dense", "units": 3, "activation": "softmax"}],
                    "output": "none"}, train={"loss": "categorical_crossentropy"})
    info = DatasetInfo("x", "table", "multiclass", (2,), 3)
    built = build(exp, info)
    y = np.array([0, 2, 1], np.int32)
    pred = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]], np.float32)
    expected = -np.mean(np.log([0.7, 0.8, 0.4]))
    assert float(built.loss(y, pred)) == pytest.approx(expected, rel=1e-5)
    assert isinstance(built.loss.keras_loss, keras.losses.CategoricalCrossentropy)


def test_categorical_crossentropy_on_one_sigmoid_unit_says_what_to_change():
    exp = v2(train={"loss": "categorical_crossentropy"})
    assert "set the last layer's units to 2" in str(validate(exp, BINARY)[0])


def test_squared_error_on_a_sigmoid_classifier_trains_with_a_note():
    exp = v2(data={"dataset": "xor"}, train={"loss": "mse"})
    assert validate(exp, BINARY) == []
    assert any("unusual" in n for n in notes(exp, BINARY))
    built = build(exp, BINARY)
    assert built.loss_name == "mean_squared_error"
    loss = float(built.loss(np.array([1, 0], np.int32), np.array([[0.75], [0.5]], np.float32)))
    assert loss == pytest.approx((0.25 ** 2 + 0.5 ** 2) / 2)


def test_from_logits_on_a_softmax_output_gets_a_note():
    exp = v2(model={"input_shape": [2], "layers": [{"type": "Dense", "units": 3, "activation": "softmax"}],
                    "output": "none"}, train={"from_logits": True})
    info = DatasetInfo("x", "table", "multiclass", (2,), 3)
    assert any("applies it again" in n for n in notes(exp, info))


# ---- metrics ----------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, canonical", [
    ("acc", "accuracy"), ("sparse_categorical_accuracy", "accuracy"), ("AUC", "auc"),
    ("Precision", "precision"), ("F1Score", "f1_score"), ("f1_score", "f1_score"),
    ("mean_absolute_error", "mae"), ("MeanSquaredError", "mse")])
def test_keras_metric_spellings_are_read(typed, canonical):
    assert v2(train={"metrics": [typed]}).train.metrics == [canonical]


def test_multiclass_precision_recall_and_f1_are_computed_per_class_and_averaged():
    from sklearn.metrics import f1_score, precision_score, recall_score
    exp = v2(model={"input_shape": [2], "layers": [{"type": "Dense", "units": 3}], "output": "none"},
             train={"metrics": ["precision", "recall", "f1_score"], "from_logits": True})
    info = DatasetInfo("x", "table", "multiclass", (2,), 3)
    assert notes(exp, info) == []
    metrics = {m.name: m for m in build(exp, info).metrics}
    assert list(metrics) == ["accuracy", "precision", "recall", "f1_score"]
    y = np.array([0, 0, 1, 2, 2, 1], np.int32)
    logits = np.eye(3, dtype=np.float32)[[0, 1, 1, 2, 0, 1]] * 3
    guess = logits.argmax(1)
    for name, sk in (("precision", precision_score), ("recall", recall_score), ("f1_score", f1_score)):
        metrics[name].update_state(y, logits)
        assert float(metrics[name].result()) == pytest.approx(sk(y, guess, average="macro"), abs=1e-5)
    assert np.allclose(metrics["precision"].per_class(), precision_score(y, guess, average=None))


def test_a_metric_that_does_not_fit_is_left_out_with_a_word():
    exp = v2(train={"metrics": ["accuracy", "mae"]})
    assert notes(exp, BINARY) == ["metric mae is left out: it measures a predicted number, not classes"]
    assert [m.name for m in build(exp, BINARY).metrics] == ["accuracy"]


def test_binary_f1_score_on_one_sigmoid_unit():
    exp = v2(train={"metrics": ["f1_score"]})
    f1 = [m for m in build(exp, BINARY).metrics if m.name == "f1_score"][0]
    f1.update_state(np.array([1, 0, 1, 1], np.int32), np.array([[0.9], [0.6], [0.2], [0.8]], np.float32))
    assert float(f1.result()) == pytest.approx(2 / 3, abs=1e-5)     # precision 2/3, recall 2/3


METRIC_CLASSES_CHECKED = [c for c in K.METRIC_ARGUMENTS if K.METRIC_ARGUMENTS[c]]


@pytest.mark.parametrize("cls", METRIC_CLASSES_CHECKED)
def test_metric_arguments_read_as_defaults_are_the_pinned_keras_defaults(cls):
    params = inspect.signature(getattr(keras.metrics, cls)).parameters
    for key, accepted in K.METRIC_ARGUMENTS[cls].items():
        assert params[key].default == accepted[0], key


def test_a_metric_objects_threshold_and_curve_are_carried_into_training_and_export():
    from nnplay.codegen import export_script
    metrics = ["accuracy", keras.metrics.serialize(keras.metrics.Precision(thresholds=0.7)),
               {"class_name": "AUC", "config": {"curve": "PR", "name": "auc"}},
               {"class_name": "F1Score", "config": {"threshold": 0.6, "average": "macro"}}]
    exp = v2(data={"dataset": "xor"}, train={"metrics": metrics})
    assert exp.train.metrics == ["accuracy", "precision", "auc", "f1_score"]
    assert exp.train.metric_options == {"precision": {"thresholds": 0.7}, "auc": {"curve": "PR"},
                                        "f1_score": {"threshold": 0.6}}
    built = {m.name: m for m in build(exp, BINARY).metrics}
    built["precision"].update_state(np.array([1, 1, 0]), np.array([[0.8], [0.6], [0.65]]))
    assert float(built["precision"].result()) == 1.0        # 0.6 and 0.65 are below 0.7
    assert built["auc"].curve.name == "PR" and built["f1_score"].threshold == 0.6
    script = export_script(exp)
    assert 'keras.metrics.Precision(thresholds=0.7, name="precision")' in script
    assert 'keras.metrics.AUC(curve="PR", name="auc")' in script
    assert 'keras.metrics.F1Score(average="macro", threshold=0.6)' in script
    assert Experiment.from_url(exp.to_url()) == exp
    assert setting_title("train.metric_options") == "metric settings"
    namespace = {"__name__": "exported"}
    exec(compile(script, "exported.py", "exec"), namespace)
    model = namespace["build_model"]()
    history = model.fit(np.zeros((4, 2), "float32"), np.array([[0], [1], [0], [1]]), epochs=1,
                        verbose=0)
    assert set(history.history) == {"loss", "accuracy", "precision", "auc", "f1_score"}
    compiled = {m.name: m for m in model.metrics[-1].metrics}    # Keras's CompileMetrics
    assert compiled["precision"].thresholds == [0.7] and compiled["auc"].curve.name == "PR"


def test_a_threshold_on_logits_is_moved_to_the_same_probability():
    exp = v2(data={"dataset": "xor"}, model={"layers": [{"type": "Dense", "units": 1}],
                                             "output": "none"},
             train={"metrics": ["precision"], "metric_options": {"precision": {"thresholds": 0.7}}})
    precision = [m for m in build(exp, BINARY).metrics if m.name == "precision"][0]
    precision.update_state(np.array([1, 1]), np.array([[0.9], [0.8]]))   # logits: 0.71, 0.69
    assert float(precision.true_positives.numpy()[0]) == 1.0


@pytest.mark.parametrize("metric, refused", [
    ({"class_name": "F1Score", "config": {"average": "micro"}},
     "nnplay computes F1Score as f1_score with Keras's default arguments and cannot honour "
     "average='micro': remove it"),
    ({"class_name": "Precision", "config": {"top_k": 2, "name": "p2"}}, "cannot honour top_k=2, name='p2'"),
    ({"class_name": "AUC", "config": {"from_logits": True}}, "cannot honour from_logits=True"),
])
def test_a_metric_argument_nnplay_cannot_honour_is_refused_with_a_message(metric, refused):
    assert refused in str(validate(v2(train={"metrics": [metric]}))[0])


def test_a_threshold_on_a_softmax_output_is_refused():
    exp = v2(data={"dataset": "iris"}, train={"metrics": [
        {"class_name": "Recall", "config": {"thresholds": 0.3}}]})
    assert str(validate(exp, describe(exp.data))[0]) == (
        "train.metric_options.recall.thresholds: needs one sigmoid output, but this model has 3 "
        "outputs (one per class, the largest wins): remove it")


# ---- layers ----------------------------------------------------------------------------------

def test_activation_layers_relu_softmax_leakyrelu_and_activation():
    exp = v2(model={"input_shape": [4], "layers": [
        {"type": "Dense", "units": 8}, {"type": "ReLU"}, {"type": "Dense", "units": 8},
        {"type": "LeakyReLU", "alpha": 0.1}, {"type": "Dense", "units": 8},
        {"type": "Activation", "activation": "tanh"}, {"type": "Dense", "units": 3}, {"type": "Softmax"}],
        "output": "none"})
    assert exp.model.layers[3] == {"type": "LeakyReLU", "negative_slope": 0.1}
    info = info_from_shape(exp)
    assert (info.task, info.n_classes) == ("multiclass", 3)
    built = build(exp)
    assert [type(layer).__name__ for layer in built.model.layers][1::2] == \
        ["ReLU", "LeakyReLU", "Activation", "Softmax"]
    assert built.loss.get_config()["from_logits"] is False       # Softmax layer: probabilities


def test_input_layer_and_input_shape_become_the_models_input_shape():
    for first in ({"type": "InputLayer", "shape": [5]}, {"type": "InputLayer", "input_shape": [5]},
                  {"class_name": "InputLayer", "config": {"batch_shape": [None, 5]}}):
        exp = v2(model={"layers": [first, {"type": "Dense", "units": 2}]})
        assert (exp.model.input_shape, exp.model.layers) == ([5], [{"type": "Dense", "units": 2}])
    exp = v2(model={"layers": [{"type": "Dense", "units": 2, "input_shape": [5]}]})
    assert (exp.model.input_shape, exp.model.layers) == ([5], [{"type": "Dense", "units": 2}])


def test_input_shape_on_a_later_layer_or_a_late_input_layer_is_named():
    exp = v2(model={"layers": [{"type": "Dense", "units": 2}, {"type": "Dense", "units": 2, "input_shape": [5]}]})
    assert "input_shape belongs on the first layer" in str(validate(exp)[0])
    exp = v2(model={"layers": [{"type": "Dense", "units": 2}, {"type": "InputLayer", "shape": [5]}]})
    assert "InputLayer only opens a model" in " ".join(map(str, validate(exp)))


def test_layer_names_are_keras_names_and_must_differ():
    exp = v2(model={"input_shape": [4], "layers": [{"type": "Dense", "units": 8, "name": "hidden"},
                                                   {"type": "Dropout", "rate": 0.1, "name": "drop"}]})
    assert [layer.name for layer in build(exp, BINARY.__class__("x", "table", "binary", (4,), 2)).model.layers][:2] \
        == ["hidden", "drop"]
    twice = v2(model={"layers": [{"type": "Dense", "units": 8, "name": "a"}, {"type": "Dense", "units": 8, "name": "a"}]})
    assert "give each layer its own name" in str(validate(twice)[0])
    assert "already the output head" in str(validate(v2(model={"layers": [
        {"type": "Dense", "units": 8, "name": "output"}]}))[0])
    assert "Keras's layer names" in str(validate(v2(model={"layers": [
        {"type": "Dense", "units": 8, "name": "a/b"}]}))[0])


def test_random_crop_and_random_shear_augment_images():
    exp = v2(data={"dataset": "digits"}, model={"layers": [
        {"type": "RandomCrop", "height": 6, "width": 6}, {"type": "RandomShear", "x_factor": 0.2},
        {"type": "Flatten"}]})
    built = build(exp, DIGITS)
    assert built.model.get_layer("randomcrop_1").output.shape[1:] == (6, 6, 1)
    assert isinstance(built.model.get_layer("randomshear_2"), keras.layers.RandomShear)
    # Keras 3.15's RandomCrop does not crop when predicting (keras-team/keras#21868): a
    # CenterCrop after it does, so the Dense layers see 6x6 images in evaluation too
    assert isinstance(built.model.get_layer("randomcrop_1_centre"), keras.layers.CenterCrop)
    assert built.model(np.zeros((2, 8, 8, 1), "float32"), training=False).shape == (2, 10)
    from nnplay.build import xla_compatible
    assert not xla_compatible(built.model)       # RandomShear's transform: no XLA
    big = v2(model={"layers": [{"type": "RandomCrop", "height": 9, "width": 6}, {"type": "Flatten"}]})
    assert "larger than the 8x8 image" in str(validate(big, DIGITS)[0])


def test_staircase_on_a_schedule():
    exp = v2(train={"lr_schedule": {"type": "ExponentialDecay", "decay_steps": 10, "decay_rate": 0.5,
                                    "staircase": True}})
    assert validate(exp) == []
    schedule = build(exp, BINARY).optimizer._learning_rate
    assert schedule.get_config()["staircase"] is True
    bad = v2(train={"lr_schedule": {"type": "ExponentialDecay", "staircase": "yes"}})
    assert "train.lr_schedule.staircase: must be true or false" in str(validate(bad)[0])


def test_a_describe_sees_one_name_for_one_optimizer():
    from nnplay.spec import differing_settings
    assert differing_settings([v2(train={"optimizer": "Adam"}), v2(train={"optimizer": "adam"})]) == []


# ---- exported code is what a student types ------------------------------------------------

def test_exported_quickstart_reads_like_the_tutorial():
    from nnplay.codegen import export_script
    exp = v2(data={"dataset": "digits"}, model={"layers": [
        {"type": "Flatten"}, {"type": "Dense", "units": 128, "activation": "relu"},
        {"type": "Dropout", "rate": 0.2}, {"type": "Dense", "units": 10}], "output": "none"},
        train={"optimizer": "Adam", "from_logits": True})
    script = export_script(exp)
    assert 'optimizer="adam"' in script                         # Keras's default rate: left out
    assert "keras.losses.SparseCategoricalCrossentropy(from_logits=True)" in script
    assert 'keras.layers.Dense(10, name="dense_4")' in script   # linear: Keras's default, left out
    assert "to_categorical" not in script


def test_exported_one_hot_loss_and_per_class_metrics_run_as_keras():
    from nnplay.codegen import export_script
    exp = v2(data={"dataset": "iris"}, model={"layers": [{"type": "Dense", "units": 3}], "output": "none"},
             train={"loss": "categorical_crossentropy", "from_logits": True, "metrics": ["recall", "f1_score"]})
    namespace = {"__name__": "exported"}
    script = export_script(exp)
    assert "y_train = keras.utils.to_categorical(y_train, 3)" in script
    exec(compile(script, "exported.py", "exec"), namespace)
    model = namespace["build_model"]()
    history = model.fit(np.zeros((6, 4), "float32"), keras.utils.to_categorical([0, 1, 2, 0, 1, 2], 3),
                        epochs=1, verbose=0)
    assert {"loss", "accuracy", "recall_0", "recall_1", "recall_2", "f1_score"} == set(history.history)


# ---- the tutorials' models as presets ------------------------------------------------------

TUTORIAL_PRESETS = ("mnist_quickstart", "mnist_64_64", "fashion_simple", "fashion_deep", "lenet5", "housing")


@pytest.mark.parametrize("name", TUTORIAL_PRESETS)
def test_tutorial_presets_have_the_parameter_count_their_description_gives(name):
    import re
    from nnplay.presets import PRESETS, apply_preset
    exp, _ = apply_preset(Experiment(), name)
    claimed = re.findall(r"([\d,]+) parameters", PRESETS[name]["description"])
    assert len(claimed) == 1
    assert build(exp, describe(exp.data)).model.count_params() == int(claimed[0].replace(",", ""))


def test_the_quickstart_preset_trains_on_logits():
    from nnplay.presets import apply_preset
    exp, _ = apply_preset(Experiment(), "mnist_quickstart")
    built = build(exp, describe(exp.data))
    assert built.model.layers[-1].activation is keras.activations.linear
    assert built.loss.get_config()["from_logits"] is True


# ---- everywhere a spec is read: links and the command line ---------------------------------

def test_a_link_written_with_keras_spellings_reads_as_one_spelling():
    import base64
    import json
    import zlib
    raw = {"version": 2, "train": {"optimizer": "RMSprop", "loss": "MeanSquaredError", "metrics": ["acc"]}}
    link = base64.urlsafe_b64encode(zlib.compress(json.dumps(raw).encode())).decode().rstrip("=")
    t = Experiment.from_url(link).train
    assert (t.optimizer, t.learning_rate, t.loss, t.metrics) == ("rmsprop", 0.001, "mean_squared_error", ["accuracy"])


def test_the_cli_reads_keras_spellings_and_says_its_notes(tmp_path, capsys):
    import json
    from nnplay.cli import main
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"version": 2, "data": {"dataset": "xor", "samples": 40},
                                "model": {"layers": [{"type": "InputLayer", "shape": [2]},
                                                     {"type": "Dense", "units": 4, "name": "hidden"},
                                                     {"type": "ReLU"}]},
                                "train": {"optimizer": "Adam", "loss": "mse", "metrics": ["mae"]}}))
    assert main(["summary", str(spec)]) == 0
    out, err = capsys.readouterr()
    assert "hidden (Dense)" in out and "relu_2 (ReLU)" in out
    assert "nnplay: note: mean_squared_error on a classifier is unusual" in err
    assert "nnplay: note: metric mae is left out" in err
    spec.write_text(json.dumps({"version": 1, "data": {"dataset": "xor"},
                                "model": {"layers": [{"type": "Dense", "units": 4}]}}))
    assert main(["summary", str(spec)]) == 0
    assert "this spec is version 1, so it keeps nnplay's old defaults" in capsys.readouterr().err


@pytest.mark.parametrize("dataset", ["iris", "xor"])
def test_training_reports_f1_precision_and_recall_on_validation_too(dataset):
    from nnplay.engine import Engine
    exp = v2(data={"dataset": dataset, "samples": 60},
             train={"optimizer": "adam", "epochs": 2, "metrics": ["precision", "recall", "f1_score"]})
    data = load(exp.data)
    engine = Engine(build(exp, data.info), data, exp.train)
    rows = []
    while not engine.done:
        rows += engine.run_chunk()
    assert {"accuracy", "precision", "recall", "f1_score", "val_precision", "val_recall", "val_f1_score"} <= set(rows[-1])
    assert all(0.0 <= rows[-1][k] <= 1.0 for k in ("val_precision", "val_recall", "val_f1_score"))


def test_keras_augmentation_layers_at_the_top_become_the_specs_augmentation():
    exp = v2(data={"dataset": "digits"}, model={"layers": [
        {"type": "RandomFlip", "mode": "horizontal", "input_shape": [8, 8, 1]},
        {"type": "RandomRotation", "factor": 0.1}, {"type": "RandomZoom", "height_factor": 0.1},
        {"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1},
        {"type": "Conv2D", "filters": 4, "activation": "relu"}, {"type": "Flatten"}]})
    assert exp.train.augmentation == {"flip": "horizontal", "rotation": 0.1, "zoom": 0.1, "translation": 0.1}
    assert [layer["type"] for layer in exp.model.layers] == ["Conv2D", "Flatten"]
    model = build(exp, DIGITS).model
    assert [type(layer).__name__ for layer in model.layers][:4] == \
        ["RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation"]
    late = v2(model={"layers": [{"type": "Flatten"}, {"type": "RandomFlip"}]})
    assert "read as augmentation only at the top of the stack" in str(validate(late, DIGITS)[0])
