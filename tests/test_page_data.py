"""The Data page through Streamlit's AppTest: its controls write the one experiment, each kind
of data gets a preview, and bad data shows the core's message instead of a traceback."""
import functools

import numpy as np
import pytest

from conftest import button, charts, experiment, make_exp, open_page, texts
from nnplay import data
from nnplay.spec import Experiment

# each test has its own job manager and run store (uploads land in its NNPLAY_HOME, tmp_path)
pytestmark = pytest.mark.usefixtures("app_store", "jobs")


page = functools.partial(open_page, "views/data.py")   # page(exp, **state): the page opened


def test_toy_controls_write_the_experiment():
    at = page()
    at.slider(key="w:data.noise").set_value(0.3).run()
    at.slider(key="w:data.samples").set_value(300).run()
    at.slider(key="w:data.validation_split").set_value(0.3).run()
    at.pills(key="w:data.features").set_value(["x1", "x2", "x1*x2"]).run()
    at.segmented_control(key="w:data.normalize").set_value("minmax").run()
    d = experiment(at).data
    assert (d.noise, d.samples, d.validation_split) == (0.3, 300, 0.3)
    assert d.features == ["x1", "x2", "x1*x2"] and d.normalize == "minmax"
    assert "210 for training · 90 for validation" in texts(at.caption)
    assert charts(at) and not at.exception


def test_regenerate_draws_new_points():
    at = page()
    seed = experiment(at).data.seed
    button(at, "Regenerate").click().run()
    assert experiment(at).data.seed == seed + 1


def test_no_input_feature_is_refused_with_the_spec_message():
    at = page()
    at.pills(key="w:data.features").set_value([]).run()
    assert "at least one input feature" in texts(at.error)
    assert not at.exception


def test_choosing_a_table_keeps_the_model():
    at = page()
    layers = list(experiment(at).model.layers)
    at.segmented_control(key="w:data.kind").set_value("table").run()
    assert experiment(at).data.dataset == "iris"
    at.pills(key="w:data.dataset").set_value("wine").run()
    at.pills(key="w:data.dataset").set_value("iris").run()
    exp = experiment(at)
    assert exp.data.dataset == "iris" and exp.model.layers == layers
    frame = at.dataframe[0].value
    assert "petal length (cm)" in frame.columns and set(frame["target"]) <= {
        "setosa", "versicolor", "virginica"}
    assert any(m.label == "Predicts" and m.value == "3 classes" for m in at.metric)
    assert "Dense(3, softmax)" in texts(at.caption)
    assert len(charts(at)) == 1 and not at.exception


def test_regression_table_shows_the_target_values():
    at = page(make_exp(data={"dataset": "diabetes"}))
    assert any(m.value == "a number" for m in at.metric)
    assert "Target values" in charts(at)[0]
    assert not at.exception


def test_images_show_a_grid_and_the_class_balance():
    at = page(make_exp(data={"dataset": "digits"}))
    specs = charts(at)
    assert any("training images" in s for s in specs) and any("Examples per class" in s for s in specs)
    assert "Flatten" in texts(at.warning)  # the toy model's Dense layers need a Flatten first
    assert not at.exception


def test_images_offer_the_cnn_preset_in_one_click():
    at = page(make_exp(data={"dataset": "digits", "validation_split": 0.3}))
    at.button(key="use_cnn").click().run()
    exp = experiment(at)
    assert [layer["type"] for layer in exp.model.layers][:2] == ["Conv2D", "MaxPooling2D"]
    assert exp.data.dataset == "digits" and exp.data.validation_split == 0.3  # the data stays
    assert "Model" in texts(at.title)  # the Model page opened, and says what changed
    assert "Applied **Small CNN for 8x8 digits**" in texts(at.success)
    assert not at.get("button") or not [b for b in at.button if b.key == "use_cnn"]
    assert not at.exception


def test_sequences_plot_the_series_and_take_a_window():
    at = page(make_exp(data={"dataset": "sunspots", "test_split": 0.2}))
    at.slider(key="w:data.window").set_value(10).run()
    assert experiment(at).data.window == 10
    assert any(m.label == "Input shape" and m.value == "10 × 1" for m in at.metric)
    spec = charts(at)[0]
    assert "Sunspots" in spec and '"text":"year"' in spec
    assert '"text":"test","x":1949' in spec  # the test part begins in a year, not a step
    assert not [b for b in at.button if b.label in ("Regenerate", "New random split")]
    assert not at.exception


def test_kind_switch_picks_that_kinds_first_dataset():
    at = page()
    at.segmented_control(key="w:data.kind").set_value("image").run()
    assert experiment(at).data.dataset == "digits"
    at.segmented_control(key="w:data.kind").set_value("sequence").run()
    assert experiment(at).data.dataset == "sine"
    assert not at.exception


