"""Training speed with the Train page open and polling, for `python -m nnplay bench`.

The Train page is rendered through Streamlit's AppTest in this process every POLL_SECONDS
while a job trains, as a browser tab would make the server do; Streamlit's post-run
clean-up runs as it would in the server, with nnplay's guards installed.
"""
from __future__ import annotations

import time
from pathlib import Path

from nnplay.job import MANAGER
from nnplay.ui.train_view import POLL_SECONDS

APP = Path(__file__).resolve().parent.parent.parent / "app.py"


def polled_job_rate(exp, dataset, min_epoch: int = 100) -> tuple[float, int]:
    """Steady epochs/s of a job while the Train page polls it; and how many renders ran."""
    from streamlit.testing.v1 import AppTest
    from nnplay.ui.session import install_streamlit_guards
    install_streamlit_guards()
    job = MANAGER.submit(exp, dataset=dataset)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["nnplay_experiment"] = exp
    at.session_state["nnplay_job_id"] = job.id
    at.switch_page("views/train.py")
    marks, renders = [], 0
    while job.alive:
        started = time.perf_counter()
        at.run()
        renders += 1
        s = job.snapshot()
        if s.epoch >= min_epoch and not s.finished:
            marks.append((time.perf_counter(), s.epoch))
        time.sleep(max(0.0, POLL_SECONDS - (time.perf_counter() - started)))
    if len(marks) < 2:
        raise RuntimeError("the job finished before the rate could be measured: raise the epochs")
    (ta, ea), (tb, eb) = marks[0], marks[-1]
    return (eb - ea) / (tb - ta), renders
