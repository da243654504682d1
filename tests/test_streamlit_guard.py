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


# ---- no live chart sent as a reference to a cached message --------------------------------

def _chart_frame(fragment_id: str = "live", path=(0, 1, 0, 1, 1, 0, 0)):
    """A live chart's message as a fragment's run sends it: a new element of ~20 kB (a
    300-epoch curve or a decision boundary, as chart.figure_json makes them)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    msg = ForwardMsg()
    msg.metadata.delta_path[:] = path
    msg.delta.fragment_id = fragment_id
    msg.delta.new_element.markdown.body = "x" * 20_000
    return msg


def cacheable_with(min_size: float) -> bool:
    from streamlit import config
    from streamlit.runtime.forward_msg_cache import populate_hash_if_needed
    before = config.get_option("global.minCachedMessageSize")
    config.set_option("global.minCachedMessageSize", min_size)
    try:
        msg = _chart_frame()
        populate_hash_if_needed(msg)
        return msg.metadata.cacheable
    finally:
        config.set_option("global.minCachedMessageSize", before)


def test_streamlit_keeps_a_chart_reference_when_it_drops_the_rest_of_a_fragments_frame():
    # Why references are off: starting a fragment's run, Streamlit drops the fragment's
    # elements still waiting to go out, but a reference has no fragment id and goes out
    # anyway, to a block the browser may no longer have. If this fails after a Streamlit
    # upgrade, the queue drops references too and .streamlit/config.toml's
    # minCachedMessageSize can go back to its default.
    from streamlit.runtime.forward_msg_cache import create_reference_msg, populate_hash_if_needed
    from streamlit.runtime.forward_msg_queue import ForwardMsgQueue
    progress, chart = _chart_frame(path=(0, 1, 0, 1, 0)), _chart_frame()
    populate_hash_if_needed(chart)
    queue = ForwardMsgQueue()
    queue.enqueue(progress)
    queue.enqueue(create_reference_msg(chart))
    queue.clear(retain_lifecycle_msgs=True, fragment_ids_this_run=["live"])
    assert [m.WhichOneof("type") for m in queue.flush()] == ["ref_hash"]


def test_no_live_chart_is_sent_as_a_reference_to_a_cached_message():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cacheable_with(10e3)   # Streamlit's default: a chart frame would be cached
    assert not cacheable_with(config["global"]["minCachedMessageSize"])


# ---- each live frame out of the server before the next run starts -------------------------

def test_streamlit_drops_a_fragments_unsent_frame_when_its_next_run_starts():
    # Why the live panel waits for its frame to go out (session.wait_until_sent): what
    # AppSession does as a fragment's run starts. If this fails after a Streamlit upgrade,
    # the wait may no longer be needed.
    from streamlit.runtime.forward_msg_queue import ForwardMsgQueue
    queue = ForwardMsgQueue()
    queue.enqueue(_chart_frame())
    queue.clear(retain_lifecycle_msgs=True, fragment_ids_this_run=["live"])
    assert queue.flush() == []


def test_the_live_panel_finds_its_sessions_queue_where_streamlit_keeps_it():
    # Streamlit internals session.browser_queue reads (pinned Streamlit).
    from streamlit.runtime import Runtime
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.session_manager import SessionManager
    assert callable(Runtime.exists) and callable(SessionManager.get_active_session_info)
    assert "self._browser_queue = ForwardMsgQueue()" in inspect.getsource(AppSession.__init__)
    assert "_session_mgr" in inspect.getsource(Runtime.__init__)


class _Queue:
    """A session's queue of messages that the server's event loop sends after `after` s."""
    def __init__(self, messages: int, after: float | None):
        import threading
        self.messages = messages
        if after is not None:
            threading.Timer(after, self.flush).start()

    def flush(self):
        self.messages = 0

    def __len__(self):
        return self.messages


def test_a_live_frame_waits_until_its_messages_have_gone_out(monkeypatch):
    from nnplay.ui import session
    queue = _Queue(3, after=0.2)
    monkeypatch.setattr(session, "browser_queue", lambda: queue)
    assert session.wait_until_sent(limit=30) and len(queue) == 0


def test_a_live_frame_stops_waiting_at_its_limit_and_says_so(monkeypatch):
    import time
    from nnplay.ui import session
    monkeypatch.setattr(session, "browser_queue", lambda: _Queue(3, after=None))
    started = time.monotonic()
    assert session.wait_until_sent(limit=0.2) is False
    assert time.monotonic() - started >= 0.2


def test_outside_a_server_a_live_frame_does_not_wait():
    from nnplay.ui import session
    assert session.browser_queue() is None and session.wait_until_sent() is True
