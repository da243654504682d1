import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Runs that page tests start are kept in a throwaway store, not in the user's ~/.nnplay.
os.environ.setdefault("NNPLAY_HOME", __import__("tempfile").mkdtemp(prefix="nnplay_test_home_"))

import base64  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402
from streamlit.runtime.scriptrunner import script_runner  # noqa: E402

from nnplay.spec import Experiment  # noqa: E402

# Streamlit's own post-run cleanup, captured before app.py (run by any page test) replaces it
# with nnplay's guard: the guard test must start from the original, whatever ran first.
STREAMLIT_CLEAN_PROBLEM_MODULES = script_runner._clean_problem_modules

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can screenshot failures."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture(autouse=True)
def unshared_graphs():
    """Each test starts with no traced graph to share (`nnplay.graphs`): what a test sees of
    eager first epochs and compiling does not depend on which tests ran before it."""
    graphs = __import__("sys").modules.get("nnplay.graphs")
    if graphs is not None:
        graphs.clear()
    yield


# ---- experiments -------------------------------------------------------------------------

@pytest.fixture
def toy_exp():
    """TensorFlow Playground's default experiment, shortened."""
    exp = Experiment()
    exp.train.epochs = 20
    return exp


def make_exp(**parts) -> Experiment:
    """An Experiment from partial sections: make_exp(data={...}, model={...}, train={...})."""
    return Experiment.from_dict(parts)


# ---- waiting: for something to happen, or for proof that it did not ---------------------

def wait_until(predicate, timeout: float = 30.0, step: float = 0.02) -> bool:
    """Poll `predicate` until it is true (True) or `timeout` seconds pass (False). An
    exception from it counts as not yet (a page being redrawn)."""
    end = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return True
        except Exception:
            pass
        if time.monotonic() >= end:
            return False
        time.sleep(step)


def never(predicate, within: float, step: float = 0.02) -> bool:
    """True if `predicate` stays false for `within` seconds; False the moment it is true."""
    return not wait_until(predicate, within, step)


def epochs_trained(job):
    """An Event set as soon as the job reports another trained epoch (its "epochs" event):
    `assert not epochs_trained(job).wait(0.3)` proves it trains nothing meanwhile, and fails
    the moment it does."""
    import threading
    moved = threading.Event()
    job.add_listener(lambda _job, event, _data: event == "epochs" and moved.set())
    return moved


# ---- jobs and runs of one test ------------------------------------------------------------

def stop_jobs(jobs, timeout: float = 30.0):
    """Stop jobs that may still be training and wait for them (fixtures' and finally's)."""
    jobs = [j for j in jobs if j is not None]
    for job in jobs:
        job.stop()
    for job in jobs:
        job.wait(timeout)


@pytest.fixture
def stopped_at_end():
    """`stopped_at_end(job)` returns the job, and the job is stopped when the test ends,
    whether or not its assertions passed (no training thread outlives its test)."""
    started = []

    def keep(job):
        started.append(job)
        return job
    yield keep
    stop_jobs(started)


@contextlib.contextmanager
def own_job_manager(**settings):
    """A fresh JobManager that the app (`jobapi.manager()`) uses meanwhile; every job it
    still has is stopped afterwards, whether or not the test passed."""
    from nnplay import jobapi
    from nnplay.job import JobManager
    manager = JobManager(**settings)
    previous = jobapi.use_manager(manager)
    try:
        yield manager
    finally:
        jobapi.use_manager(previous)
        stop_jobs(list(manager.jobs.values()))


@pytest.fixture
def jobs():
    """This test's own job manager: pages submit to it, and its jobs end with the test."""
    with own_job_manager() as manager:
        yield manager


@pytest.fixture
def app_store(tmp_path, monkeypatch):
    """This test's own run store (NNPLAY_HOME in tmp_path), the one the app's pages use."""
    from nnplay.store import RunStore
    from nnplay.ui import session
    monkeypatch.setenv("NNPLAY_HOME", str(tmp_path))
    session.store.clear()            # the app keeps one RunStore per process
    yield RunStore(tmp_path)
    monkeypatch.undo()
    session.store.clear()


def keep_run(store, exp: Experiment | None = None, name: str = "run", losses=(1.0, 0.5),
             workspace: str = "") -> str:
    """A finished run in `store` as another app process would leave it: epochs, no job."""
    run_id = store.create_run(exp or Experiment(), name=name, workspace=workspace)
    store.add_epochs(run_id, [{"epoch": i + 1, "loss": loss, "val_loss": loss + 0.1 * i,
                               "accuracy": 0.5, "val_accuracy": 0.5}
                              for i, loss in enumerate(losses)])
    store.finish(run_id, "completed", "", {"val_loss": losses[-1]}, len(losses))
    return run_id


# ---- pages (Streamlit's AppTest) -----------------------------------------------------------

def open_page(page: str, exp: Experiment | None = None, timeout: float = 60,
              query: dict | None = None, **state):
    """Run main.py (the pages app.py serves) in Streamlit's AppTest, switched to `page` ("views/train.py"), with the
    experiment and any other session state primed. Through main.py, st.page_link works.
    `query`: the address's parameters (?ws=, ?run=, ...); then, as a link opening the app,
    the experiment is primed only if `exp` is given."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "main.py"), default_timeout=timeout)
    at.query_params.update(query or {})
    if exp is not None or query is None:
        at.session_state["nnplay_experiment"] = exp or Experiment()
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(page)
    return at.run()


def experiment(at) -> Experiment:
    """The page's one experiment."""
    return at.session_state["nnplay_experiment"]


def texts(elements) -> str:
    """The values of elements (at.markdown, at.caption, ...), as one string."""
    return " ".join(e.value for e in elements)


def page_text(at) -> str:
    """Every header, subheader, caption and markdown of the page, as one string."""
    return " ".join(texts(at.get(kind)) for kind in ("header", "subheader", "caption", "markdown"))


def button(at, label: str):
    """The page's first button labelled exactly `label`."""
    return next(b for b in at.button if b.label == label)


def chart_data(at) -> list[dict]:
    """What the page sent its charts (nnplay.ui.chart): each one's figure and report path."""
    sent = [json.loads(c.proto.json) for c in at.get("bidi_component")
            if c.proto.component_name == "nnplay_chart"]
    return [data for data in sent if "figure" in data]   # not chart.preload()


def charts(at) -> list[str]:
    """The figures of the page's charts (nnplay.ui.chart), as the JSON that plotly.js reads."""
    return [data["figure"] for data in chart_data(at)]


def trace_values(array) -> list:
    """A trace's x or y as sent to plotly.js: a list, or base64-packed numbers."""
    if isinstance(array, dict):
        import numpy as np
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def held_at(step: str, status: str):
    """(a TrainingJob class, its gate): its jobs show `status` and wait at `step` (a method,
    as "_prepare" or "_train_loop") until the gate is set, then go on."""
    import threading

    from nnplay.job import TrainingJob
    gate = threading.Event()

    def held(self):
        self._set(status=status)
        gate.wait(60)
        getattr(TrainingJob, step)(self)
    return type(f"HeldAt{step}", (TrainingJob,), {step: held}), gate
