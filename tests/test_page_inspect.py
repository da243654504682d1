"""The Inspect page through Streamlit's AppTest: with no job it points to the Train page; with a
trained model every tab renders (weights, gradients, filters and feature maps, the network
view, evaluation) without an exception."""
import pytest

from nnplay.data import load
from nnplay.job import MANAGER

from conftest import make_exp, open_page

PAGE = "views/inspect.py"


def trained(exp):
    job = MANAGER.submit(exp, load(exp.data))
    assert job.wait(120).status == "completed"
    return job


def open_tab(at, name):
    at.session_state["inspect_tab"] = name
    return at.run()


def subheaders(at):
    return [s.value for s in at.subheader]


def charts(at):
    return at.get("plotly_chart")


@pytest.fixture(scope="module")
def circle_job():
    return trained(make_exp(train={"epochs": 30}))


@pytest.fixture(scope="module")
def cnn_job():
    return trained(make_exp(data={"dataset": "digits"},
                            model={"layers": [{"type": "Conv2D", "filters": 4, "kernel_size": 3},
                                              {"type": "MaxPooling2D"}, {"type": "Flatten"}]},
                            train={"epochs": 3, "optimizer": "adam", "learning_rate": 0.01}))


def test_without_a_job_it_says_to_train_first():
    at = open_page(PAGE)
    assert "train one first on the Train page" in at.info[0].value
    assert not at.exception


def test_circle_job_renders_every_tab(circle_job):
    at = open_page(PAGE, circle_job.exp, nnplay_job_id=circle_job.id)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Weights", "Gradients", "Network", "Evaluation"]
    assert "Weight shapes" in subheaders(at) and "The kernel of dense_1" in subheaders(at)
    assert len(charts(at)) == 5                    # 2 histograms, 2 over epochs, the kernel
    shapes = at.dataframe[0].value
    assert shapes["params"].sum() == 2 * 4 + 4 + 4 * 2 + 2 + 2 * 1 + 1
    at.selectbox(key="inspect_layer").set_value("output").run()
    assert "The kernel of output" in subheaders(at) and not at.exception

    open_tab(at, "Gradients")
    assert not at.exception and len(charts(at)) == 1
    assert any("vanishing" in m.value for m in at.markdown)
    at.toggle(key="inspect_show_bias").set_value(True).run()
    assert not at.exception

    open_tab(at, "Network")
    assert not at.exception and len(charts(at)) == 1

    open_tab(at, "Evaluation")
    assert not at.exception
    assert at.metric[0].label == "Accuracy"
    assert any(s.startswith("Misclassified") for s in subheaders(at))
    assert len(charts(at)) >= 2                    # confusion matrix, per-class accuracy


def test_cnn_job_shows_filters_and_feature_maps(cnn_job):
    at = open_page(PAGE, cnn_job.exp, nnplay_job_id=cnn_job.id)
    assert not at.exception
    assert "Filters & feature maps" in [t.label for t in at.tabs]
    open_tab(at, "Filters & feature maps")
    assert not at.exception
    assert "Filters of conv2d_1" in subheaders(at)
    assert "Feature maps of one example" in subheaders(at)
    at.slider(key="inspect_sample").set_value(5).run()
    at.selectbox(key="inspect_map_layer").set_value("maxpooling2d_2").run()
    assert not at.exception
    assert any("maxpooling2d_2's output" in c.value for c in at.caption)

    open_tab(at, "Weights")
    assert "The kernel of conv2d_1" in subheaders(at) and not at.exception

    open_tab(at, "Evaluation")
    assert not at.exception
    assert any(s.startswith("Misclassified") for s in subheaders(at))


def test_regression_and_table_evaluation():
    job = trained(make_exp(data={"dataset": "diabetes"},
                           model={"layers": [{"type": "Dense", "units": 8, "activation": "relu"}]},
                           train={"epochs": 5, "optimizer": "adam", "learning_rate": 0.01}))
    at = open_tab(open_page(PAGE, job.exp, nnplay_job_id=job.id), "Evaluation")
    assert not at.exception
    assert [m.label for m in at.metric] == ["Mean absolute error", "R²"]
    assert len(charts(at)) == 2                    # predicted vs actual, residuals

    job = trained(make_exp(data={"dataset": "iris"}, train={"epochs": 3}))
    at = open_tab(open_page(PAGE, job.exp, nnplay_job_id=job.id), "Evaluation")
    assert not at.exception
    wrong = [d.value for d in at.dataframe]
    assert not wrong or {"true", "predicted", "petal length (cm)"} <= set(wrong[0].columns)


def test_a_running_job_renders_and_then_shows_the_end():
    job = MANAGER.submit(make_exp(train={"epochs": 100_000}), load(make_exp().data))
    try:
        at = open_page(PAGE, job.exp, nnplay_job_id=job.id)
        assert not at.exception
        open_tab(at, "Gradients")
        assert not at.exception
    finally:
        job.stop()
        job.wait(30)
    at = open_tab(at, "Evaluation")
    assert not at.exception and "stopped" in at.caption[0].value


def test_a_diverged_job_shows_its_error_and_still_renders():
    exp = make_exp(model={"layers": [{"type": "Dense", "units": 64, "activation": "relu"}] * 4},
                   train={"epochs": 50, "learning_rate": 10.0})
    job = MANAGER.submit(exp, load(exp.data))
    assert job.wait(60).status == "failed"
    for tab in ("Weights", "Gradients", "Network", "Evaluation"):
        at = open_page(PAGE, exp, nnplay_job_id=job.id, inspect_tab=tab)
        assert not at.exception, tab
        assert "Training failed" in at.error[0].value

