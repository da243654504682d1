"""The experiment spec: JSON and URL forms, and validation messages that say what to change."""
import json

import pytest

from nnplay.data import DatasetInfo
from nnplay.spec import Experiment, SpecError, check, validate

IMAGE = DatasetInfo("digits", "image", "multiclass", (8, 8, 1), 10)
FLAT = DatasetInfo("iris", "table", "multiclass", (4,), 3)
SEQ = DatasetInfo("sine", "sequence", "regression", (20, 1))
TEXT = DatasetInfo("imdb", "text", "binary", (200,), 2, vocab_size=8000)


def messages(exp, info=None):
    return [str(p) for p in validate(exp, info)]


def with_layers(*layers, **model):
    return Experiment.from_dict({"model": {"layers": list(layers), **model}})


def test_json_round_trip_is_exact():
    exp = Experiment.from_dict({
        "data": {"dataset": "spiral", "features": ["x1", "x2", "sin(x1)"], "noise": 0.2},
        "model": {"layers": [{"type": "Dense", "units": 8, "activation": "relu",
                              "kernel_regularizer": {"l2": 0.001}},
                             {"type": "Dropout", "rate": 0.3}]},
        "train": {"optimizer": "adam", "early_stopping": {"patience": 5},
                  "lr_schedule": {"type": "ExponentialDecay", "decay_steps": 100, "decay_rate": 0.5}}})
    text = exp.to_json()
    assert Experiment.from_json(text) == exp
    assert json.loads(Experiment.from_json(text).to_json()) == json.loads(text)
    assert json.loads(text)["version"] == 2   # issue #9: version 2 means Keras's defaults


def test_url_form_round_trips_and_is_url_safe():
    exp = with_layers({"type": "Dense", "units": 16}, {"type": "Dropout", "rate": 0.5})
    url = exp.to_url()
    assert set(url) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert Experiment.from_url(url) == exp


def test_damaged_link_says_so():
    with pytest.raises(SpecError, match="damaged or cut short"):
        Experiment.from_url(Experiment().to_url()[:-10])


def test_unknown_keys_and_sections_are_refused():
    with pytest.raises(SpecError, match="data.colour: unknown key"):
        Experiment.from_dict({"data": {"colour": "red"}})
    with pytest.raises(SpecError, match="unknown section"):
        Experiment.from_dict({"optimiser": {}})
    with pytest.raises(SpecError, match="newer nnplay"):
        Experiment.from_dict({"version": 99})


def test_default_experiment_is_valid():
    assert validate(Experiment()) == []


@pytest.mark.parametrize("layer, expected", [
    ({"type": "Dense", "units": -3}, "layer 1 (Dense): 'units' must be at least 1"),
    ({"type": "Dense", "units": 2.5}, "'units' must be a whole number"),
    ({"type": "Dropout", "rate": 1.0}, "layer 1 (Dropout): 'rate' must be below 1"),
    ({"type": "Dense", "units": 4, "activation": "relu7"}, "'activation' must be one of"),
    ({"type": "Convolution"}, "unknown layer type 'Convolution'; choose one of Dense"),
    ({"type": "Dense", "unit": 4}, "Dense has no parameter 'unit'"),
    ({"type": "Dense", "kernel_regularizer": {"l3": 1}}, "must look like {\"l2\": 0.001}"),
    ({"type": "Bidirectional", "layer": {"type": "Dense"}}, "Bidirectional wraps a recurrent layer"),
])
def test_bad_layer_values_name_the_layer(layer, expected):
    assert any(expected in m for m in messages(with_layers(layer)))


def test_kernel_larger_than_input():
    exp = with_layers({"type": "Conv2D", "filters": 4, "kernel_size": 9})
    (problem,) = validate(exp, IMAGE)
    assert problem.layer == 0
    assert "kernel [9, 9] is larger than its [8, 8] input" in problem.message


def test_conv_after_flatten():
    exp = with_layers({"type": "Flatten"}, {"type": "Conv2D"})
    (problem,) = validate(exp, IMAGE)
    assert problem.layer == 1 and "move it before Flatten" in problem.message


def test_lstm_on_flat_vector():
    (problem,) = validate(with_layers({"type": "LSTM", "units": 8}), FLAT)
    assert "LSTM reads a sequence" in problem.message and "Reshape" in problem.message


def test_embedding_must_be_first():
    exp = with_layers({"type": "Dense", "units": 4}, {"type": "Embedding"}, input_shape=[10])
    assert any("must be the first layer" in m for m in messages(exp))


