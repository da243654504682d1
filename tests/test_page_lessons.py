"""The Lessons page: at least eight lessons, each set up in one click."""
import pytest

from nnplay.lessons import LESSONS

from conftest import experiment, open_page, texts

pytestmark = pytest.mark.usefixtures("jobs", "app_store")


def test_every_lesson_is_listed_and_sets_up_its_first_variant():
    at = open_page("views/lessons.py")
    assert not at.exception
    assert len(LESSONS) >= 8
    titles = [h.value for h in at.subheader]
    assert titles == [f"{i}. {l.title}" for i, l in enumerate(LESSONS, start=1)]
    lesson = LESSONS[0]
    at.button(key=f"setup_{lesson.id}").click().run()
    assert experiment(at) == lesson.experiment()


def test_lessons_read_plainly_and_their_page_buttons_go_there():
    at = open_page("views/lessons.py")
    lesson = LESSONS[0]
    text = texts(at.markdown)
    assert f"**What you should see:** {lesson.claim}" in text  # normal text, not a faint caption
    assert not [c for c in at.caption if lesson.claim in c.value]
    at.button(key=f"go_{lesson.id}_compare").click().run()
    assert "Compare runs" in [t.value for t in at.title]
    assert not at.exception
