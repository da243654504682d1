"""The Inspect page through Streamlit's AppTest: with no job it points to the Train page; with a
trained model every tab renders (weights, gradients, filters and feature maps, the network
view, evaluation) without an exception; saved runs of the store can be picked, and a run
without a usable model file says so."""
import pytest

from nnplay.data import load
from nnplay.jobapi import manager
from nnplay.store import RunStore, attach

from conftest import charts, make_exp, open_page, own_job_manager, page_text as texts, stop_jobs

PAGE = "views/inspect.py"

# each test has its own run store; the module's trained jobs share one job manager
pytestmark = pytest.mark.usefixtures("app_store", "jobs")


@pytest.fixture(scope="module")
def jobs():
    """One job manager for the module (the app's meanwhile): its trained jobs are shared."""
    with own_job_manager() as module_manager:
        yield module_manager


def trained(exp):
    job = manager().submit(exp, load(exp.data))
    assert job.wait(120).status == "completed"
    return job


def open_tab(at, name):
    at.session_state["inspect_tab"] = name
    return at.run()


def subheaders(at):
    return [s.value for s in at.subheader]


@pytest.fixture(scope="module")
def circle_job(jobs):
    return trained(make_exp(train={"epochs": 30}))


@pytest.fixture(scope="module")
def cnn_job(jobs):
    return trained(make_exp(data={"dataset": "digits"},
                            model={"layers": [{"type": "Conv2D", "filters": 4, "kernel_size": 3},
                                              {"type": "MaxPooling2D"}, {"type": "Flatten"}]},
                            train={"epochs": 3, "optimizer": "adam", "learning_rate": 0.01}))


def test_without_a_job_or_a_saved_run_it_says_to_train_first():
    at = open_page(PAGE)
    assert "train one first on the Train page" in at.info[0].value
    assert not at.exception


def save_run(job, name, model=True, status="completed"):
    """Keep a finished job in the store as another app process would: no live job behind it."""
    store = RunStore()
    run_id = store.create_run(job.exp, name=name)
    snap = job.snapshot()
    store.add_epochs(run_id, [{"epoch": i + 1, **{n: v[i] for n, v in snap.history.items()},
                               "grad_norms": snap.grad_norms[i]} for i in range(snap.epoch)])
    if model:
        store.save_model(run_id, job.engine.model)
    store.finish(run_id, status, "", snap.final, 0)
    return run_id


def pick(at, key):
    at.selectbox(key="inspect_run").set_value(key)
    return at.run()


def test_a_saved_run_can_be_picked_and_renders_every_tab(circle_job):
    run_id = save_run(circle_job, "saved circle")
    at = open_page(PAGE)                 # no followed job: the newest saved run is shown
    picker = at.selectbox(key="inspect_run")
    assert picker.label == "Run to inspect"
    assert picker.value == f"run:{run_id}"
    assert "saved circle — completed, 30 epochs" in picker.options
    assert not at.exception and at.header[0].value == "saved circle"
    assert "Job" not in texts(at)
    assert [t.label for t in at.tabs] == ["Weights", "Gradients", "Network", "Evaluation",
                                           "Ask the model"]
    # a saved run keeps its final weights: histograms and the kernel, no "over epochs"
    assert len(charts(at)) == 3 and "The kernel of dense_1" in subheaders(at)
    assert any("keeps its final weights" in c.value for c in at.caption)
    shapes = at.dataframe[0].value
    assert list(shapes["meaning"][:2]) == ["2 inputs × 4 neurons", "one per neuron (4)"]

    open_tab(at, "Gradients")            # the stored gradient norms, one line per variable
    assert not at.exception and len(charts(at)) == 1
    assert len(charts(at)[0]) > 0
    open_tab(at, "Network")
    assert not at.exception and len(charts(at)) == 1
    open_tab(at, "Evaluation")
    assert not at.exception and at.metric[0].label == "Accuracy"


def test_the_picker_offers_the_followed_job_first_and_saved_runs_too(circle_job, cnn_job):
    run_id = save_run(cnn_job, "saved digits")
    at = open_page(PAGE, circle_job.exp, nnplay_job_id=circle_job.id)
    assert at.selectbox(key="inspect_run").value == f"job:{circle_job.id}"
    assert "Network" in [t.label for t in at.tabs]
    at.selectbox(key="inspect_layer").set_value("output").run()
    at = pick(at, f"run:{run_id}")
    assert not at.exception and at.header[0].value == "saved digits"
    assert at.selectbox(key="inspect_layer").value == "conv2d_1"   # not the old run's layer
    assert "Filters & feature maps" in [t.label for t in at.tabs]
    open_tab(at, "Filters & feature maps")
    assert not at.exception and "Feature maps of one example" in subheaders(at)
    open_tab(at, "Evaluation")
    assert not at.exception and any(s.startswith("Misclassified") for s in subheaders(at))