def test_text_needs_embedding_first():
    assert any("Embedding" in m for m in messages(with_layers({"type": "Dense"}), TEXT))


def test_stack_must_end_flat():
    (problem,) = validate(with_layers({"type": "Conv2D"}), IMAGE)
    assert "add Flatten or GlobalAveragePooling2D" in problem.message
    assert "return_sequences" not in problem.message  # no recurrent layer to change
    (problem,) = validate(with_layers({"type": "LSTM", "units": 4, "return_sequences": True}), SEQ)
    assert "set return_sequences false" in problem.message


def test_head_must_fit_the_task():
    exp = with_layers({"type": "Dense", "units": 4, "activation": "softmax"}, output="none")
    (problem,) = validate(exp, FLAT)
    assert "outputs 4 values but the data has 3 classes: set its units to 3" in problem.message
    exp.model.layers[0]["units"] = 3
    assert validate(exp, FLAT) == []


def test_loss_must_fit_the_task():
    # issue #9: squared error on classes is now legal (with a note); a binary loss on 3 classes is not
    exp = Experiment.from_dict({"train": {"loss": "binary_crossentropy"}})
    assert any("does not fit a multiclass task" in m for m in messages(exp, FLAT))


def test_recurrent_stack_on_sequences_is_valid():
    exp = with_layers({"type": "LSTM", "units": 8, "return_sequences": True},
                      {"type": "GRU", "units": 4})
    assert validate(exp, SEQ) == []


@pytest.mark.parametrize("train, expected", [
    ({"optimizer": "adamw"}, "train.optimizer: must be one of sgd"),
    ({"learning_rate": 0}, "train.learning_rate: must be in (0, 10]"),
    ({"batch_size": "32"}, "train.batch_size: must be a whole number"),
    ({"lr_schedule": {"type": "StepDecay"}}, "train.lr_schedule"),
    ({"early_stopping": {"patience": -1}}, "train.early_stopping.patience"),
    ({"augmentation": {"rotation": 2}}, "train.augmentation.rotation"),
])
def test_bad_training_settings(train, expected):
    assert any(expected in m for m in messages(Experiment.from_dict({"train": train})))


def test_bad_data_settings():
    exp = Experiment.from_dict({"data": {"validation_split": 0.6, "test_split": 0.5,
                                         "features": ["x3"]}})
    found = messages(exp)
    assert any("unknown feature 'x3'" in m for m in found)
    assert any("data.test_split" in m or "leave at least" in m for m in found)


def test_check_raises_with_every_problem():
    exp = with_layers({"type": "Dense", "units": 0}, {"type": "Dropout", "rate": 2})
    with pytest.raises(SpecError) as err:
        check(exp)
    assert len(err.value.problems) == 2


def test_differing_settings_names_only_what_changed():
    from nnplay.spec import differing_settings, flatten
    a = Experiment()
    b = Experiment.from_dict({"train": {"optimizer": "adam"},
                              "model": {"layers": [{"type": "Dense", "units": 8, "activation": "relu"},
                                                   {"type": "Dropout", "rate": 0.5}]}})
    # naming Adam without a rate gives Adam's own (Keras's 0.001): the rate differs too
    assert differing_settings([a, b, a.copy()]) == ["model.layers", "train.optimizer",
                                                    "train.learning_rate"]
    assert flatten(b)["model.layers"] == "Dense(8, relu) → Dropout(0.5)"
    assert differing_settings([a, a.copy()]) == []


def test_embedding_must_cover_the_vocabulary():
    exp = with_layers({"type": "Embedding", "input_dim": 1000}, {"type": "LSTM", "units": 4})
    (problem,) = validate(exp, TEXT)
    assert problem.layer == 0 and "set input_dim to 8000" in problem.message


def test_settings_and_changes_are_said_in_words():
    from nnplay.spec import describe_change, describe_value, setting_title
    assert setting_title("train.learning_rate") == "learning rate"
    assert setting_title("data.something_new") == "something new"
    assert describe_change("train.optimizer", "sgd", "adam") == "Optimizer changed from SGD to Adam"
    assert describe_change("data.validation_split", 0.5, 0.25) == \
        "Validation share changed from 50% to 25%"
    assert describe_value("data.features", ["x1", "x2"]) == "x1, x2"
    assert describe_value("train.regularization", None) == "none"
