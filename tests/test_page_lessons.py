"""The Lessons page: at least eight lessons, each set up in one click."""
from nnplay.lessons import LESSONS

from conftest import open_page


def test_every_lesson_is_listed_and_sets_up_its_first_variant():
    at = open_page("views/lessons.py")
    assert not at.exception
    assert len(LESSONS) >= 8
    titles = [h.value for h in at.subheader]
    assert titles == [f"{i}. {l.title}" for i, l in enumerate(LESSONS, start=1)]
    lesson = LESSONS[0]
    at.button(key=f"setup_{lesson.id}").click().run()
    assert at.session_state["nnplay_experiment"] == lesson.experiment()
