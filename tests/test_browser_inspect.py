"""Inspect in real Chromium: a digit drawn on the canvas gets a prediction; the network view
keeps up with a live run; a click on the plane asks about that point."""
import re
import time

import pytest

from nnplay.spec import Experiment

from test_browser import browser, page, serving, wait_for  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serving(tmp_path_factory)


def train(pg, server, exp, wait_text=None):
    pg.goto(f"{server}/train?x={exp.to_url()}")
    pg.get_by_role("button", name="Train").wait_for()
    pg.get_by_role("button", name="Train").first.click()
    if wait_text:
        pg.get_by_text(wait_text).first.wait_for(timeout=180_000)


def open_tab(pg, name):
    pg.get_by_role("link", name="Inspect").first.click()
    pg.get_by_role("tab", name=name).click()


def captions(pg) -> list[str]:
    return pg.locator('[data-testid="stCaptionContainer"]').all_inner_texts()


def test_a_drawn_digit_gets_a_prediction(server, page):
    exp = Experiment.from_dict({
        "data": {"dataset": "digits"},
        "model": {"layers": [{"type": "Flatten"}, {"type": "Dense", "units": 32, "activation": "relu"}]},
        "train": {"epochs": 30, "optimizer": "adam", "learning_rate": 0.01}})
    train(page, server, exp, wait_text="Completed")
    open_tab(page, "Ask the model")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    page.mouse.move(x0 + 60, y0 + 50)               # a 7: a bar, then a stroke down-left
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(x0 + 60 + i * 13, y0 + 50, steps=2)
    for i in range(1, 16):
        page.mouse.move(x0 + 190 - i * 6, y0 + 50 + i * 12, steps=2)
    page.mouse.up()
    page.get_by_text("As the model sees it (8×8)").first.wait_for()
    def said():
        return [c for c in captions(page) if "The model says" in c]
    assert wait_for(lambda: len(said()) == 2), said()   # the example's answer and the drawing's
    said = said()
    assert re.search(r"The model says \d with probability", said[-1])


def network_epoch(pg) -> int:
    text = next((c for c in captions(pg) if "Each square is one neuron" in c), "")
    match = re.match(r"Epoch ([\d,]+)", text)
    return int(match.group(1).replace(",", "")) if match else -1


def test_the_network_view_keeps_up_and_a_click_on_the_plane_asks_there(server, page):
    exp = Experiment()
    exp.train.epochs = 100_000
    train(page, server, exp)
    open_tab(page, "Network")
    assert wait_for(lambda: network_epoch(page) > 0, timeout=120)
    first = network_epoch(page)
    assert wait_for(lambda: network_epoch(page) > first, timeout=60), "the network view froze"

    page.get_by_role("tab", name="Ask the model").click()
    plane = page.locator('[data-testid="stPlotlyChart"]').filter(has_text="Click anywhere").first

    def slider_values():
        return [float(s.inner_text().split("\n")[2])
                for s in page.locator('[data-testid="stSlider"]').all()]

    def click_upper_right() -> bool:
        """Click the plane's upper right (the live run redraws the page every second: a
        click that lands while the chart is replaced is tried again)."""
        try:
            plane.scroll_into_view_if_needed(timeout=5000)
            box = plane.locator(".nsewdrag").first.bounding_box(timeout=5000)
            page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.2)
            return wait_for(lambda: all(v > 2 for v in slider_values()), timeout=5)
        except Exception:
            return False
    assert wait_for(lambda: len(slider_values()) == 2)
    assert wait_for(click_upper_right, timeout=60), \
        f"a click on the plane did not move the sliders there: {slider_values()}"
