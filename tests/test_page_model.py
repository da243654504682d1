"""The Model page through Streamlit's AppTest: the layer editor changes the one experiment,
presets switch data when they need to, problems appear next to their layer, and the summary
comes from the real Keras model."""
import functools

import pytest

from nnplay import presets, stack
from nnplay.spec import Experiment

from conftest import button, experiment, make_exp, open_page, texts

# each test has its own job manager and run store
pytestmark = pytest.mark.usefixtures("app_store", "jobs")

PLAYGROUND = [{"type": "Dense", "units": 4, "activation": "tanh"},
              {"type": "Dense", "units": 2, "activation": "tanh"}]


page = functools.partial(open_page, "views/model.py")   # page(exp, **state): the page opened


def layers(at) -> list:
    return experiment(at).model.layers


def card(at, index: int):
    """The bordered container of layer `index` (0-based)."""
    from streamlit.testing.v1.element_tree import Block

    def find(node):
        if isinstance(node, Block):
            if node.proto is not None and str(getattr(node.proto, "id", "")).endswith(
                    f"-layer_card_{index}"):
                return node
            for child in node.children.values():
                found = find(child)
                if found is not None:
                    return found
        return None
    return find(at.main)


def test_adding_editing_and_removing_layers():
    at = page()
    at.selectbox(key="add_layer_kind").set_value("Dropout").run()
    button(at, "Add").click().run()
    assert layers(at)[-1] == {"type": "Dropout", "rate": 0.5}
    at.number_input(key="w:layer.2.rate").set_value(0.25).run()
    at.number_input(key="w:layer.0.units").set_value(16).run()
    at.selectbox(key="w:layer.0.activation").set_value("relu").run()
    assert layers(at)[0] == {"type": "Dense", "units": 16, "activation": "relu"}
    assert layers(at)[2]["rate"] == 0.25
    assert "**1 · Dense(16, relu)** → `(None, 16)`" in texts(at.markdown)
    at.button(key="layer_delete_2").click().run()
    assert layers(at) == [{"type": "Dense", "units": 16, "activation": "relu"}, PLAYGROUND[1]]
    assert not at.exception


def test_move_and_duplicate_keep_each_layers_settings():
    at = page()
    at.button(key="layer_down_0").click().run()
    assert layers(at) == PLAYGROUND[::-1]
    assert at.number_input(key="w:layer.0.units").value == 2  # widgets re-read the new order
    at.button(key="layer_up_1").click().run()
    at.button(key="layer_copy_1").click().run()
    assert layers(at) == [PLAYGROUND[0], PLAYGROUND[1], PLAYGROUND[1]]
    assert at.button(key="layer_up_0").disabled and at.button(key="layer_down_2").disabled
    assert not at.exception


def test_advanced_parameters_and_regularizer():
    at = page()
    at.checkbox(key="w:layer.0.use_bias").uncheck().run()
    at.selectbox(key="w:layer.0.kernel_regularizer.kind").set_value("l2").run()
    at.number_input(key="w:layer.0.kernel_regularizer.l2").set_value(0.01).run()
    first = layers(at)[0]
    assert first["use_bias"] is False and first["kernel_regularizer"] == {"l2": 0.01}
    assert "kernel_initializer" not in first  # defaults stay implied: a short spec
    at.selectbox(key="w:layer.0.kernel_regularizer.kind").set_value("none").run()
    assert layers(at)[0]["kernel_regularizer"] is None
    assert not at.exception


def test_bidirectional_wraps_a_chosen_recurrent_layer():
    at = page(make_exp(data={"dataset": "sunspots"}, model={"layers": []}))
    assert "No layers yet" in texts(at.info)
    at.selectbox(key="add_layer_kind").set_value("Bidirectional").run()
    button(at, "Add").click().run()
    at.selectbox(key="w:layer.0.layer.type").set_value("GRU").run()
    at.number_input(key="w:layer.0.layer.units").set_value(8).run()
    assert layers(at)[0]["layer"] == {"type": "GRU", "units": 8}
    assert "Bidirectional(GRU(8))** → `(None, 16)`" in texts(at.markdown)
    assert not at.exception


