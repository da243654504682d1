"""The Race page: variants queued through the job manager and drawn on one chart."""
import pytest

from nnplay.spec import Experiment

from conftest import open_page, stop_jobs

pytestmark = pytest.mark.usefixtures("app_store", "jobs")


def test_race_on_learning_rate_trains_every_variant(jobs):
    exp = Experiment()
    exp.train.epochs = 30
    at = open_page("views/race.py", exp)
    at.selectbox(key="race_dimension").set_value("learning_rate").run()
    at.multiselect(key="race_values_learning_rate").set_value([0.01, 0.1]).run()
    next(b for b in at.button if b.label == "Start the race").click().run()
    race = at.session_state["nnplay_race"]
    assert [lab for lab, _ in race] == ["lr 0.01", "lr 0.1"]
    snaps = [jobs.get(job_id).wait(120) for _, job_id in race]
    assert [s.status for s in snaps] == ["completed", "completed"]
    assert snaps[0].history["loss"] != snaps[1].history["loss"]
    at.run()
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["lr 0.01", "lr 0.1"] and list(table["epoch"]) == ["30 of 30"] * 2
    assert list(table["status"]) == ["completed"] * 2
    assert not at.exception


def test_optimizer_race_gives_each_optimizer_its_own_rate_and_says_waiting(jobs):
    jobs.max_running = 1            # one trains, the others wait their turn
    exp = Experiment()
    exp.train.epochs = 2000
    at = open_page("views/race.py", exp)
    at.selectbox(key="race_dimension").set_value("optimizer").run()
    at.multiselect(key="race_values_optimizer").set_value(["sgd", "adam", "adagrad"]).run()
    assert at.radio(key="race_rates").value == "Each its own usual rate"
    chosen = at.multiselect(key="race_values_optimizer")
    assert chosen.options[:3] == ["sgd · lr 0.1", "rmsprop · lr 0.01", "adam · lr 0.01"]
    next(b for b in at.button if b.label == "Start the race").click().run()
    race = at.session_state["nnplay_race"]
    racers = [jobs.get(job_id) for _, job_id in race]
    try:
        assert [j.exp.train.learning_rate for j in racers] == [0.1, 0.01, 0.1]
        table = at.dataframe[0].value
        assert list(table["learning rate"]) == ["0.1", "0.01", "0.1"]
        waiting = table[table["status"].str.startswith("waiting")]
        assert len(waiting) >= 1 and set(waiting["epoch"]) == {"—"}
        assert not table.isin(["None"]).any().any()
        assert not at.exception
    finally:
        stop_jobs(racers)


def test_optimizer_race_can_keep_one_rate_for_all():
    exp = Experiment()
    exp.train.learning_rate = 0.01
    at = open_page("views/race.py", exp)
    at.selectbox(key="race_dimension").set_value("optimizer").run()
    at.radio(key="race_rates").set_value("The same rate for all").run()
    assert at.multiselect(key="race_values_optimizer").options[:2] == ["sgd", "rmsprop"]
    assert "two rates" in at.info[0].value
    assert not at.exception
