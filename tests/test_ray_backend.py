"""The Ray backend against a local Ray (one shared `ray.init(num_cpus=2)` for the module):
the same history as the thread backend, the controls through the proxy, the run in the
store, and no orphan when the server dies. Skipped where Ray is not installed."""
import os
import select
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ray = pytest.importorskip("ray")

from nnplay import ray_backend  # noqa: E402
from nnplay.job import TrainingJob  # noqa: E402
from nnplay.spec import Experiment  # noqa: E402
from nnplay.store import RunStore, attach  # noqa: E402
from conftest import wait_until  # noqa: E402

TIMEOUT = 90.0


@pytest.fixture(scope="module")
def manager():
    os.environ["RAY_worker_niceness"] = "0"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray_backend.ray_manager()
    ray_backend.reset_manager()
    ray.shutdown()


def circle(epochs: int) -> Experiment:
    exp = Experiment()
    exp.train.epochs = epochs
    return exp


def test_a_job_trains_to_the_thread_backends_history(manager):
    exp = circle(30)
    local = TrainingJob(exp).start().wait(TIMEOUT)
    job = manager.submit(exp)
    snap = job.wait(TIMEOUT)
    assert snap.status == "completed", snap.message
    assert snap.epoch == 30 and set(snap.history) == set(local.history)
    for name, values in local.history.items():
        np.testing.assert_allclose(snap.history[name], values, rtol=1e-5, atol=1e-6)
    assert snap.final == pytest.approx(local.final, rel=1e-5)
    assert snap.grid is not None and snap.grid.shape == (100, 100)
    # the .keras bytes, opened here, name their weights as the worker's snapshot does
    assert [w.path for w in job.model().weights] == [
        w["path"] for layer in snap.weights for w in layer["weights"]]
    assert job.predict(np.zeros((3, 2), np.float32)).shape == (3, 1)
    assert not job.alive and manager.cluster.jobs == {}   # the host let it go


def test_pause_step_learning_rate_and_stop_go_through_the_proxy(manager):
    job = manager.submit(circle(5000), paused=True)
    # a paused job gives its slot back
    assert wait_until(lambda: job.snapshot().status == "paused" and not manager.holds(job))
    job.step()
    assert wait_until(lambda: job.snapshot().epoch == 1 and job.snapshot().status == "paused")
    assert job.predict(np.zeros((2, 2), np.float32)).shape == (2, 1)   # a copy, for Inspect
    job.set_learning_rate(0.1)
    job.step()
    assert wait_until(lambda: job.snapshot().epoch == 2 and job.snapshot().learning_rate == 0.1)
    job.resume()
    assert wait_until(lambda: job.snapshot().epoch > 20)
    job.pause()
    assert wait_until(lambda: job.snapshot().status == "paused" and not manager.holds(job))
    job.stop()
    snap = job.wait(TIMEOUT)
    assert snap.status == "stopped" and "stopped by hand" in snap.message


def test_a_hosted_class_takes_turns_on_ray_too(manager, monkeypatch):
    """Two long runs hold the slots; a third student's run gets a turn and draws a first
    point, while the run that gave its slot reads queued, never paused."""
    monkeypatch.setattr(manager, "quantum_s", 0.5)
    monkeypatch.setattr(manager, "max_running", 2)
    long = [manager.submit(circle(100_000), owner=f"student{i}") for i in range(2)]
    newcomer = None
    seen = set()
    try:
        assert wait_until(lambda: all(j.snapshot().epoch > 0 for j in long), timeout=TIMEOUT)
        newcomer = manager.submit(circle(100_000), owner="late")

        def newcomer_drew():
            seen.update(j.snapshot().status for j in long)
            return newcomer.snapshot().epoch > 0
        assert wait_until(newcomer_drew, timeout=TIMEOUT)
        assert "queued" in seen and "paused" not in seen, seen
        assert wait_until(lambda: all(j.snapshot().epoch > 0 and j.alive for j in long))
    finally:
        for job in long + [newcomer]:
            if job is not None:
                job.stop()
        for job in long + [newcomer]:
            if job is not None:
                assert job.wait(TIMEOUT).status == "stopped"