def test_keras_set_missing_from_the_cache_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(data.keras_cache, "network_problem", lambda host: "no network: offline")
    at = page(make_exp(data={"dataset": "fashion_mnist"}))
    # said where the set is chosen, before any loading: missing, where to get it, an upload
    assert [w.value for w in at.warning] == ["Fashion-MNIST is not on this computer yet."]
    assert "download the 4 files train-labels-idx1-ubyte.gz" in texts(at.caption)
    assert "Errno" not in texts(at.error) and str(tmp_path) not in texts(at.error)
    assert not at.exception


def test_mnist_offline_says_in_one_line_that_it_is_the_shipped_sample(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    at = page(make_exp(data={"dataset": "mnist"}))
    assert [i.value for i in at.info] == [data.stand_in_note("mnist")]
    assert at.metric[2].value == "5,000"   # every image the sample has
    assert not at.error and not at.exception


def test_text_shows_review_lengths_and_word_ids(tmp_path, monkeypatch):
    reviews = np.empty(60, dtype=object)
    for i in range(60):
        reviews[i] = list(range(4, 10 + i))
    (tmp_path / "datasets").mkdir()
    np.savez(tmp_path / "datasets" / "imdb.npz", x_train=reviews, y_train=np.arange(60) % 2,
             x_test=reviews, y_test=np.arange(60) % 2)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    at = page(make_exp(data={"dataset": "imdb", "maxlen": 30},
                       model={"layers": [{"type": "Embedding"}, {"type": "LSTM", "units": 8}]}))
    samples = at.dataframe[0].value
    assert set(samples["label"]) <= {"negative", "positive"}
    for ids, words in zip(samples["word ids"], samples["words"]):
        assert len(ids.split()) == words <= 30 and ids.split()[-1].isdigit()
    assert "Words per review" in charts(at)[0]
    assert not at.error and not at.exception


def test_bad_csv_in_the_spec_shows_the_core_message(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,label\n1,2,x\n3,4\n")
    at = page(make_exp(data={"dataset": "csv", "path": str(bad)}))
    assert "line 3 has 2 fields but the header has 3" in texts(at.error)
    assert not at.exception


def test_csv_upload_picks_a_target_and_infers_the_task(tmp_path):
    rows = "\n".join(f"{i % 7},{i * 0.5},{'red' if i % 2 else 'blue'},{i % 3}" for i in range(60))
    at = page(make_exp(data={"dataset": "csv"}))
    assert "Upload a table" in texts(at.info)
    at.file_uploader(key="csv_upload").upload("mine.csv", f"size,weight,colour,kind\n{rows}\n".encode(),
                                              "text/csv").run()
    exp = experiment(at)
    # kept in NNPLAY_HOME, named in the spec by content hash and file name (no server path)
    assert exp.data.path.startswith("upload:") and exp.data.path.endswith("/mine.csv")
    assert len(list((tmp_path / "uploads").glob("*.csv"))) == 1 and exp.data.target == "kind"
    assert "a classification" in texts(at.markdown) and "colour → 2 one-hot columns" in texts(at.markdown)
    at.selectbox(key="w:data.target").set_value("weight").run()
    assert experiment(at).data.target == "weight"
    assert "a regression" in texts(at.markdown)
    assert any(m.value == "a number" for m in at.metric) and not at.exception


def test_csv_upload_of_a_bad_file_shows_why():
    at = page(make_exp(data={"dataset": "csv"}))
    at.file_uploader(key="csv_upload").upload("one.csv", b"only\n1\n2\n", "text/csv").run()
    assert "only one column" in texts(at.error)
    assert not at.exception


def test_weekly_co2_is_plotted_against_dates():
    at = page(make_exp(data={"dataset": "co2", "test_split": 0.1}))
    spec = charts(at)[0]
    assert '"text":"date"' in spec and "parts per million" in spec
    assert '"text":"test","x":"1997-' in spec  # the test part begins on a date
    assert not at.exception


def test_a_csv_series_is_drawn_over_time_with_its_window(tmp_path):
    path = tmp_path / "stock.csv"
    path.write_text("Date,Close\n" + "".join(f"2024-01-{d:02d},{100 + d}\n" for d in range(1, 31)))
    at = page(make_exp(data={"dataset": "csv_series", "path": str(path), "target": "Close",
                             "window": 5}))
    assert at.session_state["w:data.window"] == 5
    spec = charts(at)[0]
    assert "Your CSV series" in spec and "2024-01-06" in spec   # dates from the Date column
    assert "The series is column 'Close' in row order (30 values)" in texts(at.markdown)
    assert not at.error and not at.exception
