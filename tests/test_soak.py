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
    # A leak grows with the lessons (a thread per tab or per run: 8 or more here). Both
    # counts are taken once the web server's idle pool workers are dropped (they grow with
    # concurrent requests, up to 40, and are not a leak). What is left that does not grow
    # with the lessons: the pools of a process that trained four runs at once after a
    # warm-up of one. So the end may be up to 3 above the start, and less than half the lessons.
    grown = report.threads_end - report.threads_start
    assert grown <= 3 and grown < max(4, report.lessons / 2), "threads grew with the lessons"
