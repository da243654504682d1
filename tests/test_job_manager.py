"""JobManager with real jobs: fair turns between sessions, fractional slots for paced jobs,
the wait estimate, and finished jobs let go once their run is saved."""
import contextlib
import json
import time
import gc
import weakref

import pytest

from nnplay import job as job_mod
from nnplay import slots
from nnplay.data import load
from nnplay.jobapi import Job, Manager
from nnplay.job import JobManager
from nnplay.race import start_race
from nnplay.store import RunStore, attach
from nnplay.ui.train_view import queue_text

from conftest import (charts, held_at, make_exp, open_page, stop_jobs as stop_all, trace_values,
                      wait_until)

LONG = {"epochs": 100_000}


@pytest.fixture(scope="module")
def circle():
    return load(make_exp().data)


def running(job):
    return job.progress()[0] in ("building", "running")


def test_the_thread_backend_implements_the_seam():
    manager = JobManager(max_running=1)
    job = manager.submit(make_exp(train={"epochs": 1}), paused=True)
    try:
        assert isinstance(manager, Manager) and isinstance(job, Job)
    finally:
        stop_all([job])


def test_three_sessions_take_turns_and_a_race_waits_behind_the_others(circle):
    manager = JobManager(max_running=1)
    blocker = manager.submit(make_exp(train=LONG), circle, owner="B")
    jobs = [blocker]
    try:
        assert wait_until(lambda: running(blocker))
        race = [job for _, job in start_race(make_exp(train=LONG), "learning_rate",
                                             [0.01, 0.1, 0.3], manager=manager, owner="A")]
        late = manager.submit(make_exp(train=LONG), circle, owner="C")
        jobs += race + [late]
        expected = [race[0], late, race[1], race[2]]   # A's first, C's first, then A's others
        assert wait_until(lambda: [manager.queue_info(j).position for j in expected] == [1, 2, 3, 4])
        assert [j.snapshot().queue_position for j in expected] == [1, 2, 3, 4]
        blocker.stop()
        assert wait_until(lambda: running(race[0]))
        race[0].stop()
        assert wait_until(lambda: running(late))   # C before A's second variant
        assert all(j.progress()[0] == "queued" for j in race[1:])
    finally:
        stop_all(jobs)


@contextlib.contextmanager
def a_newcomer_while_a_run_goes_on(circle, quantum_s, newcomer_train):
    """(manager, A's long run, B's run submitted once A has drawn a point) on one slot with
    turns of `quantum_s`; every job stopped at the end."""
    manager = JobManager(max_running=1, quantum_s=quantum_s)
    jobs = [manager.submit(make_exp(train=LONG), circle, owner="A")]
    try:
        assert wait_until(lambda: jobs[0].snapshot().epoch > 0)
        jobs.append(manager.submit(make_exp(train=newcomer_train), circle, owner="B"))
        yield manager, jobs
    finally:
        stop_all(jobs)


def test_a_running_job_takes_turns_so_a_new_student_sees_a_first_point(circle):
    with a_newcomer_while_a_run_goes_on(circle, 0.5, {"epochs": 30}) as (manager, jobs):
        first, second = jobs
        assert wait_until(lambda: second.snapshot().epoch > 0)   # A gave its slot for a turn
        assert first.alive and first.progress()[0] == "queued"
        assert first.snapshot().epoch > 0 and "taking turns" in queue_text(first.snapshot())
        assert second.wait(60).status == "completed"             # B, started, keeps its slot
        resumed_at = first.snapshot().epoch
        assert wait_until(lambda: first.snapshot().epoch > resumed_at)   # then A goes on


def test_a_job_that_gave_its_turn_is_not_starved_by_sessions_that_came_after_it(
        circle, monkeypatch):
    monkeypatch.setattr(job_mod, "TURN_WAIT_MAX_S", 3600.0)   # A's wait is not past the bound...
    with a_newcomer_while_a_run_goes_on(circle, 0.3, LONG) as (manager, jobs):
        first, second = jobs
        assert wait_until(lambda: second.snapshot().epoch > 0 and first.progress()[0] == "queued")
        jobs.append(manager.submit(make_exp(train=LONG), circle, owner="C"))  # came after A's turn

        def a_before_c():   # C may also have had its turn meanwhile: then A is first in line
            order = manager._order()
            return first.id in order and order.index(first.id) < (
                order.index(jobs[2].id) if jobs[2].id in order else len(order))
        assert not a_before_c()              # ...so a newcomer is first in line at once...
        monkeypatch.setattr(job_mod, "TURN_WAIT_MAX_S", 0.5)
        assert wait_until(a_before_c)        # ...but once A has waited past it, A goes first


