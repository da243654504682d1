"""The Train page through Streamlit's AppTest: settings write the experiment, training runs
in the background and the page shows its progress and outcome."""
import time

import pytest

from nnplay.job import MANAGER
from nnplay.spec import Experiment

from conftest import open_page


def page(exp=None, **state):
    return open_page("views/train.py", exp, **state)


def button(at, label):
    return next(b for b in at.button if label in b.label)


def test_settings_write_the_experiment():
    at = page()
    at.selectbox(key="w:train.optimizer").set_value("adam").run()
    at.select_slider(key="w:train.learning_rate").set_value(0.001).run()
    at.number_input(key="w:train.batch_size").set_value(32).run()
    at.toggle(key="w:train.early_stopping.on").set_value(True).run()
    exp = at.session_state["nnplay_experiment"]
    assert exp.train.optimizer == "adam" and exp.train.learning_rate == 0.001
    assert exp.train.batch_size == 32 and exp.train.early_stopping["patience"] == 10
    assert not at.exception


def test_loss_auto_is_named():
    at = page()
    assert "binary cross-entropy" in at.selectbox(key="w:train.loss").format_func("auto")


def test_train_runs_and_reports():
    exp = Experiment()
    exp.train.epochs = 40
    at = page(exp)
    button(at, "Train").click().run()
    job_id = at.session_state["nnplay_job_id"]
    job = MANAGER.get(job_id)
    assert job.wait(60).status == "completed"
    at.run()
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
    at = page(Experiment.from_dict({"data": {"dataset": "mnist"},
                                    "model": {"layers": [{"type": "Flatten"}]}}))
    assert "Keras cache" in at.error[0].value
    assert not at.exception


def test_history_lists_kept_runs_and_reopens_one(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    from nnplay.store import RunStore
    from nnplay.ui import session
    session.store.clear()
    store = RunStore(tmp_path)
    adam = Experiment.from_dict({"train": {"optimizer": "adam", "epochs": 3}})
    run_id = store.create_run(adam, name="adam run")
    store.add_epochs(run_id, [{"epoch": 1, "loss": 0.5, "val_loss": 0.6}])
    store.finish(run_id, "completed", "finished all 1 epochs", {"val_loss": 0.6}, 1)
    at = page()
    assert any("adam run" in m.value for m in at.markdown)
    next(b for b in at.button if b.key == f"open_{run_id}").click().run()
    assert at.session_state["nnplay_experiment"].train.optimizer == "adam"
    session.store.clear()


def test_slow_motion_applies_to_the_next_run_and_the_running_one():
    exp = Experiment()
    exp.train.epochs = 100_000
    at = page(exp)
    at.selectbox(key="train_speed").set_value("10 epochs/s").run()
    button(at, "Train").click().run()
    job = MANAGER.get(at.session_state["nnplay_job_id"])
    assert job.snapshot().pace == 10
    at.switch_page("views/data.py").run()
    at.switch_page("views/train.py").run()
    assert at.selectbox(key="train_speed").value == "10 epochs/s"  # back from another page
    at.selectbox(key="train_speed").set_value("full speed").run()
    assert job.snapshot().pace is None
    button(at, "Pause").click().run()
    deadline = time.time() + 30
    while job.snapshot().status != "paused" and time.time() < deadline:
        time.sleep(0.05)
    at.run()
    assert any(b.label == "Resume" for b in at.button)
    job.stop()
    assert job.wait(20).status == "stopped"


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
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
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
