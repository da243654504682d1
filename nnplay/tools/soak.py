"""`python -m nnplay soak`: a class on one hosted server, for as long as a lesson.

It starts `NNPLAY_HOSTED=1 streamlit run app.py` with an empty NNPLAY_HOME and drives
`sessions` students, each a browser context of one headless Chromium (its own Streamlit
session and workspace), through a lesson again and again until `minutes` have passed: open
the link the teacher gave, go to Train, press Train, watch the run to its end, open Compare,
open Inspect, close the tab. The first lesson's Train is pressed by the whole class together,
once every tab has finished opening its pages (`_settled`) and the browsers have gone quiet
(`_Together`). It reports what a host needs to
trust the server with a class:

- jobs started against runs finished (from the run store: nothing may be lost),
- the server's threads and resident memory at the start (after one warm-up run, so
  TensorFlow's own pools are there) and at the end (once the closed tabs' sessions are gone),
  both counted once the web server's idle pool workers are dropped (`_settled_threads`),
- the wait from pressing Train (counted from the press, however long a busy browser takes to
  act on it) to the first point drawn (the first epoch in the progress line and the learning
  curves on the page): the longest and the median,
- the server's part of that wait, from its log: from the server handling the press (the
  Train button's callback) to the frame with the first point built and sent. The soak's
  browsers share the server's cores (below it: `_nice_tree`), which a class's own laptops do
  not, so the first figure is an upper bound and this one is what the server itself takes. Busy browsers also deliver the burst's
  presses over several seconds, not at once, so the burst is also measured as a span: from
  the first of its presses reaching the server to the last of its first points sent (as long
  as any wait would be had every press arrived with the first); and the server alone: from a
  press received to its run's first epoch trained (nnplay.job logs it), before the student's
  browser asks for the frame that shows it; and the browsers' part after it: from the last
  first point the server sent to the last one a tab drew,
- page response (click on a page's link to its title drawn): median and 95th percentile,
- every error seen: exceptions drawn in a page, errors thrown in the browser, timeouts.

Traffic goes to 127.0.0.1 only, and every wait is bounded.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import NamedTuple

from .frames import FrameLog
from .serve import CHROMIUM_ARGS, start_server

LESSON_EPOCHS = 300          # the default circle, shortened: a few seconds alone
RUN_TIMEOUT_S = 300          # a run that has not finished by then counts as an error
PAGE_TIMEOUT_MS = 60_000
SETTLE_S = 20                # after the last tab closes: Streamlit ends its sessions
BROWSER_NICENESS = 19
QUIET_CORES = 0.1            # the browsers are quiet below this CPU use (cores, over QUIET_S)
QUIET_S = 1.0
QUIET_MAX_S = 90             # the class is told to press after this at the latest
ANYIO_IDLE_S = 10            # anyio's WorkerThread.MAX_IDLE_TIME (anyio 4.x)
GRACE_S = 5                  # a closed tab's jobs are reaped after this (120 s by default),
                             # so that the end count shows leaks, not tabs still in their grace


@dataclass
class SoakReport:
    sessions: int
    minutes: float
    lessons: int = 0                  # times a student went through the whole lesson
    jobs_started: int = 0             # Train presses that drew a first point
    runs_saved: int = 0               # runs in the store
    runs_finished: int = 0            # of those, runs with a final status
    runs_by_status: dict = field(default_factory=dict)
    threads_start: int = 0
    threads_end: int = 0
    rss_start_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_peak_mb: float = 0.0
    burst_first_point_max_s: float = 0.0   # all students pressing Train together: the last one
    first_point_max_s: float = 0.0
    first_point_median_s: float = 0.0
    server_burst_first_point_max_s: float = 0.0   # the same waits, the server's part (its log)
    server_burst_span_s: float = 0.0   # the burst's first press received -> its last point sent
    server_burst_ready_max_s: float = 0.0   # press received -> first epoch ready: the server alone
    server_first_point_median_s: float = 0.0
    burst_presses_received_s: float = 0.0   # told to press -> the last press received (browsers)
    burst_quiet_wait_s: float = 0.0   # last tab settled -> browsers quiet (the class told to press)
    burst_drawn_after_sent_s: float = 0.0   # the server's last first point sent -> the last drawn
    page_median_s: float = 0.0
    page_p95_s: float = 0.0
    errors: list = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"{self.sessions} students for {self.minutes:g} min: {self.lessons} lessons, "
            f"{self.jobs_started} runs started, {self.runs_finished}/{self.runs_saved} saved runs finished "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.runs_by_status.items()))})",
            f"server threads {self.threads_start} -> {self.threads_end}; resident memory "
            f"{self.rss_start_mb:.0f} MB -> {self.rss_end_mb:.0f} MB (peak {self.rss_peak_mb:.0f} MB)",
            f"Train -> first point: all {self.sessions} pressing at once, the last "
            f"{self.burst_first_point_max_s:.1f} s; over the soak median "
            f"{self.first_point_median_s:.1f} s, longest {self.first_point_max_s:.1f} s",
            f"the server's part (press received -> first point sent): all at once, the last "
            f"{self.server_burst_first_point_max_s:.1f} s (first press received -> last point "
            f"sent {self.server_burst_span_s:.1f} s); over the soak median "
            f"{self.server_first_point_median_s:.1f} s",
            f"the server alone (press received -> first epoch trained, before the browser asks "
            f"for it): all at once, the last {self.server_burst_ready_max_s:.1f} s",
            f"the browsers' part after it: the last first point drawn "
            f"{self.burst_drawn_after_sent_s:.1f} s after the server sent the last",
            f"the browsers' part before it: the last press received "
            f"{self.burst_presses_received_s:.1f} s after the class was told to press (once "
            f"the browsers had gone quiet, {self.burst_quiet_wait_s:.1f} s after the last tab "
            f"had opened Train)",
            f"page response: median {self.page_median_s:.2f} s, p95 {self.page_p95_s:.2f} s",
            f"errors: {len(self.errors)}" + "".join(f"\n  {e}" for e in self.errors[:20]),
        ]


def _children() -> dict[int, list[int]]:
    """Each process's children, from one scan of /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):   # gone meanwhile
                continue
            children.setdefault(ppid, []).append(int(entry))
    return children