def test_paced_jobs_share_one_slot(circle):
    manager = JobManager(max_running=1)
    jobs = [manager.submit(make_exp(train=LONG), circle, owner=f"s{i}", pace=5) for i in range(3)]
    try:
        assert wait_until(lambda: all(j.snapshot().epoch >= 1 for j in jobs))
        assert sum(manager._running.values()) <= 1.0
    finally:
        stop_all(jobs)


def test_once_a_spec_is_traced_its_waiting_twins_cost_what_a_running_run_does(circle):
    """A class on one link: the first run's trace is shared (nnplay.graphs), so the others
    need no build share of a core and start together."""
    manager = JobManager(max_running=1)
    exp, other = make_exp(train=LONG), make_exp(train={**LONG, "seed": 1})
    first = manager.submit(exp, circle, owner="teacher")     # full speed: the whole core
    jobs = [first]
    try:
        twins = [manager.submit(exp, circle, owner=f"s{i}", pace=5) for i in range(3)]
        stranger = manager.submit(other, circle, owner="s9", pace=5)
        jobs += twins + [stranger]
        assert wait_until(lambda: first.snapshot().epoch >= 2)       # traced
        assert [manager.queue_info(t).cost for t in twins] == [slots.MIN_COST] * 3
        assert manager.queue_info(stranger).cost == slots.BUILD_COST
        first.stop()
        assert wait_until(lambda: all(j.snapshot().epoch >= 1 for j in twins + [stranger]))
        assert all(j.engine.shares_graph() for j in twins) and not stranger.engine.shares_graph()
    finally:
        stop_all(jobs)


def test_a_queued_job_is_told_its_wait_from_the_running_jobs_time_left(circle):
    manager = JobManager(max_running=1)
    first = manager.submit(make_exp(train={"epochs": 200}), circle, owner="A", pace=20)
    jobs = [first]
    try:
        assert wait_until(lambda: first.snapshot().epoch >= 1)
        second = manager.submit(make_exp(train=LONG), circle, owner="B")   # a whole core
        jobs.append(second)
        assert wait_until(lambda: second.snapshot().queue_position == 1)
        snap = second.snapshot()
        assert snap.status == "queued" and 0 < snap.queue_wait <= 10.0   # 200 epochs at 20/s
    finally:
        stop_all(jobs)


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    return RunStore(tmp_path)


def trained_and_saved(manager, store, owner="tab-1", epochs=20):
    job = manager.submit(make_exp(train={"epochs": epochs}), load(make_exp().data), owner=owner,
                         paused=True)
    run_id = attach(job, store)
    job.resume()
    assert wait_until(lambda: job.model() is not None or not job.alive)
    model = weakref.ref(job.model())
    assert job.wait(60).status == "completed"
    return job, run_id, model


def test_a_sessions_latest_saved_jobs_keep_their_model_and_older_ones_let_it_go(
        store, monkeypatch):
    monkeypatch.setattr(job_mod, "LIVE_FINISHED", 2)
    manager = JobManager(max_running=1)
    jobs = [trained_and_saved(manager, store, epochs=2)[0] for _ in range(3)]
    assert [j.model() is None for j in jobs] == [True, False, False]


def test_a_finished_job_lets_its_model_go_once_its_run_is_saved(store, monkeypatch):
    monkeypatch.setattr(job_mod, "LIVE_FINISHED", 0)
    manager = JobManager(max_running=1)
    job, run_id, model = trained_and_saved(manager, store)
    assert job.saved_as == run_id and store.model_path(run_id) is not None
    assert job.model() is None and job.dataset is None
    gc.collect()
    assert model() is None                       # nothing keeps the Keras model alive
    with pytest.raises(LookupError, match="saved run"):
        job.predict(load(make_exp().data).x_val)
    # a reloaded page re-attaches to the light record: the final snapshot, without weights
    assert manager.attach(job.id, "tab-2") is job
    snap = job.snapshot()
    assert snap.status == "completed" and len(snap.history["loss"]) == 20 and snap.grid is not None


def test_a_session_keeps_only_its_latest_finished_jobs(store, monkeypatch):
    monkeypatch.setattr(job_mod, "KEEP_FINISHED", 1)
    manager = JobManager(max_running=1)
    first, _, _ = trained_and_saved(manager, store, epochs=2)
    second, _, _ = trained_and_saved(manager, store, epochs=2)
    other, _, _ = trained_and_saved(manager, store, owner="tab-9", epochs=2)
    assert manager.get(first.id) is None and manager.get(second.id) is second
    assert manager.get(other.id) is other


