"""The queue's rules as plain functions: fair order, slot costs, admission, the wait estimate."""
import pytest

from nnplay import slots
from nnplay.jobapi import Snapshot

from conftest import make_exp


def test_three_sessions_take_turns_first_jobs_first():
    waiting = [("a1", "A"), ("a2", "A"), ("b1", "B"), ("a3", "A"), ("c1", "C"), ("b2", "B")]
    assert slots.fair_order(waiting, {}) == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_a_race_waits_behind_another_sessions_first_job():
    """A holds a slot and queued 8 race variants; B's one job, submitted last, goes first."""
    waiting = [(f"race{i}", "A") for i in range(8)] + [("b1", "B")]
    order = slots.fair_order(waiting, {"A": 1})
    assert order[0] == "b1" and order[1:] == [f"race{i}" for i in range(8)]


def test_between_sessions_holding_as_many_the_one_served_longest_ago_goes_first():
    """A's first variant was stopped: A holds nothing, but it had its turn after C's wait began."""
    waiting = [("a2", "A"), ("a3", "A"), ("c1", "C")]
    assert slots.fair_order(waiting, {}, served={"A": 5, "B": 4}) == ["c1", "a2", "a3"]


def test_jobs_without_a_session_keep_submission_order():
    assert slots.fair_order([("x", None), ("y", None), ("z", None)], {}) == ["x", "y", "z"]


def test_paced_toy_jobs_cost_a_fraction_of_a_core_and_big_ones_a_whole_one():
    toy = make_exp()
    assert slots.job_cost(toy, None) == 1.0
    assert slots.job_cost(toy, 10) == pytest.approx(slots.MIN_COST)
    assert slots.job_cost(toy, 30) == pytest.approx(0.27)
    assert slots.job_cost(toy, 30, framed=True) == slots.MIN_COST      # hosted: a frame a call
    assert slots.job_cost(toy, 100, framed=True) == pytest.approx(0.2)
    assert slots.job_cost(toy, 30, framed=True, warmed=False) == slots.BUILD_COST  # building
    assert slots.job_cost(toy, 1000) == 1.0
    cnn = make_exp(data={"dataset": "mnist"}, model={"layers": [{"type": "Conv2D", "filters": 4},
                                                                {"type": "Flatten"}]})
    assert slots.job_cost(cnn, 1) == 1.0


def test_admission_fills_fractional_slots_in_order_without_skipping():
    cost = {"p1": 0.1, "p2": 0.1, "p3": 0.1, "big": 1.0, "p4": 0.1}
    assert slots.admit(["p1", "p2", "p3"], cost, used=1.0, capacity=2.0) == ["p1", "p2", "p3"]
    # the whole-core job does not fit in 0.7: the small one behind it waits too (no starving)
    assert slots.admit(["big", "p4"], cost, used=1.3, capacity=2.0) == []
    assert slots.admit(["big"], {"big": 3.0}, used=0.0, capacity=2.0) == ["big"]  # alone


def test_the_wait_replays_the_running_jobs_and_the_ones_ahead():
    running = [slots.Planned(1.0, 10.0), slots.Planned(1.0, 30.0)]
    assert slots.estimate_wait(2.0, running, [], 1.0) == 10.0
    # one whole-core job ahead takes the slot freed at 10 s and ends at 15 s
    assert slots.estimate_wait(2.0, running, [slots.Planned(1.0, 5.0)], 1.0) == 15.0
    # a paced job fits beside them at once... unless the slots are full
    assert slots.estimate_wait(2.5, running, [], 0.1) == 0.0
    assert slots.estimate_wait(2.0, [], [], 1.0) == 0.0


def test_time_left_comes_from_the_eta_the_pace_or_similar_jobs():
    assert slots.seconds_left(100, None, 0.01, eta=4.0, started=True) == 4.0
    assert slots.seconds_left(100, 10, 0.01, eta=4.0, started=True) == pytest.approx(10.0)
    assert slots.seconds_left(100, None, 0.01, eta=None, started=False) == \
        pytest.approx(1.0 + slots.STARTUP_S)


def test_the_train_page_says_the_place_in_line_and_the_wait_in_words():
    from nnplay.ui.train_view import queue_text
    queued = Snapshot("j", status="queued", queue_position=3, queue_wait=38.0)
    assert queue_text(queued) == "Waiting for a training slot: 3rd in line, about 40 s"
    queued.queue_position, queued.queue_wait = 0, 200.0     # never "position 0"
    assert queue_text(queued) == "Waiting for a training slot: 1st in line, about 3 min"
    queued.queue_wait = None
    assert queue_text(queued) == "Waiting for a training slot: 1st in line"
    assert queue_text(Snapshot("j", status="building", warming_up=True)) == "Starting TensorFlow…"
    assert queue_text(Snapshot("j", status="building")) == "Building the model…"


def test_the_host_sets_the_slots(monkeypatch):
    from nnplay.job import JobManager
    monkeypatch.setenv("NNPLAY_SLOTS", "3.5")
    assert JobManager().max_running == 3.5
    monkeypatch.setenv("NNPLAY_SLOTS", "0")
    with pytest.raises(ValueError, match="slots must be a positive number of cores"):
        JobManager()


def test_a_class_server_shares_a_budget_of_page_frames_among_its_live_runs():
    assert slots.frame_seconds(False, live=40) == 0.25          # a laptop: four a second
    assert slots.frame_seconds(True) == 0.5                     # hosted: two a second ...
    assert slots.frame_seconds(True, live=slots.FRAMES_PER_S // 2) == 0.5
    assert slots.frame_seconds(True, live=16) == pytest.approx(16 / slots.FRAMES_PER_S)
    assert slots.frame_seconds(True, live=500) == 2.0            # ... never less than one in 2 s
