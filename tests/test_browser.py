"""End to end in real Chromium (Debian's, driven by Playwright) against `streamlit run app.py`.

Screenshots of failures land in tests/artifacts/.
"""
import os
import re
import shutil

import pytest

from nnplay.spec import Experiment
from nnplay.tools.serve import CHROMIUM_ARGS, start_server

from conftest import ROOT, never, wait_until

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")


def serving(tmp_path_factory, **env):
    """A real `streamlit run app.py` on its own NNPLAY_HOME; yields its URL."""
    try:
        proc, url = start_server({"NNPLAY_HOME": str(tmp_path_factory.mktemp("nnplay_home")),
                                  "TF_CPP_MIN_LOG_LEVEL": "2", **env})
    except RuntimeError as e:
        pytest.fail(str(e))
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serving(tmp_path_factory)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def epoch_shown(pg) -> int:
    text = pg.locator('[data-testid="stProgress"]').first.inner_text()
    match = re.search(r"Epoch ([\d,]+)", text)
    return int(match.group(1).replace(",", "")) if match else 0


def status_shown(pg) -> str:
    return pg.locator('[data-testid="stProgress"]').first.inner_text().rsplit("·", 1)[-1].strip()


def curve_points(pg, index: int = 0) -> int:
    return pg.evaluate(f"""() => {{
        const plots = document.querySelectorAll('.js-plotly-plot');
        const p = plots[{index}];
        return p && p._fullData && p._fullData[0] ? p._fullData[0].x.length : 0; }}""")


def last_validation(pg, axis: str) -> float:
    """The last validation value drawn in the learning-curves figure's chart on `axis`
    ("y": loss, "y2": the main metric)."""
    return pg.evaluate(f"""() => {{
        const p = document.querySelectorAll('.js-plotly-plot')[0];
        const t = p._fullData.find(d => d.name === 'validation' && d.yaxis === '{axis}');
        return t.y[t.y.length - 1]; }}""")


def wait_for(predicate, timeout=60.0):
    """Poll the page (a re-rendering page's exceptions count as not yet)."""
    return wait_until(predicate, timeout, step=0.25)


def click(pg, label: str):
    pg.get_by_role("button", name=label).first.click()


def test_circle_trains_pauses_resumes_and_is_inspected(server, page):
    exp = Experiment()
    exp.train.epochs = 100_000  # long enough to pause, resume and stop by hand
    page.goto(f"{server}/train?x={exp.to_url()}")
    page.get_by_role("button", name="Train").wait_for()
    click(page, "Train")
    assert wait_for(lambda: epoch_shown(page) > 0), "the epoch counter never moved"
    # the bar jumps to each frame's progress: an eased bar animated through every frame
    assert page.evaluate("""() => [...document.querySelectorAll('[data-testid="stProgress"] *')]
        .every(e => getComputedStyle(e).transitionDuration.split(',').every(d => d.trim() === '0s'))""")
    first_epoch, first_points = epoch_shown(page), curve_points(page)
    # the run panel is above the settings, which pressing Train leaves as they were: the
    # charts are in view at once, under the buttons
    assert page.locator(".nnplay-chart.js-plotly-plot").first.bounding_box()["y"] < 800
    assert page.get_by_text("Optimizer").first.is_visible()
    page.evaluate("() => { document.querySelector('.nnplay-chart.js-plotly-plot').dataset.first = 'yes'; }")
    assert wait_for(lambda: epoch_shown(page) > first_epoch + 20 and curve_points(page) > first_points)
    # the new points were drawn into the same chart, not a chart built again for each frame
    assert page.evaluate("() => document.querySelector('.nnplay-chart.js-plotly-plot').dataset.first") == "yes"

    click(page, "Pause")
    assert wait_for(lambda: status_shown(page) == "paused")
    frozen = epoch_shown(page)
    assert never(lambda: epoch_shown(page) != frozen, within=1.5, step=0.1), \
        "training went on while paused"
    assert epoch_shown(page) == frozen

    click(page, "Resume")
    assert wait_for(lambda: epoch_shown(page) > frozen)
    assert wait_for(lambda: last_validation(page, "y2") > 0.9), "validation accuracy stayed low"
    click(page, "Stop")
    assert wait_for(lambda: "Stopped" in page.locator('[data-testid="stAlert"]').first.inner_text())
    # Stop redraws the whole page: its History has the run, stopped
    page.get_by_text("History — 1 run kept").first.click()
    assert wait_for(lambda: page.get_by_text("stopped ·").first.is_visible())

    page.get_by_role("link", name="Inspect").first.click()
    page.get_by_text("Weights").first.wait_for()
    assert wait_for(lambda: page.locator(".js-plotly-plot").count() > 0)


def choose(pg, label: str, option: str):
    """Pick `option` in the Streamlit selectbox labelled `label`."""
    pg.get_by_label(label).first.click()
    pg.get_by_role("option", name=option).first.click()