def test_train_and_inspect_pages_show_a_finished_job_from_its_saved_run(monkeypatch, jobs,
                                                                         app_store):
    monkeypatch.setattr(job_mod, "LIVE_FINISHED", 0)
    exp = make_exp(train={"epochs": 20})
    job = jobs.submit(exp, load(exp.data), paused=True)
    attach(job, app_store)
    job.resume()
    assert job.wait(60).status == "completed" and job.model() is None
    at = open_page("views/train.py", exp, nnplay_job_id=job.id)
    assert not at.exception
    assert "finished all 20 epochs" in " ".join(m.value for m in at.success)
    curves, boundary = map(json.loads, charts(at))
    assert curves["layout"]["title"]["text"].startswith("Learning curves")
    assert trace_values(curves["data"][0]["x"]) == list(range(1, 21))   # every epoch's point
    assert boundary["layout"]["images"][0]["source"].startswith("data:image/png;base64,")
    at = open_page("views/inspect.py", exp, nnplay_job_id=job.id)
    assert not at.exception
    assert "Saved run" in at.caption[0].value


def test_a_trained_job_leaves_nothing_in_tensorflows_gradient_registry(circle):
    """Keras's replica all-reduce registered a custom gradient per traced job, which kept the
    whole traced graph alive for the life of the process (~1 MB a job)."""
    from nnplay.job import TrainingJob
    from tensorflow.python.framework import ops
    before = len(ops._gradient_registry.list())
    assert TrainingJob(make_exp(train={"epochs": 3}), circle).start().wait(60).status == "completed"
    assert len(ops._gradient_registry.list()) == before


def test_short_runs_skip_xla_whose_programs_are_never_freed(circle, monkeypatch):
    from nnplay import config
    from nnplay.build import build
    from nnplay.engine import Engine
    exp = make_exp(train={"epochs": 20})
    assert config.xla_min_batches() == config.XLA_MIN_BATCHES   # the laptop (#11: no frozen frame)
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    assert config.xla_min_batches() == config.XLA_MIN_BATCHES
    assert not Engine(build(exp, circle.info), circle, exp.train)._xla_compatible()
    monkeypatch.setenv("NNPLAY_XLA_MIN_BATCHES", "0")
    assert Engine(build(exp, circle.info), circle, exp.train)._xla_compatible()
    monkeypatch.setenv("NNPLAY_XLA_MIN_BATCHES", "lots")
    with pytest.raises(ValueError, match="xla_min_batches must be a whole number"):
        config.xla_min_batches()


def test_a_run_compiling_with_xla_says_so_instead_of_sitting_on_epoch_one(
        circle, monkeypatch, stopped_at_end):
    from nnplay.job import TrainingJob
    monkeypatch.setenv("NNPLAY_XLA_MIN_BATCHES", "0")
    job = stopped_at_end(TrainingJob(make_exp(train={"epochs": 100_000}), circle).start())
    seen = []
    deadline = time.time() + 60
    while time.time() < deadline and job.snapshot().epoch < 3:
        snap = job.snapshot()
        seen.append((snap.compiling, snap.epoch))
        time.sleep(0.005)   # sampling the snapshot, not a proof of anything
    assert (True, 1) in seen                        # after the eager first epoch, while compiling
    assert not job.snapshot().compiling and job.snapshot().epoch >= 3


def test_a_toy_is_watched_forming_and_other_data_trains_at_full_speed(monkeypatch, jobs,
                                                                      app_store):
    from nnplay import slots
    assert slots.default_pace(make_exp()) == slots.WATCHABLE_PACE    # laptop and hosted (#11)
    assert slots.default_pace(make_exp(data={"dataset": "iris"})) is None
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    at = open_page("views/train.py", make_exp(train={"epochs": 30}))
    assert at.selectbox(key="train_speed").value == "30 epochs/s"
    next(b for b in at.button if b.label == "Train").click().run()
    # the job stops with the `jobs` fixture, whether or not this holds
    assert jobs.get(at.session_state["nnplay_job_id"]).pace == slots.WATCHABLE_PACE


