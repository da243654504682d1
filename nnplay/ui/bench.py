"""Training speed with the Train page open and polling, for `python -m nnplay bench`.

The Train page is rendered through Streamlit's AppTest in this process every POLL_SECONDS
while a job trains, as a browser tab would make the server do; Streamlit's post-run
clean-up runs as it would in the server, with nnplay's guards installed.
"""
from __future__ import annotations

import time

from nnplay.job import MANAGER
from nnplay.ui.serve import APP
from nnplay.ui.train_view import POLL_SECONDS



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


def browser_polled_rate(exp, seconds: float = 8.0) -> float | None:
    """Epochs/s of a job in a real `streamlit run app.py` server while headless Chromium shows
    its Train page (the fragment polling as in class). None when Chromium or Playwright is
    missing. The job's epoch is read from the page's progress line."""
    import re
    import shutil
    import tempfile
    from nnplay.ui.serve import CHROMIUM_ARGS, start_server
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if chromium is None:
        return None
    server, url = start_server({"NNPLAY_HOME": tempfile.mkdtemp(prefix="nnplay_bench_")})
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{url}/train?x={exp.to_url()}")
            page.get_by_role("button", name="Train").first.click(timeout=60_000)

            def epoch() -> int:
                text = page.locator('[data-testid="stProgress"]').first.inner_text(timeout=5_000)
                match = re.search(r"Epoch ([\d,]+)", text)
                return int(match.group(1).replace(",", "")) if match else 0

            deadline = time.time() + 120
            while epoch() < 100 and time.time() < deadline:
                time.sleep(0.25)
            t0, e0 = time.perf_counter(), epoch()
            time.sleep(seconds)
            t1, e1 = time.perf_counter(), epoch()
            browser.close()
        return (e1 - e0) / (t1 - t0)
    finally:
        server.terminate()
        server.wait(10)
