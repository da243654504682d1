"""The Train page's live panel keeps its refresh to the class server's load: a page drawn when
the server was idle slows its frames once a class's runs start (and speeds up as they end),
by retiming its fragment in the browser with the message `st.fragment(run_every=...)` sends."""
from streamlit.testing.v1 import AppTest


def _script():
    import streamlit as st
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    from nnplay.ui import train_view

    ctx = get_script_run_ctx()
    sent, enqueue = [], ctx.enqueue
    ctx.enqueue = lambda msg: (sent.append(msg), enqueue(msg))
    st.write(f"outside a fragment: {train_view._retime_fragment(1.5)}")

    @st.fragment(run_every=0.5)
    def live():
        st.session_state[train_view.REFRESH_KEY] = 0.5
        shown = [train_view._refresh("active", None, True) for _ in range(2)]
        st.write(f"shown: {shown}")
    live()
    timers = [(m.auto_rerun.fragment_id, round(m.auto_rerun.interval, 3))
              for m in sent if m.HasField("auto_rerun")]
    st.write(f"timers: {timers}")


def _texts(at):
    return [m.value for m in at.markdown]


def test_a_busier_server_retimes_the_running_fragment_once(monkeypatch):
    from nnplay.ui import train_view
    monkeypatch.setattr(train_view, "_poll_seconds", lambda phase, job, seen: 1.5)   # 18 runs live
    at = AppTest.from_function(_script).run()
    assert not at.exception
    outside, shown, timers = _texts(at)
    assert outside == "outside a fragment: None"
    assert shown == "shown: [1.5, 1.5]"
    (drawn, first), (retimed, second) = eval(timers.removeprefix("timers: "))
    # the same fragment's timer (the one st.fragment set), now 1.5 s; asked twice, sent once
    assert retimed == drawn and (first, second) == (0.5, 1.5)


def test_a_small_change_of_load_keeps_the_timer(monkeypatch):
    from nnplay.ui import train_view
    monkeypatch.setattr(train_view, "_poll_seconds", lambda phase, job, seen: 0.5 + train_view.RETIME_S / 2)
    at = AppTest.from_function(_script).run()
    _, shown, timers = _texts(at)
    assert shown == "shown: [0.5, 0.5]" and len(eval(timers.removeprefix("timers: "))) == 1


def test_a_run_with_its_first_point_refreshes_slowly_while_other_students_wait_for_theirs(
        monkeypatch):
    """A class presses Train together: a page that has had its run's first point draws one
    frame in STARTING_FRAME_S until the other students have theirs (their pages, still
    waiting for it, keep the class's frame), then the class's frame again."""
    from nnplay import jobapi, slots
    from nnplay.ui import train_view
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    building = [True]
    asked = []

    class Class:
        def active(self):
            return [object()] * 16

        def first_points_pending(self, job):
            asked.append(job)
            return building[0]

    monkeypatch.setattr(jobapi, "manager", lambda: Class())
    class_frame = 16 / slots.FRAMES_PER_S
    assert train_view._poll_seconds("active", "mine", sent=True) == slots.STARTING_FRAME_S
    assert asked == ["mine"]          # the others' runs, not this one's own build
    assert train_view._poll_seconds("active", "mine", sent=False) == class_frame
    building[0] = False
    assert train_view._poll_seconds("active", "mine", sent=True) == class_frame
    assert train_view._poll_seconds("paused", "mine", sent=True) == 1.0
    monkeypatch.setenv("NNPLAY_HOSTED", "0")
    building[0] = True
    assert train_view._poll_seconds("active", "mine", sent=True) == 0.25   # a laptop