def _descendants(root: int, children: dict[int, list[int]] | None = None) -> set[int]:
    """The processes below `root` (in `children`, else in a fresh scan of /proc)."""
    children = _children() if children is None else children
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _nice_tree(root: int, spare: int):
    """Every thread of the processes below `root`, except `spare` and those below it, at
    BROWSER_NICENESS. The soak's browsers (its processes other than the server) so take only
    the CPU the server leaves, as students' browsers on their own machines would. Done again
    every second, not once at launch: Playwright's driver starts Chromium, not this process;
    Chromium running as root raises its browser process to -8; a new tab's renderer starts at
    its parent's niceness."""
    children = _children()
    for pid in _descendants(root, children) - _descendants(spare, children) - {spare}:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                if os.getpriority(os.PRIO_PROCESS, int(tid)) < BROWSER_NICENESS:
                    os.setpriority(os.PRIO_PROCESS, int(tid), BROWSER_NICENESS)
            except OSError:   # the thread ended meanwhile
                pass


def _cpu_seconds(pids) -> float:
    """User and system CPU seconds the processes `pids` have used (those still running)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:   # gone meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _browsers_quiet(spare: int) -> float:
    """Wait until the soak's browsers (its processes but `spare`, the server, and those below
    it) use less than QUIET_CORES for QUIET_S, at most QUIET_MAX_S; the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < QUIET_MAX_S:
        children = _children()
        browsers = _descendants(os.getpid(), children) - _descendants(spare, children) - {spare}
        used = _cpu_seconds(browsers)
        time.sleep(QUIET_S)
        if _cpu_seconds(browsers) - used < QUIET_CORES * QUIET_S:
            break
    return time.perf_counter() - started


class _Together:
    """A class told "now press Train" together: once every tab has opened its pages
    (`_settled`) and the browsers have gone quiet. A tab "settles" at its first idle moment,
    while sixteen tabs drawing their pages at once keep the cores busy for seconds more
    (measured: both cores, for the last 20 s before a release), which a class that has had
    the page open for a while does not; pressing then would measure the browsers' page
    loads, not the server."""

    def __init__(self, students: int, server_pid: int, seen: "_Class"):
        self.left, self.server_pid, self.seen = students, server_pid, seen
        self.go = asyncio.Event()

    async def wait(self):
        self.left -= 1
        if self.left == 0:
            self.seen.quiet_wait = await asyncio.to_thread(_browsers_quiet, self.server_pid)
            self.go.set()
        await self.go.wait()


