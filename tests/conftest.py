import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Runs that page tests start are kept in a throwaway store, not in the user's ~/.nnplay.
os.environ.setdefault("NNPLAY_HOME", __import__("tempfile").mkdtemp(prefix="nnplay_test_home_"))

import pytest  # noqa: E402
from streamlit.runtime.scriptrunner import script_runner  # noqa: E402

# Streamlit's own post-run cleanup, captured before app.py (run by any page test) replaces it
# with nnplay's guard: the guard test must start from the original, whatever ran first.
STREAMLIT_CLEAN_PROBLEM_MODULES = script_runner._clean_problem_modules

from nnplay.spec import Experiment  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can screenshot failures."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, "rep_" + report.when, report)


@pytest.fixture
def toy_exp():
    """TensorFlow Playground's default experiment, shortened."""
    exp = Experiment()
    exp.train.epochs = 20
    return exp


def make_exp(**parts) -> Experiment:
    """An Experiment from partial sections: make_exp(data={...}, model={...}, train={...})."""
    return Experiment.from_dict(parts)


ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


def open_page(page: str, exp: Experiment | None = None, timeout: float = 60, **state):
    """Run app.py in Streamlit's AppTest, switched to `page` ("views/train.py"), with the
    experiment and any other session state primed. Through app.py, st.page_link works."""
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    at.session_state["nnplay_experiment"] = exp or Experiment()
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(page)
    return at.run()
