"""The Train page through Streamlit's AppTest: settings write the experiment, training runs
in the background and the page shows its progress and outcome."""
import functools
import logging
import re
import time

import pytest

from nnplay.config import LOG_FORMAT
from nnplay.spec import Experiment
from nnplay.tools.soak import server_first_points

from conftest import button, experiment, keep_run, open_page, stop_jobs, wait_until

# each test has its own job manager and run store
pytestmark = pytest.mark.usefixtures("app_store", "jobs")


page = functools.partial(open_page, "views/train.py")   # page(exp, **state): the page opened


def test_settings_write_the_experiment():
    at = page()
    at.selectbox(key="w:train.optimizer").set_value("adam").run()
    at.select_slider(key="w:train.learning_rate").set_value(0.001).run()
    at.number_input(key="w:train.batch_size").set_value(32).run()
    at.toggle(key="w:train.early_stopping.on").set_value(True).run()
    exp = experiment(at)
    assert exp.train.optimizer == "adam" and exp.train.learning_rate == 0.001
    assert exp.train.batch_size == 32 and exp.train.early_stopping["patience"] == 10
    assert not at.exception


def test_loss_auto_is_named():
    at = page()
    assert "binary cross-entropy" in at.selectbox(key="w:train.loss").format_func("auto")


def test_train_runs_and_reports(jobs, caplog):
    caplog.set_level(logging.INFO, logger="nnplay")
    exp = Experiment()
    exp.train.epochs = 40
    at = page(exp)
    button(at, "Train").click().run()
    job_id = at.session_state["nnplay_job_id"]
    job = jobs.get(job_id)
    assert job.wait(60).status == "completed"
    at.run()
    at.run()
    # the host's figure: one log line per run, with the wait from the press to its first point
    lines = [logging.Formatter(LOG_FORMAT).format(r) for r in caplog.records]
    (pressed, ready, sent), = server_first_points(lines)
    assert 0 < ready - pressed <= sent - pressed < 60 and abs(sent - time.time()) < 60
    assert f"first point of job {job_id} sent" in " ".join(lines)
    # and where the server's part went: each step of the job's preparation, in order
    ready_line, = [line for line in lines if f"first epoch of job {job_id} ready" in line]
    steps = re.findall(r"(its slot after|data loaded|model built|engine made) ([\d.]+) s", ready_line)
    assert [name for name, _ in steps] == ["its slot after", "data loaded", "model built", "engine made"]
    times = [float(t) for _, t in steps]
    assert times == sorted(times) and times[-1] <= ready - pressed + 1
    text = " ".join(m.value for m in at.success)
    assert "Completed" in text and "finished all 40 epochs" in text
    assert any(m.label == "val accuracy" for m in at.metric)
    assert not at.exception


def test_invalid_model_blocks_training_with_a_message():
    exp = Experiment.from_dict({"model": {"layers": [{"type": "Conv2D"}]}})
    at = page(exp)
    assert "Conv2D needs an image" in at.error[0].value
    assert not [b for b in at.button if "Train" in b.label]


def test_missing_keras_dataset_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    # MNIST now has an offline stand-in (#9); Fashion-MNIST has none: its file must be brought
    at = page(Experiment.from_dict({"data": {"dataset": "fashion_mnist"},
                                    "model": {"layers": [{"type": "Flatten"}]}}))
    message = at.error[0].value
    assert "Fashion-MNIST is not on this computer" in message and "bring them on the Data page" in message
    assert "Errno" not in message and str(tmp_path) not in message
    assert not at.exception


def test_history_lists_kept_runs_and_reopens_one(app_store):
    adam = Experiment.from_dict({"train": {"optimizer": "adam", "epochs": 3}})
    run_id = keep_run(app_store, adam, "adam run", losses=(0.5,))
    at = page()
    assert any("adam run" in m.value for m in at.markdown)
    at.button(key=f"open_{run_id}").click().run()
    assert experiment(at).train.optimizer == "adam"


def test_slow_motion_applies_to_the_next_run_and_the_running_one(jobs):
    exp = Experiment()
    exp.train.epochs = 100_000
    at = page(exp)
    at.selectbox(key="train_speed").set_value("10 epochs/s").run()
    button(at, "Train").click().run()
    job = jobs.get(at.session_state["nnplay_job_id"])
    try:
        assert job.snapshot().pace == 10
        at.switch_page("views/data.py").run()
        at.switch_page("views/train.py").run()
        assert at.selectbox(key="train_speed").value == "10 epochs/s"  # back from another page
        at.selectbox(key="train_speed").set_value("full speed").run()
        assert job.snapshot().pace is None
        button(at, "Pause").click().run()
        assert wait_until(lambda: job.snapshot().status == "paused")
        at.run()
        assert any(b.label == "Resume" for b in at.button)
    finally:
        stop_jobs([job])
    assert job.snapshot().status == "stopped"


