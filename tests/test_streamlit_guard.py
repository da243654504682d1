"""Streamlit must not clear the Keras session or garbage-collect after every run: both starve
or break the training threads (see ARCHITECTURE.md, Training)."""
import sys
import tomllib

from conftest import ROOT


def test_post_script_gc_is_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False


def test_streamlit_private_cleanup_still_exists_where_we_patch_it():
    # If this fails after a Streamlit upgrade, find where Streamlit now calls
    # keras.backend.clear_session() and move nnplay.ui.session.install_streamlit_guards.
    from streamlit.runtime.scriptrunner import script_runner
    assert callable(script_runner._clean_problem_modules)
    import inspect
    assert "clear_session" in inspect.getsource(script_runner._clean_problem_modules) or \
        getattr(script_runner._clean_problem_modules, "_nnplay_guard", False)


def test_guard_keeps_keras_session(monkeypatch):
    import keras
    from streamlit.runtime.scriptrunner import script_runner
    from nnplay.ui.session import install_streamlit_guards
    monkeypatch.setattr(script_runner, "_clean_problem_modules", script_runner._clean_problem_modules)
    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: cleared.append(1))
    install_streamlit_guards()
    script_runner._clean_problem_modules()
    assert cleared == [] and "keras" in sys.modules


def test_core_never_imports_streamlit():
    core = [p for p in (ROOT / "nnplay").glob("*.py")]
    offenders = [p.name for p in core if "import streamlit" in p.read_text()
                 or "from streamlit" in p.read_text()]
    assert core and offenders == []
