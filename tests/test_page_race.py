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


def reopened(query: dict, page="views/race.py"):
    """A reload: a new browser session opening the same address."""
    from streamlit.testing.v1 import AppTest
    from conftest import ROOT
    at = AppTest.from_file(str(ROOT / "main.py"), default_timeout=60)
    at.query_params.update(query)
    at.switch_page(page)
    return at.run()


def start_long_race(at):
    at.selectbox(key="race_dimension").set_value("learning_rate").run()
    at.multiselect(key="race_values_learning_rate").set_value([0.01, 0.1]).run()
    next(b for b in at.button if b.label == "Start the race").click().run()
    assert not at.error and len(at.session_state["nnplay_race"]) == 2
    return at.session_state["nnplay_race"]


def test_a_race_survives_a_reload_and_its_variants_reattach(jobs):
    exp = Experiment()
    exp.train.epochs = 100_000
    at = open_page("views/race.py", exp)
    race = start_long_race(at)
    racers = [jobs.get(job_id) for _, job_id in race]   # the fixture stops them
    link = at.query_params["race"]
    link = link[0] if isinstance(link, list) else link
    assert [j.id for j in racers] == [item.split(":")[0] for item in link.split(",")]
    again = reopened({"race": link, "x": exp.to_url()})
    assert again.session_state["nnplay_race"] == race
    table = again.dataframe[0].value
    assert list(table["variant"]) == ["lr 0.01", "lr 0.1"]
    assert not again.exception
    # the race stays in the address while the student visits another page
    elsewhere = reopened({"race": link, "x": exp.to_url()}, "views/data.py")
    assert elsewhere.session_state["nnplay_race"] == race
    assert all(j.alive for j in racers)


def test_another_workspace_s_race_link_attaches_nothing(monkeypatch):
    import secrets
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    ada, bob = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    exp = Experiment()
    exp.train.epochs = 5000    # a hosted server's cap
    at = reopened({"ws": ada, "x": exp.to_url()})
    race = start_long_race(at)
    link = ",".join(f"{job_id}:{lab}" for lab, job_id in race)
    theirs = reopened({"ws": bob, "race": link})
    assert theirs.session_state["nnplay_race"] == []
    assert not theirs.dataframe and "not on this server" in " ".join(i.value for i in theirs.info)
    assert not theirs.exception
    assert reopened({"ws": ada, "race": link}).session_state["nnplay_race"] == race