def test_reshape_takes_a_shape_as_text_and_refuses_nonsense():
    at = page(make_exp(data={"dataset": "iris"},
                       model={"layers": [{"type": "Reshape", "target_shape": [4]}]}))
    at.text_input(key="w:layer.0.target_shape").set_value("2, 2").run()
    assert layers(at)[0]["target_shape"] == [2, 2]
    at.text_input(key="w:layer.0.target_shape").set_value("2, x").run()
    assert "is not a shape" in texts(card(at, 0).get("error"))
    assert layers(at)[0]["target_shape"] == [2, 2]
    at.text_input(key="w:layer.0.target_shape").set_value("3, 2").run()
    assert "holds 6 values but the input [4] has 4" in texts(card(at, 0).get("error"))
    assert not at.exception


def test_a_fixed_input_shape_can_go_back_to_the_datas():
    at = page(make_exp(data={"dataset": "iris"},
                       model={"input_shape": [13], "layers": [{"type": "Dense", "units": 3}]}))
    assert "set in the spec" in texts(at.markdown)
    button(at, "Use the data's shape").click().run()
    assert experiment(at).model.input_shape is None
    assert "from *Iris flowers*" in texts(at.markdown)
    assert not at.exception


def test_a_number_the_field_cannot_take_is_said_where_the_field_is():
    # a link asked for Dense(10,000,000): the field takes at most 8,192 and says so
    exp = make_exp(model={"layers": [{"type": "Dense", "units": 10_000_000, "activation": "tanh"}]})
    at = page(exp)
    assert not at.exception
    said = [w.value for w in card(at, 0).warning]
    assert any("**units** was 10,000,000" in w and "it now reads 8,192" in w for w in said), said
    assert layers(at)[0]["units"] == 8_192
    at.run()   # the field has written its value: nothing more to say
    assert not [w for w in card(at, 0).warning if "was 10,000,000" in w.value]


def test_impossible_stack_is_explained_next_to_the_layer():
    exp = make_exp(data={"dataset": "digits"},
                   model={"layers": [{"type": "Flatten"}, {"type": "Conv2D"}]})
    at = page(exp)
    errors = card(at, 1).get("error")
    assert "Conv2D needs an image" in errors[0].value and "move it before Flatten" in errors[0].value
    assert not card(at, 0).get("error")
    assert "Summary" not in texts(at.subheader)
    assert not at.exception


def test_problem_of_the_whole_model_is_shown_at_the_top():
    at = page(make_exp(data={"dataset": "digits"}, model={"layers": [], "output": "none"}))
    assert "needs at least one layer" in texts(at.error)
    assert not at.exception


def test_summary_comes_from_the_keras_model():
    at = page()
    assert "**Total params: 25**" in texts(at.markdown)
    table = at.table[0].value
    assert list(table["Layer (type)"]) == ["dense_1 (Dense)", "dense_2 (Dense)", "output (Dense)"]
    assert list(table["Output shape"]) == ["(None, 4)", "(None, 2)", "(None, 1)"]
    assert list(table["Param #"]) == ["12", "10", "3"]
    assert "None, is the batch" in texts(at.caption)  # the Keras form, explained
    assert "**1 · Dense(4, tanh)** → `(None, 4)` · 4 values per sample" in texts(at.markdown)
    assert "from *Circle*: 2 values per sample" in texts(at.markdown)
    assert not at.exception


def test_output_head_choice_is_explained():
    at = page(make_exp(data={"dataset": "iris"}))
    assert "Dense(3, softmax)" in texts(at.caption)
    at.segmented_control(key="w:model.output").set_value("none").run()
    assert experiment(at).model.output == "none"
    assert "must have 3 units" in texts(at.caption)
    assert "outputs 2 values but the data has 3 classes" in texts(card(at, 1).get("error"))
    assert not at.exception


