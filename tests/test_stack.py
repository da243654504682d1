"""nnplay/stack.py: the Model page's layer stack as pure functions of the spec."""
from nnplay import stack
from nnplay.data import describe
from nnplay.spec import Problem

from conftest import make_exp


def test_the_input_shape_is_the_specs_own_else_the_datas():
    info = describe(make_exp(data={"dataset": "iris"}).data)
    assert stack.input_shape(make_exp(data={"dataset": "iris"}).model, info) == (4,)
    fixed = make_exp(model={"input_shape": [13], "layers": []}).model
    assert stack.input_shape(fixed, info) == (13,) and stack.input_shape(fixed, None) == (13,)
    assert stack.input_shape(make_exp().model, None) is None


def test_problems_are_split_between_their_layer_and_the_whole_model():
    problems = [Problem("model.layers[1]", "a", 1), Problem("model", "b", None),
                Problem("model.layers[5]", "c", 5)]
    by_layer, whole = stack.problems_by_layer(problems, n_layers=2)
    assert by_layer == {1: [problems[0]]} and whole == [problems[1], problems[2]]


def test_diagram_boxes_carry_shapes_and_keras_parameter_counts_by_layer_name():
    exp = make_exp(model={"layers": [{"type": "Dense", "units": 4, "activation": "tanh"},
                                     {"type": "Dropout", "rate": 0.5}]})
    info = describe(exp.data)
    shapes = stack.layer_shapes(exp.model.layers, stack.input_shape(exp.model, info))
    boxes = stack.diagram_boxes(exp.model, info, shapes, {1}, {"dense_1": 12, "output": 5})
    assert [b["title"] for b in boxes] == ["Input", "Dense(4, tanh)", "Dropout(0.5)",
                                           "output: Dense(1, sigmoid)"]
    assert [b["shape"] for b in boxes] == ["(None, 2)", "(None, 4)", "(None, 4)", "(None, 1)"]
    assert [b.get("params") for b in boxes] == [None, 12, None, 5]
    assert [b.get("problem") for b in boxes[1:3]] == [False, True]


def test_the_output_head_is_explained_for_the_task():
    iris = describe(make_exp(data={"dataset": "iris"}).data)
    assert "`Dense(3, softmax)` named *output*" in stack.head_text("auto", iris)
    assert "must have 3 units" in stack.head_text("none", iris)


def test_the_input_line_says_where_the_shape_comes_from():
    iris = make_exp(data={"dataset": "iris"})
    info = describe(iris.data)
    assert stack.input_text(iris.model, info, "Iris flowers") == \
        "**Input** `(None, 4)` from *Iris flowers*: 4 values per sample"
    fixed = make_exp(model={"input_shape": [13], "layers": []}).model
    assert stack.input_text(fixed, info, "Iris flowers") == \
        "**Input** `(None, 13)` (13 values per sample), set in the spec (the data's is `(None, 4)`)"
    assert "the data's is `?`" in stack.input_text(fixed, None, "CSV")
    assert stack.input_text(iris.model, None, "Iris flowers") is None