def test_a_hosted_fast_paced_run_draws_its_boundary_a_few_times_a_second(circle, monkeypatch):
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    job = job_mod.TrainingJob(make_exp(train={"epochs": 3_000}), circle)   # within hosted caps
    job.set_pace(30)
    job.start()
    try:
        assert wait_until(lambda: job.snapshot().epoch >= 5)
        first = job.snapshot()
        assert wait_until(lambda: job.snapshot().epoch >= first.epoch + 30)
        last = job.snapshot()
        # ~30 epochs went by in about a second: the grid followed at the page's frame rate
        assert last.grid_version - first.grid_version <= 10 < last.epoch - first.epoch + 1
        assert last.grid_epoch >= last.epoch - 10
    finally:
        stop_all([job])


def test_a_hosted_paced_run_trains_a_frames_epochs_per_call_and_keeps_every_epoch(
        circle, monkeypatch):
    # One call per page frame (15 epochs at 30 a second) instead of one per epoch: a third of
    # the CPU, and the curve still has a point for every epoch, at the same pace.
    from nnplay.engine import Engine
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    calls = []
    real = Engine.run_chunk

    def counted(self, *args, **kwargs):
        rows = real(self, *args, **kwargs)
        calls.append(len(rows))
        return rows

    monkeypatch.setattr(Engine, "run_chunk", counted)
    job = job_mod.TrainingJob(make_exp(train={"epochs": 61}), circle)
    job.set_pace(30)
    started = time.perf_counter()
    snap = job.start().wait(60)
    took = time.perf_counter() - started
    assert snap.status == "completed"
    assert len(snap.history["loss"]) == 61 and snap.epoch == 61
    assert calls[0] == 1                          # the first epoch shows on its own
    # then a frame's epochs a call (two or three while the chunk grows to its size): one a
    # call would be 61 calls at least
    assert sum(calls) == 61 and len(calls) < 30, calls
    assert took >= 60 / 30 - 0.1                  # still 30 epochs a second, not faster
    assert job.snapshot().grid_epoch == 61


def test_a_hosted_run_draws_at_the_pages_frame_as_the_class_grows(circle, monkeypatch):
    """16 live runs: the class's pages refresh every 16/12 s, so each run draws its grid and
    trains its paced epochs a call at that frame, not at an idle server's 0.5 s (a grid
    drawn more often than any page asks for it is CPU the class's builds wait for)."""
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    live = []
    manager = type("M", (), {"active": lambda self: live})()
    job = job_mod.TrainingJob(make_exp(train={"epochs": 100}), circle, manager=manager)
    live[:] = [job]
    assert job._frame_seconds() == 0.5
    live[:] = [job] * 16
    assert job._frame_seconds() == 0.5            # looked up again only after a second
    job._frame = (job._frame[0], job._frame[1] - 1.0)
    assert job._frame_seconds() == pytest.approx(16 / slots.FRAMES_PER_S)
    job.engine = type("E", (), {"step": 1})()     # past its first epoch
    assert job._epochs_per_frame(30) == int(30 * 16 / slots.FRAMES_PER_S)


def _a_class_starting(circle, monkeypatch):
    """A hosted server with two slots: one student's run going at 50 epochs a second, and
    the next student's run (the manager's next submission) held at its build until `gate`
    is set. (manager, the going run, gate)."""
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    held_build, gate = held_at("_prepare", "building")
    factories = iter([job_mod.TrainingJob, held_build])
    manager = JobManager(max_running=2, job_factory=lambda *a, **k: next(factories)(*a, **k))
    going = manager.submit(make_exp(train={"epochs": 3_000}), circle, owner="a", pace=50)
    return manager, going, gate


