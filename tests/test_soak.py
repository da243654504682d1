"""A small soak in CI: four students for a minute on a real hosted server in headless Chromium
(`python -m nnplay soak --sessions 4 --minutes 1`). Nothing lost, no thread left behind, no
error drawn; the full-size figures (16 students, 10 minutes) are in the issue notes."""
import os
import shutil

import pytest

pytestmark = pytest.mark.skipif(shutil.which("chromium") is None and not os.path.exists("/usr/bin/chromium"),
                                reason="Debian's chromium is not installed")


def test_a_small_class_loses_nothing_and_leaves_no_thread_behind():
    from nnplay.tools.soak import run_soak
    report = run_soak(sessions=4, minutes=1)
    print("\n".join(report.lines()))
    assert report.errors == []
    assert report.lessons >= 4                      # every student got through a lesson
    assert report.jobs_started == report.runs_saved == report.runs_finished
    assert set(report.runs_by_status) == {"completed"}
    # the server's part of the wait, read from its log: there, and within the whole wait
    assert 0 < report.server_burst_first_point_max_s <= report.burst_first_point_max_s
    assert report.server_burst_first_point_max_s <= report.server_burst_span_s
    # the server alone: the first epoch ready before its frame is sent
    assert 0 < report.server_burst_ready_max_s <= report.server_burst_first_point_max_s
    assert 0 < report.burst_presses_received_s < report.burst_first_point_max_s
    # the browsers' part after it: the last point drawn after the last sent (log: ms)
    assert -0.01 <= report.burst_drawn_after_sent_s < report.burst_first_point_max_s
    # A leak grows with the lessons (a thread per tab or per run: 8 or more here). Both
    # counts are taken once the web server's idle pool workers are dropped (they grow with
    # concurrent requests, up to 40, and are not a leak). What is left that does not grow
    # with the lessons: the pools of a process that trained four runs at once after a
    # warm-up of one. So the end may be up to 3 above the start, and less than half the lessons.
    grown = report.threads_end - report.threads_start
    assert grown <= 3 and grown < max(4, report.lessons / 2), "threads grew with the lessons"


def test_the_browsers_are_kept_below_the_server_but_the_server_is_not():
    """The soak's browsers take only the CPU the server leaves: every thread below the soak
    goes to BROWSER_NICENESS, the server's tree stays as it was (here: a shell standing for
    the soak, with one child standing for the browser and one for the server)."""
    import subprocess
    from conftest import wait_until
    from nnplay.tools.soak import BROWSER_NICENESS, _descendants, _nice_tree
    soak = subprocess.Popen(["bash", "-c", "sleep 30 & sleep 30 & wait"])
    try:
        wait_until(lambda: len(_descendants(soak.pid)) >= 2, timeout=10)
        browser, server = sorted(_descendants(soak.pid))
        before = os.getpriority(os.PRIO_PROCESS, server)
        assert before < BROWSER_NICENESS
        _nice_tree(soak.pid, spare=server)
        assert os.getpriority(os.PRIO_PROCESS, browser) == BROWSER_NICENESS
        assert os.getpriority(os.PRIO_PROCESS, server) == before
        assert os.getpriority(os.PRIO_PROCESS, soak.pid) == before   # the soak itself: not below
    finally:
        soak.kill()
        soak.wait()


class _Page:
    """What FrameLog asks of a Playwright page and its websocket: their event hooks."""
    def __init__(self):
        self.hooks = {}

    def on(self, event, hook):
        self.hooks[event] = hook


def test_a_broken_page_comes_with_the_messages_it_was_sent_before(tmp_path):
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from nnplay.tools.frames import FrameLog
    page, ws = _Page(), _Page()
    frames = FrameLog(page)
    page.hooks["websocket"](ws)
    rerun = BackMsg()
    rerun.rerun_script.fragment_id, rerun.rerun_script.is_auto_rerun = "95a8ed4420a4", True
    chart = ForwardMsg()
    chart.metadata.delta_path[:] = [0, 1, 0, 1, 1, 0, 0]
    chart.delta.fragment_id = "95a8ed4420a4"
    chart.delta.new_element.markdown.body = "a chart"
    finished = ForwardMsg()
    finished.script_finished = ForwardMsg.ScriptFinishedStatus.FINISHED_EARLY_FOR_RERUN
    finished.metadata.run.script_run_id = "e472b851aaaa"
    finished.metadata.run.fragment_ids.append("95a8ed4420a4")
    ws.hooks["framesent"](rerun.SerializeToString())
    ws.hooks["framereceived"](chart.SerializeToString())
    ws.hooks["framereceived"](finished.SerializeToString())
    ws.hooks["framereceived"](b"\xff\xff not protobuf")
    path = frames.write(str(tmp_path), "student-3-error-1", "Cannot set a node at a delta path")
    heading, _, *lines = open(path).read().splitlines()
    assert heading == "Cannot set a node at a delta path"
    said = [line.split(" ", 1)[1].strip() for line in lines]
    assert said[0] == "out rerun fragment='95a8ed44' auto=True page=''"
    assert said[1] == ("in  delta new_element:markdown path=[0, 1, 0, 1, 1, 0, 0] "
                       "fragment='95a8ed44'")
    assert said[2] == ("in  script_finished FINISHED_EARLY_FOR_RERUN run=e472b851 "
                       "fragments=['95a8ed44']")
    assert said[3] == "in  15 bytes not read (DecodeError)"
