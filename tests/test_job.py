"""TrainingJob and JobManager: the background thread, its controls, snapshots and failures."""
import threading
import time

import numpy as np
import pytest

from nnplay.data import load
from nnplay.job import JobManager, TrainingJob

from conftest import epochs_trained, make_exp, never, wait_until


@pytest.fixture(scope="module")
def circle():
    return load(make_exp().data)


def test_job_trains_to_completion_with_views(circle):
    job = TrainingJob(make_exp(train={"epochs": 150}), circle).start()
    snap = job.wait(60)
    assert snap.status == "completed" and snap.epoch == 150
    assert len(snap.history["loss"]) == len(snap.history["val_accuracy"]) == 150
    assert snap.final["val_accuracy"] == snap.history["val_accuracy"][-1]
    assert snap.grid.shape == (100, 100) and 0 <= snap.grid.min() <= snap.grid.max() <= 1
    assert snap.weights[0]["layer"] == "dense_1"
    assert snap.weights[0]["weights"][0]["shape"] == [2, 4]
    assert snap.weight_history[0]["epoch"] == 0 and snap.weight_history[-1]["epoch"] == 150
    assert len(snap.grad_norms) == 150 and snap.samples_per_sec > 0
    assert snap.message == "finished all 150 epochs"


def test_pause_resume_step_stop(circle, stopped_at_end):
    job = stopped_at_end(TrainingJob(make_exp(train={"epochs": 100_000}), circle).start())
    assert wait_until(lambda: job.snapshot().epoch > 0)
    assert epochs_trained(job).wait(30)       # the event does fire while the job trains...
    job.pause()
    assert wait_until(lambda: job.snapshot().status == "paused")
    frozen = job.snapshot().epoch
    assert not epochs_trained(job).wait(0.3), "a paused job trained on"   # ...and not now
    assert job.snapshot().epoch == frozen
    assert wait_until(lambda: job.snapshot().grid_epoch == frozen)  # the paused epoch's boundary
    job.step()
    assert wait_until(lambda: job.snapshot().epoch == frozen + 1)
    assert wait_until(lambda: job.snapshot().grid_epoch == frozen + 1)
    assert wait_until(lambda: job.snapshot().status == "paused")
    assert not epochs_trained(job).wait(0.2), "a step trained more than one epoch"
    assert job.snapshot().epoch == frozen + 1 and job.snapshot().status == "paused"
    job.resume()
    assert wait_until(lambda: job.snapshot().epoch > frozen + 50)
    job.set_learning_rate(0.1)
    assert wait_until(lambda: job.snapshot().learning_rate == pytest.approx(0.1))
    job.stop()
    snap = job.wait(10)
    assert snap.status == "stopped" and not job.alive
    assert snap.message.startswith("stopped by hand at epoch")


def test_a_nan_loss_fails_the_job_with_a_reason(circle):
    exp = make_exp(model={"layers": [{"type": "Dense", "units": 32, "activation": "relu"}] * 3},
                   data={"dataset": "plane"},
                   train={"learning_rate": 9.0, "epochs": 500, "optimizer": "sgd", "momentum": 0.9})
    snap = TrainingJob(exp).start().wait(60)
    assert snap.status == "failed"
    assert "NaN" in snap.message and "learning rate" in snap.message


def test_a_bad_spec_fails_the_job_not_the_thread(circle):
    exp = make_exp(model={"layers": [{"type": "Conv2D"}]})
    snap = TrainingJob(exp, circle).start().wait(30)
    assert snap.status == "failed" and "Conv2D needs an image" in snap.message


def test_early_stopping_reported_in_snapshot():
    exp = make_exp(data={"dataset": "gauss", "samples": 200, "noise": 0.5},
                   model={"layers": [{"type": "Dense", "units": 64, "activation": "relu"}] * 2},
                   train={"optimizer": "adam", "learning_rate": 0.05, "epochs": 400,
                          "early_stopping": {"patience": 5}})
    snap = TrainingJob(exp).start().wait(60)
    assert snap.status == "early_stopping" and snap.epoch < 400
    assert snap.final["val_loss"] == pytest.approx(min(snap.history["val_loss"]))
    assert f"epoch {snap.best_epoch}" in snap.message