def test_hosted_paced_runs_slow_down_while_another_student_waits_for_a_first_point(circle, monkeypatch):
    # A class presses Train together: the runs already going slow to CROWDED_PACE while a
    # later press is still being built, and until its page has drawn its first point, so
    # neither is starved by their epochs. (At 5 a second here, to count epochs in seconds.)
    monkeypatch.setattr(job_mod, "CROWDED_PACE", 5.0)
    manager, going, gate = _a_class_starting(circle, monkeypatch)
    held = None
    try:
        assert wait_until(lambda: going.progress()[1] >= 3)
        held = manager.submit(make_exp(train={"epochs": 3_000}), circle, owner="b", pace=50)
        held.shown(0)   # its student's page polls its place meanwhile
        assert wait_until(lambda: held.progress() == ("building", 0))

        def seconds_for(epochs: int) -> float:
            start, t0 = going.progress()[1], time.perf_counter()
            assert wait_until(lambda: going.progress()[1] >= start + epochs, timeout=30)
            return time.perf_counter() - t0

        seconds_for(1)   # a frame begun before the press (25 epochs at 50 a second) ends
        # at most 5 a second (after up to 0.1 s, PENDING_FRESH_S, at 50): 10 take >= 1 s
        crowded = seconds_for(10)
        gate.set()
        assert wait_until(lambda: held.progress()[1] >= 1)
        # ... and while the newcomer's page has its first point but its browser has not
        # said it has drawn it, however many frames the page asks for
        held.shown(held.progress()[1])
        held.shown(held.progress()[1])
        drawing = seconds_for(10)
        held.first_point_drawn()   # the browser says so (train_view.first_point_routes)
        time.sleep(job_mod.PENDING_FRESH_S)   # the answer the going run holds expires
        seconds_for(1)   # the frame begun meanwhile ends
        free = seconds_for(25)              # 50 a second again: about half a second
        assert crowded >= 0.8, crowded      # 0.2 s at 50 a second
        assert drawing >= 0.8, drawing
        assert free < 25 / job_mod.CROWDED_PACE - 1.0, free
    finally:
        gate.set()
        stop_all([j for j in (going, held) if j is not None])


def test_a_run_crawling_for_the_class_goes_on_the_moment_the_last_first_point_is_drawn(
        circle, monkeypatch):
    # At CROWDED_PACE (an epoch in 5 s) a run waits out its epoch's share of a second; the
    # class's last first point drawn ends that wait, not the next crawled epoch.
    manager, going, gate = _a_class_starting(circle, monkeypatch)
    held = None
    try:
        assert wait_until(lambda: going.progress()[1] >= 3)
        going.first_point_drawn()
        held = manager.submit(make_exp(train={"epochs": 3_000}), circle, owner="b", pace=50)
        held.shown(0)
        gate.set()
        assert wait_until(lambda: held.progress()[1] >= 1)
        held.shown(held.progress()[1])
        # crawling: its frame begun before the press ends, then an epoch takes 5 s
        crawled = going.progress()[1]
        assert wait_until(lambda: going.progress()[1] >= crawled + 1, timeout=10)
        at, t0 = going.progress()[1], time.perf_counter()
        held.first_point_drawn()
        assert wait_until(lambda: going.progress()[1] >= at + 25, timeout=30)
        assert time.perf_counter() - t0 < 1 / job_mod.CROWDED_PACE - 1.0
    finally:
        gate.set()
        stop_all([j for j in (going, held) if j is not None])


def test_a_first_point_no_page_draws_holds_the_class_back_only_until_it_is_trained(
        circle, monkeypatch):
    # A run no page watches (a race variant, the CLI) has its point once trained; a watched
    # run whose browser never says it drew its point holds the class back
    # FIRST_POINT_SEEN_MAX_S after its page had it, and one whose page never asked for it
    # (its tab went, or is too starved to ask) FIRST_POINT_UNSENT_MAX_S after the epoch.
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    manager = JobManager(max_running=3)
    jobs = []

    def trained(owner: str, watched: bool):
        jobs.append(manager.submit(make_exp(train={"epochs": 3_000}), circle, owner=owner, pace=5))
        if watched:
            jobs[-1].shown(0)   # its page polls its place in the queue
        assert wait_until(lambda: jobs[-1].progress()[1] >= 1)
        time.sleep(job_mod.PENDING_FRESH_S)   # the manager's last answer expires
        return jobs[-1]

    def pending() -> bool:
        time.sleep(job_mod.PENDING_FRESH_S)
        return manager.first_points_pending(asking)

    try:
        asking = trained("a", watched=False)
        trained("b", watched=False)
        assert not manager.first_points_pending(asking)
        unsent = trained("c", watched=True)     # its tab has not asked for the point
        assert pending()
        monkeypatch.setattr(job_mod, "FIRST_POINT_SEEN_MAX_S", 0.0)
        assert pending()                          # that limit is for a point the page had
        unsent.shown(unsent.progress()[1])       # ... as it now has, undrawn
        assert not pending()
        monkeypatch.setattr(job_mod, "FIRST_POINT_SEEN_MAX_S", 15.0)
        unsent.first_point_drawn()
        trained("d", watched=True)
        assert pending()
        monkeypatch.setattr(job_mod, "FIRST_POINT_UNSENT_MAX_S", 0.0)
        assert not pending()
    finally:
        stop_all(jobs)


def test_a_laptop_never_slows_its_runs_for_others():
    assert JobManager(max_running=2).first_points_pending(object()) is False