def _proc_status(pid: int) -> tuple[int, float]:
    """(threads, resident MB) of process `pid`, from /proc."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            values[key] = rest.split()
    return int(values["Threads"][0]), int(values.get("VmRSS", [0])[0]) / 1024  # none: exiting


def _settled_threads(pid: int, url: str) -> int:
    """The server's threads once its idle web-server workers are gone. Streamlit serves on
    AnyIO, whose thread pool grows with concurrent requests (up to 40) and drops a worker
    idle for ANYIO_IDLE_S only when the next request comes: so wait that long, send the
    request, then count. What is left is what a leak would grow."""
    time.sleep(ANYIO_IDLE_S + 1)
    for _ in range(2):
        with urllib.request.urlopen(url + "/", timeout=30) as response:
            response.read()
    return _proc_status(pid)[0]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


class _Class:
    """What the students saw, gathered while they work."""

    def __init__(self, folder: str | None = None):
        self.first_points: list[float] = []
        self.pages: list[float] = []
        self.errors: list[str] = []
        self.lessons = 0
        self.started = 0
        self.burst: list[float] = []   # first points of the presses made all together
        self.burst_drawn: list[float] = []   # time.time() each of those was drawn
        self.released = 0.0            # time.time() when they were told to press
        self.quiet_wait = 0.0          # seconds the browsers took to go quiet before it
        self._folder = folder

    def folder(self) -> str:
        """Where a broken page's last messages are written (made on the first error, kept)."""
        self._folder = self._folder or tempfile.mkdtemp(prefix="nnplay_soak_errors_")
        return self._folder


async def _open_page(page, name: str, title: str, seen: _Class):
    started = time.perf_counter()
    await page.get_by_role("link", name=name).first.click()
    await page.get_by_role("heading", name=title).first.wait_for()
    seen.pages.append(time.perf_counter() - started)


