"""Streamlit must not clear the Keras session or garbage-collect after every run: both starve
or break the training threads (see ARCHITECTURE.md, Training)."""
import inspect
import sys
import tomllib

from conftest import ROOT, STREAMLIT_CLEAN_PROBLEM_MODULES


def test_post_script_gc_is_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_streamlit_private_cleanup_still_exists_where_we_patch_it():
    # If this fails after a Streamlit upgrade, find where Streamlit now calls
    # keras.backend.clear_session() and move nnplay.ui.session.install_streamlit_guards.
    # The function checked is Streamlit's own, captured before any page test ran app.py.
    assert callable(STREAMLIT_CLEAN_PROBLEM_MODULES)
    assert not getattr(STREAMLIT_CLEAN_PROBLEM_MODULES, "_nnplay_guard", False)
    assert "clear_session" in inspect.getsource(STREAMLIT_CLEAN_PROBLEM_MODULES)


def cleanup_after_a_run(monkeypatch, guarded: bool) -> list:
    """Run Streamlit's post-run cleanup as the script runner would, starting from Streamlit's
    original (with or without nnplay's guard installed); the keras.backend.clear_session calls
    it made."""
    import keras
    from streamlit.runtime.scriptrunner import script_runner
    from nnplay.ui.session import install_streamlit_guards
    monkeypatch.setattr(script_runner, "_clean_problem_modules", STREAMLIT_CLEAN_PROBLEM_MODULES)
    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: cleared.append(1))
    if guarded:
        install_streamlit_guards()
    script_runner._clean_problem_modules()
    return cleared


def test_without_the_guard_streamlit_clears_the_keras_session(monkeypatch):
    # What the guard is for: proves the next test can fail.
    assert cleanup_after_a_run(monkeypatch, guarded=False) == [1]


def test_guard_keeps_keras_session(monkeypatch):
    assert cleanup_after_a_run(monkeypatch, guarded=True) == []
    assert "keras" in sys.modules


def test_core_never_imports_streamlit():
    core = [p for p in (ROOT / "nnplay").glob("*.py")]
    offenders = [p.name for p in core if "import streamlit" in p.read_text()
                 or "from streamlit" in p.read_text()]
    assert core and offenders == []
