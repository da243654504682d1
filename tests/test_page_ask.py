"""Inspect › Ask the model through AppTest: the probabilities drawn for an example are the
model's own (they sum to 1 and match model.predict), the most confidently wrong example is
wrong, and a typed input changes the prediction."""
import json

import numpy as np
import pytest

from nnplay import ask
from nnplay.data import load
from nnplay.inspection import class_probabilities
from nnplay.job import MANAGER

from conftest import charts, make_exp, open_page, trace_values

PAGE = "views/inspect.py"


def trained(exp):
    job = MANAGER.submit(exp, load(exp.data))
    assert job.wait(120).status == "completed"
    return job


@pytest.fixture(scope="module")
def iris_job():
    return trained(make_exp(data={"dataset": "iris"},
                            model={"layers": [{"type": "Dense", "units": 8, "activation": "relu"}]},
                            train={"epochs": 5, "optimizer": "adam", "learning_rate": 0.01}))


def ask_tab(job):
    at = open_page(PAGE, job.exp, nnplay_job_id=job.id, inspect_tab="Ask the model")
    assert not at.exception
    return at


def bars(at) -> list[np.ndarray]:
    """The probabilities of every bar chart on the page, in page order."""
    found = []
    for figure in charts(at):
        spec = json.loads(figure)
        found += [np.array(trace_values(t["y"]), float) for t in spec["data"] if t.get("type") == "bar"]
    return found


def test_an_examples_probabilities_are_the_models_own(iris_job):
    at = ask_tab(iris_job)
    at.number_input(key="ask_number").set_value(3).run()
    example, own = bars(at)
    x = iris_job.dataset.x_val[3:4]
    expected = class_probabilities(iris_job.engine.model.predict(x, verbose=0))[0]
    assert example.sum() == pytest.approx(1.0, abs=1e-6)
    assert example == pytest.approx(expected, abs=1e-5)
    assert any("The model says" in c.value for c in at.caption)


def test_the_most_confidently_wrong_example_is_wrong(iris_job):
    at = ask_tab(iris_job)
    at.radio(key="ask_way").set_value("most confidently wrong").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "wrong: it is" in captions or any("No validation example is wrong" in s.value
                                              for s in at.success)


def test_a_typed_input_changes_the_prediction(iris_job):
    at = ask_tab(iris_job)
    sliders = [at.slider(key=f"ask_feature_{j}") for j in range(4)]
    assert [s.label for s in sliders] == list(iris_job.dataset.info.feature_names)
    before = bars(at)[1]
    assert before.sum() == pytest.approx(1.0, abs=1e-6)
    # small petals: a setosa; large petals: not one
    for j, s in enumerate(sliders):
        s.set_value(s.min if j >= 2 else s.max)
    at.run()
    small = bars(at)[1]
    for j in (2, 3):
        at.slider(key=f"ask_feature_{j}").set_value(at.slider(key=f"ask_feature_{j}").max)
    at.run()
    large = bars(at)[1]
    assert not at.exception
    assert small.argmax() == 0                      # setosa
    assert small[0] - large[0] > 0.2                # larger petals: much less of a setosa


def test_typed_values_are_prepared_as_training_data_was(iris_job):
    ds = iris_job.dataset
    raw = ask.raw_training_inputs(ds)
    assert ask.typed_input(raw[5], ds) == pytest.approx(ds.x_train[5:6], abs=1e-5)
    lows = [f.low for f in ask.features(ds)]
    assert lows == pytest.approx(raw.min(axis=0))


def test_a_toy_offers_sliders_and_the_plane():
    job = trained(make_exp(train={"epochs": 3}))
    at = ask_tab(job)
    assert [at.slider(key=f"ask_feature_{j}").label for j in range(2)] == ["x1", "x2"]
    at.slider(key="ask_feature_0").set_value(0.0)
    at.slider(key="ask_feature_1").set_value(0.0).run()
    assert not at.exception
    centre = bars(at)[-1]
    corner_point = [at.slider(key=f"ask_feature_{j}").max for j in range(2)]
    at.slider(key="ask_feature_0").set_value(corner_point[0])
    at.slider(key="ask_feature_1").set_value(corner_point[1]).run()
    corner = bars(at)[-1]
    x = job.dataset.features_for(np.array([corner_point], np.float32))
    assert corner == pytest.approx(class_probabilities(job.predict(x))[0], abs=1e-5)
    assert not np.allclose(centre, corner)


