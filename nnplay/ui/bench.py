"""Training speed with the Train page open and polling, for `python -m nnplay bench`.

Both figures are paired on one long job: windows in which the Train page polls the job
alternate with windows in which nobody looks at it, and the ratio is of the two rates. The
job's speed on this machine moves by half from one process to the next (other load, the
CPU's clock), so a ratio against a job measured at another time says little; a paired one
holds.
"""
from __future__ import annotations

import time
from typing import Callable

from nnplay.job import MANAGER
from nnplay.ui.serve import APP
from nnplay.ui.train_view import POLL_SECONDS

ROUNDS = 3          # watched/unwatched pairs
WINDOW_S = 4.0      # seconds per window
WARMUP_EPOCHS = 100  # past tracing and compilation


def paired_rates(read: Callable[[], tuple[float, int]], watched: Callable[[float], None],
                 unwatched: Callable[[float], None], rounds: int = ROUNDS,
                 window: float = WINDOW_S) -> tuple[float, float]:
    """Epochs/s while `watched(window)` runs and while `unwatched(window)` runs, alternating.
    `read()` gives (time, epoch) of the job."""
    totals = {watched: [0, 0.0], unwatched: [0, 0.0]}
    for _ in range(rounds):
        for occupy in (watched, unwatched):
            t0, e0 = read()
            occupy(window)
            t1, e1 = read()
            totals[occupy][0] += e1 - e0
            totals[occupy][1] += t1 - t0
    (ew, tw), (eu, tu) = totals[watched], totals[unwatched]
    return ew / tw, eu / tu


def _check_alive(epochs_left: int):
    if epochs_left <= 0:
        raise RuntimeError("the job finished before the rate could be measured: raise the epochs")


def polled_job_rate(exp, dataset) -> tuple[float, float]:
    """(epochs/s with the Train page rerun in this process every POLL_SECONDS, epochs/s
    without), on one job. Streamlit's post-run clean-up runs as in the server, with nnplay's
    guards installed."""
    from streamlit.testing.v1 import AppTest
    from nnplay.ui.session import install_streamlit_guards
    install_streamlit_guards()
    job = MANAGER.submit(exp, dataset=dataset)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["nnplay_experiment"] = exp
    at.session_state["nnplay_job_id"] = job.id
    at.switch_page("views/train.py")
    while job.snapshot().epoch < WARMUP_EPOCHS:
        time.sleep(0.05)

    def read():
        s = job.snapshot()
        _check_alive(s.epochs - s.epoch)
        return time.perf_counter(), s.epoch

    def watched(seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            started = time.perf_counter()
            at.run()
            time.sleep(max(0.0, POLL_SECONDS - (time.perf_counter() - started)))

    try:
        return paired_rates(read, watched, time.sleep)
    finally:
        job.stop()


def browser_polled_rate(exp) -> tuple[float, float] | None:
    """(epochs/s with the Train page open in headless Chromium against a real
    `streamlit run app.py`, epochs/s with the same tab on the Data page), on one job in that
    server. The browser shares this machine's cores, as it would not in class. The job's
    progress is read from the run store: each flush records the epoch and its time. None when
    Chromium or Playwright is missing."""
    import shutil
    import tempfile
    from nnplay.store import RunStore
    from nnplay.ui.serve import CHROMIUM_ARGS, start_server
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    home = tempfile.mkdtemp(prefix="nnplay_bench_")
    server, url = start_server({"NNPLAY_HOME": home})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{url}/train?x={exp.to_url()}")
            page.get_by_role("button", name="Train").first.click(timeout=60_000)
            store = RunStore(home)

            def read():
                runs = store.list_runs()
                if not runs:
                    return time.time(), 0
                _check_alive(exp.train.epochs - runs[0].epochs if runs[0].active else 0)
                return runs[0].updated, runs[0].epochs

            def on(page_name):
                def occupy(seconds):
                    page.get_by_role("link", name=page_name).first.click()
                    time.sleep(seconds)
                return occupy

            deadline = time.time() + 120
            while read()[1] < WARMUP_EPOCHS and time.time() < deadline:
                time.sleep(0.25)
            try:
                return paired_rates(read, on("Train"), on("Data"))
            finally:
                browser.close()
                store.close()
    finally:
        server.terminate()
        server.wait(10)