def test_cnn_preset_on_digits_trains_a_few_epochs(server, page):
    page.goto(f"{server}/model")
    choose(page, "Start from a preset", "Small CNN for 8x8 digits")
    page.get_by_role("button", name="Apply preset").click()
    page.get_by_text("digits").first.wait_for()
    page.get_by_text("Conv2D").first.wait_for()
    page.get_by_role("link", name="Train").first.click()
    page.get_by_role("button", name="Train").first.wait_for()
    click(page, "Train")
    assert wait_for(lambda: epoch_shown(page) >= 3, timeout=120), "the CNN did not train"
    click(page, "Stop")
    assert wait_for(lambda: "Stopped" in page.locator('[data-testid="stAlert"]').first.inner_text()
                    or "Completed" in page.locator('[data-testid="stAlert"]').first.inner_text())
    assert curve_points(page) >= 3


def train_to_the_end(pg, server, exp):
    pg.goto(f"{server}/train?x={exp.to_url()}")
    pg.get_by_role("button", name="Train").first.wait_for()
    click(pg, "Train")
    assert wait_for(lambda: "Completed" in pg.locator('[data-testid="stAlert"]').first.inner_text(),
                    timeout=120)


def test_two_runs_compared_and_a_shared_link_restores_settings(server, browser, page):
    plain = Experiment.from_dict({"data": {"dataset": "spiral", "samples": 200},
                                  "model": {"layers": [{"type": "Dense", "units": 16, "activation": "relu"}]},
                                  "train": {"optimizer": "adam", "learning_rate": 0.01, "epochs": 60}})
    with_dropout = plain.copy()
    with_dropout.model.layers.append({"type": "Dropout", "rate": 0.3})
    train_to_the_end(page, server, plain)
    train_to_the_end(page, server, with_dropout)

    page.get_by_role("link", name="Compare").first.click()
    page.get_by_text("What happened", exact=True).wait_for()
    assert wait_for(lambda: page.locator(".js-plotly-plot").count() >= 2)
    names = page.evaluate("""() => document.querySelectorAll('.js-plotly-plot')[0]._fullData
                                  .map(d => d.name)""")
    assert sum("validation" in n for n in names) >= 2, names
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    page.get_by_text("The settings that differ between these runs").first.wait_for()
    assert page.locator('[data-testid="stDataFrame"]').count() == 2  # what changed, what happened

    # the sidebar's share link opens the same experiment in a fresh browser
    page.get_by_text("Share and export").first.click()
    link = page.locator('[data-testid="stCode"]').first.inner_text().strip()
    assert "x=" in link, link
    other = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    other.goto(link.replace("http://localhost:8501", server))
    other.get_by_role("link", name="Train").first.click()
    epochs = other.get_by_role("spinbutton", name="Epochs", exact=True).first
    epochs.wait_for()  # the settings are open: no job in this browser yet
    assert epochs.input_value() == "60"
    optimizer = other.get_by_role("combobox", name="Optimizer").first
    assert "Adam" in (optimizer.input_value() or "") + optimizer.evaluate(
        "e => e.closest('[data-testid=\"stSelectbox\"]').textContent")
    other.get_by_role("link", name="Model").first.click()
    other.get_by_text("Dropout").first.wait_for()
    other.context.close()


@pytest.fixture(scope="module")
def hosted_server(tmp_path_factory):
    yield from serving(tmp_path_factory, NNPLAY_HOSTED="1", NNPLAY_TEACHER_KEY="chalk")


def run_names_in_compare(pg) -> str:
    pg.get_by_role("link", name="Compare").first.click()
    pg.get_by_role("heading", name="Compare runs").first.wait_for()
    pg.wait_for_load_state("networkidle")
    return pg.locator('[data-testid="stMain"]').inner_text()


def test_a_hosted_class_keeps_each_students_runs_private_and_the_teacher_sees_all(hosted_server, browser):
    exp = Experiment()
    exp.train.epochs = 40
    contexts = [browser.new_context(viewport={"width": 1440, "height": 900}) for _ in range(3)]
    a, b, teacher = (c.new_page() for c in contexts)
    try:
        for pg in (a, b, teacher):
            pg.set_default_timeout(60_000)
        a.goto(f"{hosted_server}/train?x={exp.to_url()}")
        name = a.get_by_role("textbox", name="Your name").first
        name.fill("Ada")
        name.press("Enter")
        # her browser tells the server it has drawn the first point (the class waits for it)
        with a.expect_response(lambda r: "/_nnplay/first-point/" in r.url) as drawn:
            click(a, "Train")
        assert drawn.value.status == 204 and drawn.value.request.method == "POST"
        assert wait_for(lambda: "Completed" in a.locator('[data-testid="stAlert"]').first.inner_text(),
                        timeout=120)
        assert "ws=" in a.url
        a_history = a.get_by_text(re.compile(r"History — 1 run kept")).first
        a_history.wait_for()

        b.goto(f"{hosted_server}/train")            # another student: nothing of Ada's
        b.get_by_role("button", name="Train").first.wait_for()
        assert wait_for(lambda: "No runs yet" in run_names_in_compare(b))

        a.reload()                                   # Ada's bookmark brings her runs back
        assert wait_for(lambda: "circle" in run_names_in_compare(a))

        teacher.goto(f"{hosted_server}/compare?teacher=chalk")
        teacher.get_by_text("Teacher's view").first.wait_for()
        teacher.get_by_role("button", name="Every student's latest run").click()
        assert wait_for(lambda: "Ada · circle" in teacher.locator('[data-testid="stMain"]').inner_text())
    finally:
        for c in contexts:
            c.close()