async def _lesson(browser, url: str, link: str, student: int, seen: _Class,
                  together: _Together | None = None):
    """One student's lesson in a fresh tab: the link, Train, Compare, Inspect, close.
    `together`: wait there with the other students before pressing Train (a class told
    "now press Train" presses it within the same second). When Train was pressed and its
    first point drawn (time.time() both), or None if it was not."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    # where the lesson was when a page broke: Streamlit's frontend errors are races, and
    # when one came says which (before Train, while the class started, or later)
    where = {"step": "opening the lesson", "pressed": None}

    frames = FrameLog(page)

    def broke(error):
        pressed = where["pressed"]
        when = (f"{time.time() - pressed:.1f} s after pressing Train" if pressed is not None
                else where["step"])
        said = f"student {student}: browser error ({when}) {error}"
        kept = frames.write(seen.folder(), f"student-{student}-error-{len(seen.errors) + 1}",
                            f"{said}\n{getattr(error, 'stack', '')}")
        seen.errors.append(f"{said} (the page's last messages: {kept})")
    page.on("pageerror", broke)
    first = None
    try:
        started = time.perf_counter()
        await page.goto(f"{url}/?x={link}")
        await page.get_by_role("heading", name="Data").first.wait_for()
        seen.pages.append(time.perf_counter() - started)
        where["step"] = "opening Train"
        await _open_page(page, "Train", "Train", seen)
        train = page.get_by_role("button", name="Train", exact=True).first
        await train.wait_for()
        if together is not None:
            together, start = None, together
            await _settled(page)
            await start.wait()
            seen.released = seen.released or time.time()
        # the wait counts from the press, including the time a busy browser takes to act on
        # it, to the moment the tab itself found the point drawn (its clock, not when
        # Playwright, as busy as the tabs, got round to telling this process)
        pressed = where["pressed"] = time.time()
        await train.click()
        drawn_ms = await _shown(page, FIRST_POINT_JS)
        if drawn_ms is None:
            seen.errors.append(f"student {student}: no first point within {RUN_TIMEOUT_S} s")
            return
        first = (pressed, drawn_ms / 1000)
        seen.first_points.append(drawn_ms / 1000 - pressed)
        seen.started += 1
        outcome = await _shown(page, OUTCOME_JS, ENDINGS)
        if outcome is None:
            seen.errors.append(f"student {student}: the run did not finish within {RUN_TIMEOUT_S} s")
        elif outcome.startswith("Training failed"):
            seen.errors.append(f"student {student}: {outcome.strip().splitlines()[0]}")
        await _open_page(page, "Compare", "Compare runs", seen)
        await _open_page(page, "Inspect", "Inspect", seen)
        shown = await page.locator('[data-testid="stException"]').count()
        if shown:
            seen.errors.append(f"student {student}: {shown} exception(s) drawn in a page")
        seen.lessons += 1
    except Exception as e:  # a timeout or a page that never drew: counted, the soak goes on
        seen.errors.append(f"student {student}: {type(e).__name__}: {str(e).splitlines()[0]}")
        if together is not None:   # failed before the press: the others must not wait for it
            await together.wait()
    finally:
        await context.close()
    return first


async def _settled(page):
    """Until the tab has finished opening its pages (plotly.js loaded and compiled, then an
    idle moment of its main thread): a class told "now press Train" has had the page open
    for a while, and a press that waits behind its own tab's page load says nothing about
    the server. Bounded: a tab that never settles presses anyway."""
    try:
        await page.wait_for_function("() => window.Plotly !== undefined", timeout=PAGE_TIMEOUT_MS)
        await page.evaluate("() => new Promise(done => requestIdleCallback(done, {timeout: 10000}))")
    except Exception:   # noqa: BLE001 - a page that did not settle is measured as it is
        pass


# What the students wait for, checked in their own tabs (a check every WATCH_MS there costs
# microseconds; asking through Playwright four times a second cost each tab ~3% of a core,
# a class's 16 tabs ~0.4 of the 2 cores, overhead a student's browser does not have).
WATCH_MS = 100
# the run's first epoch in the progress line and its learning curves drawn (by Plotly): when
# (Date.now(), the machine's clock), else null
FIRST_POINT_JS = """() => {
    const bar = document.querySelector('[data-testid="stProgress"]');
    const epoch = bar && /Epoch ([\\d,]+)/.exec(bar.textContent);
    const drawn = !!epoch && Number(epoch[1].replace(/,/g, "")) > 0
        && document.querySelector(".js-plotly-plot") !== null;
    return drawn ? Date.now() : null;
}"""
# the Train page's outcome (one of its alerts), as text: a failed run is reported with its reason
OUTCOME_JS = """(endings) => {
    for (const alert of document.querySelectorAll('[data-testid="stAlert"]')) {
        if (endings.some(word => alert.textContent.includes(word))) return alert.textContent;
    }
    return null;
}"""
ENDINGS = ("Completed", "Stopped", "Early stopping", "Training failed")


async def _shown(page, predicate: str, arg=None):
    """What `predicate` returns once it is truthy in the page; None if it is not within
    RUN_TIMEOUT_S."""
    try:
        handle = await page.wait_for_function(predicate, arg=arg, polling=WATCH_MS,
                                              timeout=RUN_TIMEOUT_S * 1000)
    except Exception:   # noqa: BLE001 - the timeout, or a page that went away: said by the caller
        return None
    return await handle.json_value()


async def _student(browser, url: str, link: str, student: int, deadline: float, seen: _Class,
                   together: _Together):
    first = await _lesson(browser, url, link, student, seen, together)  # all pressing at once
    if first is not None:
        pressed, drawn = first
        seen.burst.append(drawn - pressed)
        seen.burst_drawn.append(drawn)
    while time.perf_counter() < deadline:
        await _lesson(browser, url, link, student, seen)


async def _class(url: str, link: str, sessions: int, seconds: float, chromium: str,
                 warmed, server_pid: int) -> _Class:
    from playwright.async_api import async_playwright
    seen = _Class()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            await _lesson(browser, url, link, 0, seen)   # warm-up: TensorFlow's pools exist
            await asyncio.to_thread(warmed)   # waits out the web server's idle workers
            warm = _Class(seen._folder)   # one folder of broken pages per soak
            deadline = time.perf_counter() + seconds
            together = _Together(sessions, server_pid, warm)
            await asyncio.gather(*(_student(browser, url, link, n + 1, deadline, warm, together)
                                   for n in range(sessions)))
            warm.errors = seen.errors + warm.errors
            warm.started += seen.started   # the warm-up run counts, its cold first point does not
            return warm
        finally:
            await browser.close()


def lesson_link() -> str:
    """The link a teacher hands out: TensorFlow Playground's circle, LESSON_EPOCHS epochs."""
    from nnplay.spec import Experiment
    exp = Experiment()
    exp.train.epochs = LESSON_EPOCHS
    return exp.to_url()