def test_cnn_preset_switches_to_digits_and_says_so():
    at = page()
    at.selectbox(key="preset_choice").set_value("cnn").run()
    button(at, "Apply preset").click().run()
    exp = experiment(at)
    assert exp.data.dataset == "digits"
    assert [layer["type"] for layer in exp.model.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    notice = texts(at.success)
    assert "Dataset changed from Circle (2-D points) to Digits (8×8 images)" in notice
    assert "Optimizer changed from SGD to Adam" in notice and "data.dataset" not in notice
    assert "Total params" in texts(at.markdown) and not at.error
    assert not at.exception


def test_preset_for_a_missing_download_falls_back_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    exp, changes = presets.apply_preset(Experiment(), "mlp",
                                        available=lambda name: name != "mnist")
    assert exp.data.dataset == "digits" and changes[0].startswith(
        "MNIST digits (28×28 images) is not downloaded, so the data is Digits (8×8 images)")
    assert presets.apply_preset(Experiment(), "mlp")[0].data.dataset == "mnist"


def test_a_preset_whose_data_is_missing_says_so_before_apply(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    at = page()
    at.selectbox(key="preset_choice").set_value("bilstm_text").run()
    assert texts(at.warning).startswith("IMDB movie reviews: not on this computer yet")
    assert at.session_state["nnplay_experiment"].data.dataset == "circle"   # nothing changed yet
    assert not at.exception


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_every_preset_fits_its_data(name):
    from nnplay.data import describe
    from nnplay.spec import validate
    exp, _ = presets.apply_preset(Experiment(), name)
    assert validate(exp, describe(exp.data)) == []
    if "fallback_dataset" in presets.PRESETS[name]:
        exp.data.dataset = presets.PRESETS[name]["fallback_dataset"]
        assert validate(exp, describe(exp.data)) == []


def test_export_code_shows_the_script_and_a_download():
    at = page(export_open=True)
    code = at.code[0].value
    assert 'keras.layers.Dense(4, activation="tanh", name="dense_1")' in code
    assert at.get("download_button") and not at.exception


def test_keras_set_without_cache_still_edits(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    at = page(make_exp(data={"dataset": "mnist"}, model={"layers": [{"type": "Flatten"}]}))
    assert "**1 · Flatten()** → `(None, 784)`" in texts(at.markdown)
    assert not at.exception


def test_shapes_are_said_in_words():
    assert stack.shape_words((4,)) == "4 values per sample"
    assert stack.shape_words((1,)) == "1 value per sample"
    assert stack.shape_words((8, 8, 16)) == "8×8 grid of 16 values per sample"
    assert stack.shape_words((20, 1)) == "20 steps of 1 value per sample"
    assert stack.shape_words(None) == "shape unknown"


def test_preset_keeping_the_data_changes_only_model_and_training():
    exp = make_exp(data={"dataset": "digits"}, train={"learning_rate": 0.01})
    new, changes = presets.apply_preset(exp, "cnn", keep_data=True)
    assert new.data == exp.data and new.model.layers[0]["type"] == "Conv2D"
    assert changes == ["Optimizer changed from SGD to Adam", "Learning rate changed from 0.01 to 0.001",
                       "Batch size changed from 10 to 32"]


def test_a_new_dense_layer_starts_as_relu_written_out_and_a_keras_dense_reads_linear():
    # issue #9: the spec's Dense defaults to Keras's linear; the editor pre-fills relu explicitly
    at = page()
    at.selectbox(key="add_layer_kind").set_value("Dense").run()
    button(at, "Add").click().run()
    assert layers(at)[-1] == {"type": "Dense", "units": 8, "activation": "relu"}
    at = page(Experiment.from_dict({"version": 2, "model": {"layers": [{"type": "Dense", "units": 3}]}}))
    assert at.selectbox(key="w:layer.0.activation").value == "linear"
    assert "**1 · Dense(3, linear)**" in texts(at.markdown) and not at.exception