def test_the_run_lands_in_the_store_with_its_model(manager, tmp_path):
    store = RunStore(tmp_path)
    job = manager.submit(circle(40))
    run_id = attach(job, store)
    snap = job.wait(TIMEOUT)
    run = store.get_run(run_id)
    assert run.status == "completed" and job.saved_as == run_id
    assert store.history(run_id)["loss"] == pytest.approx(snap.history["loss"])
    assert store.model_path(run_id) is not None


def test_the_train_and_inspect_pages_run_a_job_on_ray(manager, monkeypatch):
    from conftest import open_page
    monkeypatch.setenv("NNPLAY_RAY_ADDRESS", "local")   # jobapi.manager() is the Ray one
    at = open_page("views/train.py", circle(40))
    next(b for b in at.button if "Train" in b.label).click().run()
    job = manager.get(at.session_state["nnplay_job_id"])
    assert isinstance(job, ray_backend.RayJob)
    assert job.wait(TIMEOUT).status == "completed"
    at.run()
    assert "finished all 40 epochs" in " ".join(m.value for m in at.success)
    at.switch_page("views/inspect.py").run()
    assert not at.exception and not at.error


DRIVER = textwrap.dedent("""
    import os, sys, time
    os.environ["NNPLAY_RAY_ADDRESS"] = sys.argv[1]
    from nnplay.jobapi import manager
    from nnplay.spec import Experiment
    exp = Experiment()
    exp.train.epochs = 100_000
    job = manager().submit(exp, pace=5)
    while job.snapshot().epoch < 1:
        if not job.alive:
            sys.exit("failed: " + job.snapshot().message)
        time.sleep(0.05)
    import ray
    print(ray.get(job.host.actor.info.remote())["pid"], flush=True)
    time.sleep(600)
""")


def test_a_killed_server_leaves_no_orphan_job(manager):
    ray_backend.reset_manager()     # this module's host goes: one host in memory at a time
    address = ray.get_runtime_context().gcs_address
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, address], stdout=subprocess.PIPE,
                              text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    try:
        ready, _, _ = select.select([driver.stdout], [], [], TIMEOUT)
        line = driver.stdout.readline() if ready else ""
        assert line.strip().isdigit(), "the driver did not start its job"
        pid = int(line)
        assert _running(pid)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    assert wait_until(lambda: not _running(pid), timeout=30), "the host actor outlived its driver"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"   # a zombie has ended
    except FileNotFoundError:
        return False


# A server's page starts the local Ray from its script thread, which then ends.
LOCAL_FROM_A_PAGE = textwrap.dedent("""
    import os, threading
    from nnplay import ray_backend
    from nnplay.spec import Experiment
    made = []
    page = threading.Thread(target=lambda: made.append(ray_backend.ray_manager()))
    page.start()
    page.join()
    while os.path.exists(f"/proc/self/task/{page.native_id}"):   # gone from the kernel too
        pass
    exp = Experiment()
    exp.train.epochs = 5
    print(made[0].submit(exp).wait(90).status, flush=True)
""")


def test_a_local_ray_started_by_a_page_outlives_the_page():
    """NNPLAY_RAY_ADDRESS=local on a server: the page's thread that started Ray ends, and
    Ray goes on (its GCS and raylet used to be killed with that thread, and the server
    exited a minute later)."""
    env = {**os.environ, "NNPLAY_RAY_ADDRESS": "local", "NNPLAY_RAY_SLOTS": "1",
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run([sys.executable, "-c", LOCAL_FROM_A_PAGE], capture_output=True,
                          text=True, timeout=240, env=env,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 0 and done.stdout.split()[-1:] == ["completed"], done.stderr[-2000:]