def test_an_unusual_loss_trains_with_a_note_and_multiclass_offers_keras_losses():
    # issue #9: squared error on a sigmoid classifier is Keras-legal; the page says why it is unusual
    at = page(Experiment.from_dict({"version": 2, "train": {"loss": "mse", "metrics": ["accuracy", "mae"]}}))
    notes = " ".join(c.value for c in at.caption)
    assert "mean_squared_error on a classifier is unusual" in notes
    assert "metric mae is left out: it measures a predicted number, not classes" in notes
    assert at.selectbox(key="w:train.loss").value == "mean_squared_error"
    assert [b for b in at.button if "Train" in b.label] and not at.exception
    at = page(Experiment.from_dict({"version": 2, "data": {"dataset": "iris"}}))
    assert "categorical cross-entropy (one-hot labels)" in at.selectbox(key="w:train.loss").options
    assert {"precision", "recall", "f1_score"} <= set(at.multiselect(key="w:train.metrics").options)


def shared_experiment(at) -> Experiment:
    """The experiment the sidebar's share link holds."""
    from urllib.parse import parse_qs, urlsplit
    link = " ".join(c.value for c in at.sidebar.code)
    return Experiment.from_url(parse_qs(urlsplit(link).query)["x"][0])


def test_share_link_holds_the_change_made_in_this_run():
    at = page()
    assert shared_experiment(at).train.epochs == 500
    at.number_input(key="w:train.epochs").set_value(123).run()
    assert shared_experiment(at).train.epochs == 123      # not one change behind
    assert at.session_state["nnplay_experiment"].train.epochs == 123
    assert not at.exception


def test_share_link_holds_the_change_when_the_page_stops_early():
    at = page(Experiment.from_dict({"model": {"layers": [{"type": "Conv2D"}]}}))
    assert at.error   # the model cannot train: the page stops after the settings
    at.number_input(key="w:train.epochs").set_value(77).run()
    assert shared_experiment(at).train.epochs == 77
    assert not at.exception


def page_from_link(exp: Experiment):
    """The Train page opened from a share link (?x=), as a student's browser does."""
    from streamlit.testing.v1 import AppTest
    from conftest import ROOT
    at = AppTest.from_file(str(ROOT / "main.py"), default_timeout=60)
    at.query_params["x"] = exp.to_url()
    at.switch_page("views/train.py")
    return at.run()


@pytest.mark.parametrize("train", [
    {"learning_rate": 0.05},                                   # not one of the slider's stops
    {"regularization": {"l1": 0.001, "l2": 0.05}},              # both penalties, own rates
    {"regularization": {"l2": 0.02}},
    {"loss": "sparse_categorical_crossentropy"},                # an explicit loss, not auto
    {"loss": "huber"},                                          # does not fit: kept, and said
    {"early_stopping": {"patience": 3}},                        # no defaults written in
    {"lr_schedule": {"type": "CosineDecay", "decay_steps": 500, "alpha": 0.1}},
    {"lr_schedule": {"type": "ExponentialDecay", "decay_steps": 200}},
    {"augmentation": {"noise": 2.5}, "momentum": 0.995, "batch_size": 8192},  # past the widgets' usual range
], ids=lambda t: ",".join(t))
def test_a_link_s_settings_survive_the_train_page_unchanged(train):
    exp = Experiment.from_dict({"train": train})
    at = page_from_link(exp)
    assert not at.exception
    assert at.session_state["nnplay_experiment"].to_dict() == exp.to_dict()
    at.run()   # and a second render does not drift either
    assert at.session_state["nnplay_experiment"].to_dict() == exp.to_dict()


def test_a_link_s_unusual_rate_shows_as_itself_and_the_student_can_move_it():
    at = page_from_link(Experiment.from_dict({"train": {"learning_rate": 0.05}}))
    slider = at.select_slider(key="w:train.learning_rate")
    assert slider.value == 0.05 and {"0.03", "0.05", "0.1"} <= set(slider.options)
    slider.set_value(0.1).run()
    assert at.session_state["nnplay_experiment"].train.learning_rate == 0.1


def test_both_penalties_show_and_each_rate_can_change():
    at = page_from_link(Experiment.from_dict({"train": {"regularization": {"l1": 0.001, "l2": 0.05}}}))
    assert at.selectbox(key="w:train.regularization.kind").value == "l1_l2"
    at.select_slider(key="w:train.regularization.l2").set_value(0.1).run()
    assert at.session_state["nnplay_experiment"].train.regularization == {"l1": 0.001, "l2": 0.1}
    at.selectbox(key="w:train.regularization.kind").set_value("none").run()
    assert at.session_state["nnplay_experiment"].train.regularization is None


def test_keras_arguments_from_a_spec_are_said_and_can_go_back_to_keras_defaults():
    exp = Experiment.from_dict({"train": {
        "optimizer": {"class_name": "Adam", "config": {"beta_1": 0.8, "weight_decay": 0.01}},
        "metrics": ["accuracy", {"class_name": "Precision", "config": {"thresholds": 0.7}}]}})
    at = page(exp)
    captions = " ".join(c.value for c in at.caption)
    assert "Adam also gets beta_1 0.8, weight_decay 0.01 (from the spec)." in captions
    assert "Metrics set with precision thresholds 0.7 (from the spec)." in captions
    at.selectbox(key="w:train.optimizer").set_value("sgd").run()    # SGD has no beta_1
    assert experiment(at).train.optimizer_options == {"weight_decay": 0.01}
    at.multiselect(key="w:train.metrics").set_value(["accuracy"]).run()
    assert experiment(at).train.metric_options is None
    at.button(key="clear.train.optimizer_options").click().run()
    assert experiment(at).train.optimizer_options is None
    assert not any("also gets" in c.value for c in at.caption) and not at.exception
