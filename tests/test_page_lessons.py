"""The Lessons page: at least eight lessons, each set up in one click."""
import pytest

from nnplay.lessons import LESSONS

from conftest import experiment, open_page, texts

pytestmark = pytest.mark.usefixtures("app_store", "jobs")


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


def test_train_all_variants_queues_them_as_this_sessions_jobs_and_keeps_each_run(jobs, app_store):
    jobs.max_running = 1             # one trains meanwhile; the fixture stops them all
    lesson = LESSONS[0]
    at = open_page("views/lessons.py")
    at.button(key=f"all_{lesson.id}").click().run()
    assert f"{len(lesson.variants)} runs queued" in texts(at.success) and not at.exception
    queued = list(jobs.jobs.values())
    assert [job.exp for job in queued] == [exp for _, exp in lesson.variants]
    assert sorted(run.name for run in app_store.list_runs()) == sorted(
        f"{lesson.title} · {label}" for label in lesson.labels())
    assert experiment(at) == lesson.experiment()
    assert "nnplay_job_id" not in at.session_state      # the session follows none of them
