"""The Compare page: runs overlaid and the settings that differ in a table."""
import pytest

from nnplay.spec import Experiment

from conftest import keep_run, open_page

pytestmark = pytest.mark.usefixtures("jobs")


def test_compare_overlays_runs_and_shows_what_differs(app_store):
    plain = Experiment.from_dict({"model": {"layers": [{"type": "Dense", "units": 8}]}})
    dropout = Experiment.from_dict({"model": {"layers": [{"type": "Dense", "units": 8},
                                                         {"type": "Dropout", "rate": 0.5}]}})
    keep_run(app_store, plain, "no dropout", [1.0, 0.5, 0.2])
    keep_run(app_store, dropout, "with dropout", [1.0, 0.6, 0.4])
    at = open_page("views/compare.py")
    assert not at.exception
    settings, results = at.dataframe[0].value, at.dataframe[1].value
    assert list(settings["run"]) == list(results["run"]) == ["with dropout", "no dropout"]
    assert list(settings.columns) == ["run", "layers"]  # only what differs, in words
    assert list(results["final validation loss"]) == pytest.approx([0.6, 0.4])
    assert {"best validation accuracy", "epochs trained", "best epoch"} <= set(results.columns)
    assert not [c for c in results.columns if "_" in c or c.startswith(("train.", "model."))]
    assert len(at.multiselect(key="compare_runs").value) == 2


def test_compare_without_runs_says_how_to_get_some(app_store):
    at = open_page("views/compare.py")
    assert "No runs yet" in at.info[0].value


def test_compare_names_settings_in_words(app_store):
    slow = Experiment.from_dict({"train": {"optimizer": "sgd", "learning_rate": 0.1}})
    fast = Experiment.from_dict({"train": {"optimizer": "adam", "learning_rate": 0.003}})
    keep_run(app_store, slow, "sgd", [1.0, 0.8])
    keep_run(app_store, fast, "adam", [1.0, 0.3])
    at = open_page("views/compare.py")
    settings = at.dataframe[0].value
    assert list(settings.columns) == ["run", "optimizer", "learning rate"]
    assert list(settings["learning rate"]) == ["0.003", "0.1"]
    assert list(settings["optimizer"]) == ["Adam", "SGD"]  # in words, as the Train page names them
    assert not at.exception