def test_test_split_is_evaluated_at_the_end():
    exp = make_exp(data={"dataset": "iris", "validation_split": 0.2, "test_split": 0.2},
                   train={"epochs": 5, "optimizer": "adam"})
    snap = TrainingJob(exp).start().wait(60)
    assert {"test_loss", "test_accuracy"} <= set(snap.final)


def test_manager_queues_beyond_its_limit(circle):
    manager = JobManager(max_running=1)
    jobs = [manager.submit(make_exp(train={"epochs": 60}), circle) for _ in range(3)]
    # the first has its slot (its thread may not have said "building" yet on a busy machine)
    assert wait_until(lambda: jobs[0].progress()[0] != "queued")
    assert wait_until(lambda: jobs[2].snapshot().queue_position == 2 or jobs[2].snapshot().finished)
    statuses = [j.snapshot().status for j in jobs]
    assert statuses.count("queued") == 2
    snaps = [j.wait(60) for j in jobs]
    assert all(s.status == "completed" for s in snaps)
    # the same spec and seed gives the same curve, whichever thread ran it
    assert snaps[0].history["val_loss"] == snaps[2].history["val_loss"]


def test_a_paused_job_lets_the_queue_move(circle, stopped_at_end):
    manager = JobManager(max_running=1)
    first = stopped_at_end(manager.submit(make_exp(train={"epochs": 100_000}), circle))
    second = manager.submit(make_exp(train={"epochs": 20}), circle)
    assert wait_until(lambda: first.snapshot().epoch > 0)
    first.pause()
    assert second.wait(60).status == "completed"
    first.stop()
    assert first.wait(10).status == "stopped"


def test_abandoned_session_jobs_stop_after_grace_unless_reattached(circle, stopped_at_end):
    manager = JobManager(max_running=2, grace_seconds=0.3)
    kept, lost = (stopped_at_end(manager.submit(make_exp(train={"epochs": 100_000}), circle,
                                                owner="tab-1")) for _ in range(2))
    manager.release_owner("tab-1")
    assert manager.attach(kept.id, "tab-2") is kept
    assert lost.wait(20).status == "stopped"
    assert kept.alive
    kept.stop()
    kept.wait(10)


def test_closed_tabs_share_one_reaper_thread_that_ends_when_nothing_waits(circle, stopped_at_end):
    manager = JobManager(max_running=2, grace_seconds=0.5)
    jobs = [stopped_at_end(manager.submit(make_exp(train={"epochs": 100_000}), circle,
                                          owner=f"tab-{i}")) for i in range(6)]
    before = threading.active_count()
    for i in range(6):
        manager.release_owner(f"tab-{i}")
    reapers = [t for t in threading.enumerate() if t.name == "nnplay-reaper"]
    assert len(reapers) == 1 and threading.active_count() <= before + 1
    assert all(job.wait(30).status == "stopped" for job in jobs)
    reapers[0].join(10)
    assert not reapers[0].is_alive() and manager._reaper is None


def test_concurrent_jobs_with_session_clearing_all_finish(circle):
    """Keras's clear_session (stock Streamlit calls it after every script run; nnplay's guard
    stops that, but other code may still call it) must not break jobs that are building or
    training in other threads."""
    import keras
    done = threading.Event()

    def clear_repeatedly():
        # The reset of Keras's global state is what could break a job. free_memory=False
        # skips the gc.collect() that comes with it by default: with the whole suite's
        # objects alive that holds the GIL long enough, 20 times a second, to starve the jobs
        # (4 x 20 epochs took 99-126 s in the full suite, 5 s without the clearer).
        while not done.wait(0.05):
            keras.backend.clear_session(free_memory=False)

    clearer = threading.Thread(target=clear_repeatedly, daemon=True)
    clearer.start()
    try:
        jobs = [TrainingJob(make_exp(train={"epochs": 20, "seed": i % 2}), circle).start()
                for i in range(4)]
        snaps = [j.wait(120) for j in jobs]
    finally:
        done.set()
    assert [s.status for s in snaps] == ["completed"] * 4, [s.message for s in snaps]
    assert snaps[0].history["val_loss"] == snaps[2].history["val_loss"]
    assert np.all(np.isfinite(snaps[1].history["loss"]))