def test_a_run_without_its_model_file_says_so(circle_job):
    store = RunStore()
    missing = save_run(circle_job, "lost model", model=False)
    broken = save_run(circle_job, "broken model")
    store.model_path(broken).write_bytes(b"not a zip archive")
    failed = save_run(circle_job, "failed run", model=False, status="failed")

    at = pick(open_page(PAGE), f"run:{missing}")
    assert not at.exception and at.header[0].value == "lost model"
    assert "model file of “lost model” is missing" in at.warning[0].value
    assert not at.tabs

    at = pick(at, f"run:{broken}")
    assert not at.exception
    assert "model file of “broken model” cannot be opened" in at.warning[0].value

    at = pick(at, f"run:{failed}")
    assert not at.exception and "failed" in at.warning[0].value


def test_runs_queued_by_train_all_variants_are_offered():
    """Lessons' "Train all variants" starts jobs that the session does not follow."""
    store = RunStore()
    lesson_jobs = [manager().submit(make_exp(train={"epochs": 5, "learning_rate": lr}),
                                    load(make_exp().data)) for lr in (0.03, 0.3)]
    runs = [attach(job, store, name=f"lesson · rate {lr}")
            for job, lr in zip(lesson_jobs, (0.03, 0.3))]
    for job in lesson_jobs:
        assert job.wait(60).status == "completed"
    at = open_page(PAGE)
    assert not at.exception
    options = at.selectbox(key="inspect_run").options
    assert {"lesson · rate 0.03 — completed, 5 epochs",
            "lesson · rate 0.3 — completed, 5 epochs"} <= set(options)
    at = pick(at, f"run:{runs[1]}")
    assert not at.exception and at.header[0].value == "lesson · rate 0.3"
    assert len(charts(at)) == 5                    # the live job: its weights over epochs too


def test_circle_job_renders_every_tab(circle_job):
    at = open_page(PAGE, circle_job.exp, nnplay_job_id=circle_job.id)
    assert not at.exception
    assert [t.label for t in at.tabs] == ["Weights", "Gradients", "Network", "Evaluation",
                                           "Ask the model", "One step"]
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

    # one epoch at a tiny rate: an untrained model, so there are mistakes to list
    job = trained(make_exp(data={"dataset": "iris"}, train={"epochs": 1, "learning_rate": 0.0001}))
    at = open_tab(open_page(PAGE, job.exp, nnplay_job_id=job.id), "Evaluation")
    assert not at.exception
    heading = next(s for s in subheaders(at) if s.startswith("Misclassified"))
    assert not heading.startswith("Misclassified: 0 ")
    wrong = at.dataframe[0].value
    assert {"true", "predicted", "petal length (cm)"} <= set(wrong.columns)
    assert len(wrong) == min(int(heading.split()[1]), 32)   # the first 32 are listed


def test_a_running_job_renders_and_then_shows_the_end():
    job = manager().submit(make_exp(train={"epochs": 100_000}), load(make_exp().data))
    try:
        at = open_page(PAGE, job.exp, nnplay_job_id=job.id)
        assert not at.exception
        open_tab(at, "Gradients")
        assert not at.exception
    finally:
        stop_jobs([job])
    at = open_tab(at, "Evaluation")
    assert not at.exception and "stopped" in at.caption[0].value


def test_a_diverged_job_shows_its_error_and_still_renders():
    exp = make_exp(model={"layers": [{"type": "Dense", "units": 64, "activation": "relu"}] * 4},
                   train={"epochs": 50, "learning_rate": 10.0})
    job = manager().submit(exp, load(exp.data))
    assert job.wait(60).status == "failed"
    for tab in ("Weights", "Gradients", "Network", "Evaluation", "Ask the model"):
        at = open_page(PAGE, exp, nnplay_job_id=job.id, inspect_tab=tab)
        assert not at.exception, tab
        assert "Training failed" in at.error[0].value



def test_an_opened_model_file_explains_its_shapes(circle_job, tmp_path):
    """AppTest cannot drive st.file_uploader: the section runs with one that returns a file."""
    from streamlit.testing.v1 import AppTest
    path = tmp_path / "model.keras"
    circle_job.engine.model.save(path)

    def script(path):
        import types
        from unittest import mock
        from nnplay.ui import model_upload
        data = open(path, "rb").read()
        upload = types.SimpleNamespace(name="model.keras", getvalue=lambda: data)
        # patched for this run only: the streamlit module is shared with every other test
        with mock.patch.object(model_upload.st, "file_uploader", lambda *a, **k: upload):
            model_upload.uploaded_model_section()

    at = AppTest.from_function(script, args=(str(path),), default_timeout=60).run()
    assert not at.exception
    assert any("None is the number of examples" in c.value for c in at.caption)
    assert len(charts(at)) == 6          # a histogram per weight array
