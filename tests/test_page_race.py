"""The Race page: variants queued through the job manager and drawn on one chart."""
from nnplay.job import MANAGER
from nnplay.spec import Experiment

from conftest import open_page


def test_race_on_learning_rate_trains_every_variant():
    exp = Experiment()
    exp.train.epochs = 30
    at = open_page("views/race.py", exp)
    at.selectbox(key="race_dimension").set_value("learning_rate").run()
    at.multiselect(key="race_values_learning_rate").set_value([0.01, 0.1]).run()
    next(b for b in at.button if b.label == "Start the race").click().run()
    race = at.session_state["nnplay_race"]
    assert [lab for lab, _ in race] == ["lr 0.01", "lr 0.1"]
    snaps = [MANAGER.get(job_id).wait(120) for _, job_id in race]
    assert [s.status for s in snaps] == ["completed", "completed"]
    assert snaps[0].history["loss"] != snaps[1].history["loss"]
    at.run()
    table = at.dataframe[0].value
    assert list(table["variant"]) == ["lr 0.01", "lr 0.1"] and list(table["epoch"]) == [30, 30]
    assert not at.exception
