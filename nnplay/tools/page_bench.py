"""Training speed with the Train page open and polling, for `python -m nnplay bench`.

A real `streamlit run app.py` and headless Chromium. The figures are paired on one long
job: windows in which the Train page polls the job alternate with windows in which the tab
shows the Data page, and the ratio is of the two rates. The job's speed on this machine moves
by half from one process to the next (other load, the CPU's clock), so a ratio against a job
measured at another time says little; a paired one holds.
"""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Callable

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


def browser_polled_rate(exp, own_core: bool = False) -> tuple[float, float] | None:
    """(epochs/s with the Train page open in headless Chromium against a real
    `streamlit run app.py`, epochs/s with the same tab on the Data page), on one job in that
    server. `own_core`: Chromium runs on a core of its own, as a student's browser does in the
    hosted demo (else it competes with training for this machine's cores, as on a laptop). The
    job's progress is read from the run store: each flush records the epoch and its time. None
    when Chromium or Playwright is missing, or there is one core only."""
    import shutil
    import tempfile
    from nnplay.store import RunStore
    from nnplay.tools.serve import CHROMIUM_ARGS, start_server
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    cores = sorted(os.sched_getaffinity(0))
    if chromium is None or (own_core and len(cores) < 2):
        return None
    browser_cores = {cores[-1]} if own_core else None
    home = tempfile.mkdtemp(prefix="nnplay_bench_")
    server, url = start_server({"NNPLAY_HOME": home}, cpus=set(cores[:-1]) if own_core else None)
    try:
        # This process, Playwright's driver and Chromium all run on browser_cores; this
        # process only reads the store.
        with _affinity(browser_cores), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            store = RunStore(home)
            try:
                return _train_watch_and_leave(browser.new_page(viewport={"width": 1440, "height": 900}),
                                              url, exp, store)
            finally:
                browser.close()
                store.close()
    finally:
        server.terminate()
        server.wait(10)


def _train_watch_and_leave(page, url: str, exp, store) -> tuple[float, float]:
    """Start `exp` on the Train page, then alternate between the Train and the Data page."""
    page.goto(f"{url}/train?x={exp.to_url()}")
    page.get_by_role("button", name="Train").first.click(timeout=60_000)

    def read():
        runs = store.list_runs()
        if not runs:
            return time.time(), 0
        if not runs[0].active:
            raise RuntimeError(f"the job ended before the rate could be measured: {runs[0].status} {runs[0].message}")
        return runs[0].updated, runs[0].epochs

    def on(page_name):
        def occupy(seconds):
            page.get_by_role("link", name=page_name).first.click()
            time.sleep(seconds)
        return occupy

    deadline = time.time() + 120
    while read()[1] < WARMUP_EPOCHS and time.time() < deadline:
        time.sleep(0.25)
    return paired_rates(read, on("Train"), on("Data"))


@contextmanager
def _affinity(cpus):
    """Run the enclosed code (and the processes it starts) on `cpus`; None: no change."""
    saved = os.sched_getaffinity(0)
    if cpus:
        os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


def cold_start() -> dict | None:
    """A fresh `streamlit run app.py` as a student meets it: seconds from starting the
    server to its answering, to the Train page being drawn in headless Chromium, and from
    pressing Train to the first point plotted (the learning curves' chart appears), and
    the whole. Chromium is started before the server, so its own start-up is not counted.
    None when Chromium or Playwright is missing."""
    import shutil
    import tempfile
    from nnplay.tools.serve import CHROMIUM_ARGS, start_server
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        t0 = time.perf_counter()
        server, url = start_server({"NNPLAY_HOME": tempfile.mkdtemp(prefix="nnplay_cold_")})
        try:
            up = time.perf_counter()
            page.goto(f"{url}/train")
            train = page.get_by_role("button", name="Train").first
            train.wait_for(timeout=120_000)
            drawn = time.perf_counter()
            train.click()
            page.locator(".js-plotly-plot").first.wait_for(timeout=120_000)   # Plotly drew
            point = time.perf_counter()
        finally:
            browser.close()
            server.terminate()
            server.wait(10)
    return {"server_up_s": round(up - t0, 2), "page_drawn_s": round(drawn - t0, 2),
            "train_to_first_point_s": round(point - drawn, 2), "total_s": round(point - t0, 2)}