def test_a_drawing_is_scaled_to_the_sets_picture_as_training_images_are():
    ds = load(make_exp(data={"dataset": "digits"}).data)
    canvas = np.zeros((252, 252, 4), np.uint8)
    canvas[..., :3] = 255
    canvas[40:200, 110:140] = (0, 0, 0, 255)          # a vertical stroke: a "1"
    x, picture = ask.drawing_input(canvas, ds)
    assert x.shape == (1, 8, 8, 1) and picture.shape == (8, 8)
    assert picture[:, 3:5].mean() > 0.5 and picture[:, 0].max() < 0.05
    assert x[0, ..., 0] == pytest.approx(ds.input_scaler(picture[None, ..., None])[0, ..., 0])
    empty = np.full((252, 252, 4), 255, np.uint8)
    empty[..., 3] = 0
    assert ask.drawing_input(empty, ds) is None


def test_a_sentence_becomes_keras_imdb_word_ids():
    index = {"a": 3, "great": 84, "film": 19}
    ids = ask.text_input("A great film, zyzzyva!", None, num_words=50, maxlen=6, word_index=index)
    assert ids.tolist() == [[0, 1, 6, 2, 22, 2]]   # start, a, great (rare), film, unknown


def two_column_csv(n: int = 200) -> bytes:
    rng = np.random.default_rng(0)
    points = rng.uniform(-3, 3, size=(n, 2))
    label = np.where(points[:, 0] * points[:, 1] > 0, "same", "different")   # an xor
    lines = ["height,weight,kind"] + [f"{a:.3f},{b:.3f},{c}" for (a, b), c in zip(points, label)]
    return "\n".join(lines).encode()


def test_a_two_column_csv_is_a_plane_with_a_decision_grid():
    from nnplay.data import load_csv
    from nnplay.inspection import on_plane
    exp = make_exp(data={"dataset": "csv", "target": "kind"},
                   model={"layers": [{"type": "Dense", "units": 4, "activation": "tanh"}]},
                   train={"epochs": 3})
    ds = load_csv(two_column_csv(), exp.data)
    assert on_plane(ds) and ds.raw_train.shape == (len(ds.x_train), 2)
    assert ds.features_for(ds.raw_val) == pytest.approx(ds.x_val, abs=1e-5)
    job = MANAGER.submit(exp, ds)
    snap = job.wait(120)
    assert snap.status == "completed" and snap.grid.shape == (100, 100)
    at = open_page(PAGE, exp, nnplay_job_id=job.id, inspect_tab="Network")
    assert not at.exception
    assert {"Network", "Ask the model", "One step"} <= {t.label for t in at.tabs}
    assert len(charts(at)) == 1
    at = ask_tab(job)
    assert [at.slider(key=f"ask_feature_{j}").label for j in range(2)] == ["height", "weight"]


def test_a_csv_with_more_columns_is_not_a_plane():
    from nnplay.data import load_csv
    from nnplay.inspection import on_plane
    text = b"a,b,c,y\n" + b"\n".join(f"{i},{i % 7},{i % 3},{i % 2}".encode() for i in range(60))
    assert not on_plane(load_csv(text, make_exp(data={"dataset": "csv", "target": "y"}).data))


def test_regression_shows_the_predicted_value_against_the_true_one():
    job = trained(make_exp(data={"dataset": "diabetes"},
                           model={"layers": [{"type": "Dense", "units": 8, "activation": "relu"}]},
                           train={"epochs": 3, "optimizer": "adam", "learning_rate": 0.01}))
    at = ask_tab(job)
    example, own = at.metric[0], at.metric[1]
    assert example.label == own.label == "Predicted"
    ds = job.dataset
    value = ds.target_offset + float(job.predict(ds.x_val[:1])[0, 0]) * ds.target_scale
    assert float(example.value) == pytest.approx(value, rel=1e-3)
    assert "from the true" in example.delta
    at.radio(key="ask_way").set_value("most confidently wrong").run()   # the largest error
    assert not at.exception
    errors = np.abs(job.predict(ds.x_val)[:, 0] - ds.y_val)
    worst = ds.target_offset + float(job.predict(ds.x_val[errors.argmax()][None])[0, 0]) * ds.target_scale
    assert float(at.metric[0].value) == pytest.approx(worst, rel=1e-3)


def test_a_series_example_is_drawn_and_has_no_typed_input():
    job = trained(make_exp(data={"dataset": "sine"},
                           model={"layers": [{"type": "Flatten"}, {"type": "Dense", "units": 8}]},
                           train={"epochs": 2}))
    at = ask_tab(job)
    assert at.metric[0].label == "Predicted"
    assert any("no input to type" in c.value for c in at.caption)