def run_soak(sessions: int = 16, minutes: float = 10.0, env: dict | None = None) -> SoakReport:
    """Drive `sessions` students for `minutes` against a fresh hosted server; the report."""
    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("the soak needs Debian's chromium (apt-get install -y chromium)")
    from nnplay.store import RunStore
    home = tempfile.mkdtemp(prefix="nnplay_soak_")
    report = SoakReport(sessions, minutes)
    log = open(os.path.join(home, "server.log"), "w+")   # its last lines, if it dies
    server, url = start_server({"NNPLAY_HOME": home, "NNPLAY_HOSTED": "1",
                                "NNPLAY_GRACE_SECONDS": str(GRACE_S),
                                "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}, log=log)
    peak = [0.0]

    def warmed():
        report.threads_start = _settled_threads(server.pid, url)
        report.rss_start_mb = _proc_status(server.pid)[1]

    async def watch(stop: asyncio.Event):
        """The server's peak memory; the browsers kept below the server (_nice_tree)."""
        while not stop.is_set() and server.poll() is None:   # a dead server: said below
            peak[0] = max(peak[0], _proc_status(server.pid)[1])
            _nice_tree(os.getpid(), spare=server.pid)
            await asyncio.sleep(1.0)

    async def soak():
        stop = asyncio.Event()
        watcher = asyncio.create_task(watch(stop))
        try:
            return await _class(url, lesson_link(), sessions, minutes * 60, chromium, warmed,
                                server.pid)
        finally:
            stop.set()
            await watcher

    try:
        seen = asyncio.run(soak())
        time.sleep(SETTLE_S)
        if server.poll() is None:
            report.threads_end = _settled_threads(server.pid, url)
            report.rss_end_mb = _proc_status(server.pid)[1]
        else:
            log.seek(0)
            last = [line.rstrip() for line in log.read().splitlines()[-8:]]
            seen.errors.append(f"the server exited during the soak (exit code "
                               f"{server.returncode}); its last lines:\n" + "\n".join(last))
        report.rss_peak_mb = peak[0]
    finally:
        server.terminate()
        server.wait(20)
        log.close()
    with open(os.path.join(home, "server.log")) as lines:
        points = [p for p in server_first_points(lines)
                  if p.pressed >= seen.released - 0.5]   # not the warm-up (log: ms, same clock)
    burst = sorted(points)[:sessions]   # each student's first press
    store = RunStore(home)
    runs = store.list_runs()
    store.close()
    shutil.rmtree(home, ignore_errors=True)
    report.lessons, report.jobs_started = seen.lessons, seen.started
    report.runs_saved = len(runs)
    report.runs_finished = sum(not r.active for r in runs)
    for r in runs:
        report.runs_by_status[r.status] = report.runs_by_status.get(r.status, 0) + 1
    report.burst_first_point_max_s = max(seen.burst, default=0.0)
    report.first_point_max_s = max(seen.first_points, default=0.0)
    report.first_point_median_s = statistics.median(seen.first_points) if seen.first_points else 0.0
    if burst:
        report.server_burst_first_point_max_s = max(p.sent - p.pressed for p in burst)
        report.server_burst_span_s = max(p.sent for p in burst) - burst[0].pressed
        report.server_burst_ready_max_s = max((p.ready - p.pressed for p in burst if p.ready),
                                              default=0.0)
        report.server_first_point_median_s = statistics.median(p.sent - p.pressed
                                                               for p in points)
        report.burst_presses_received_s = max(p.pressed for p in burst) - seen.released
        report.burst_drawn_after_sent_s = max(seen.burst_drawn, default=0.0) - max(
            p.sent for p in burst)
    report.burst_quiet_wait_s = seen.quiet_wait
    report.page_median_s = statistics.median(seen.pages) if seen.pages else 0.0
    report.page_p95_s = _percentile(seen.pages, 0.95)
    report.errors = seen.errors
    return report


FIRST_POINT_LINE = re.compile(r"^(\S+ \S+) \S+: first point of job (\S+) sent ([\d.]+) s after "
                              r"Train was pressed")
READY_LINE = re.compile(r"^(\S+ \S+) \S+: first epoch of job (\S+) ready")


class FirstPoint(NamedTuple):
    """One run's first point, time.time() all: Train pressed (the server handling it), the
    first epoch ready (trained and in the job's snapshot; None if the log does not say), the
    frame with it sent (when the student's browser next asked for one)."""
    pressed: float
    ready: float | None
    sent: float


def _logged_at(match) -> float:
    return datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()


def server_first_points(lines) -> list[FirstPoint]:
    """Each run's first point, from the server's log (config.LOG_FORMAT; one line per run from
    nnplay.ui.train_view when its frame is sent, one from nnplay.job when it is ready)."""
    ready, sent = {}, []
    for line in lines:
        if match := READY_LINE.search(line):
            ready.setdefault(match.group(2), _logged_at(match))
        elif match := FIRST_POINT_LINE.search(line):
            sent.append((match.group(2), _logged_at(match), float(match.group(3))))
    return [FirstPoint(at - wait, ready.get(job), at) for job, at, wait in sent]


def report_dict(report: SoakReport) -> dict:
    return asdict(report)