def test_slow_motion_caps_the_epochs_per_second_until_lifted(circle, stopped_at_end):
    job = stopped_at_end(TrainingJob(make_exp(train={"epochs": 100_000}), circle))
    job.set_pace(20)
    job.start()
    assert wait_until(lambda: job.snapshot().epoch >= 3)
    t0, e0 = time.perf_counter(), job.snapshot().epoch
    assert wait_until(lambda: job.snapshot().epoch >= e0 + 20)
    snap = job.snapshot()
    assert snap.epoch - e0 <= 20 * (time.perf_counter() - t0) + 2    # at most 20 a second
    assert snap.pace == 20 and snap.grid_epoch >= snap.epoch - 1  # every epoch's boundary shows
    job.set_pace(None)
    assert wait_until(lambda: job.snapshot().epoch > snap.epoch + 500)
    with pytest.raises(ValueError, match="pace"):
        job.set_pace(0)
    job.stop()
    assert job.wait(10).status == "stopped"


def test_a_slow_motion_run_tells_its_time_left_from_its_pace_from_the_first_epochs(
        circle, stopped_at_end):
    job = stopped_at_end(TrainingJob(make_exp(train={"epochs": 1000}), circle))
    job.set_pace(2)
    job.start()
    assert wait_until(lambda: job.snapshot().epoch >= 2)
    snap = job.snapshot()
    # 2 epochs a second: about 500 s left, never hours because two epochs came close
    assert snap.eta == pytest.approx((1000 - snap.epoch) / 2, rel=0.2)


def test_steps_from_a_paused_start_keep_one_weight_snapshot_per_epoch(circle, stopped_at_end):
    """Reset then Step, Step, Step: Inspect's 'over epochs' chart gets each epoch once."""
    job = stopped_at_end(TrainingJob(make_exp(train={"epochs": 100}), circle).start(paused=True))
    for n in (1, 2, 3):
        job.step()
        assert wait_until(lambda: job.snapshot().epoch == n and job.snapshot().status == "paused")
    # the third step's views are drawn after its epoch is counted: wait for them, then
    # nothing more may be drawn while paused (a catch-up would add epoch 3 again)
    assert wait_until(lambda: job.snapshot().weight_history[-1]["epoch"] == 3
                      and job.snapshot().grid_epoch == 3)
    drawn = len(job.snapshot().weight_history)
    assert never(lambda: len(job.snapshot().weight_history) != drawn, within=0.3)
    snap = job.snapshot()
    epochs = [w["epoch"] for w in snap.weight_history]
    assert epochs == sorted(set(epochs)) and epochs[-1] == 3
    assert snap.grid_epoch == 3
    job.stop()
    job.wait(10)


def test_switching_to_full_speed_mid_epoch_never_fails_the_run(circle, stopped_at_end, monkeypatch):
    # Hosted: a paced job's views are framed, so every epoch reads its pace twice. A student
    # switching speed between the two reads once failed the run ("NoneType * float").
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    job = stopped_at_end(TrainingJob(make_exp(train={"epochs": 5_000}), circle))
    job.set_pace(1000)
    job.start()
    assert wait_until(lambda: job.snapshot().epoch >= 3)
    while job.snapshot().epoch < 300 and not job.snapshot().finished:
        job.set_pace(None)     # full speed for a moment, in the middle of an epoch or not
        time.sleep(0.001)
        job.set_pace(1000)
        time.sleep(0.001)
    job.stop()
    snap = job.wait(10)
    assert snap.status == "stopped", snap.message
