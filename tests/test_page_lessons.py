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


def test_lessons_read_plainly_and_their_page_buttons_go_there():
    at = open_page("views/lessons.py")
    lesson = LESSONS[0]
    text = " ".join(m.value for m in at.markdown)
    assert f"**What you should see:** {lesson.claim}" in text  # normal text, not a faint caption
    assert not [c for c in at.caption if lesson.claim in c.value]
    at.button(key=f"go_{lesson.id}_compare").click().run()
    assert "Compare runs" in [t.value for t in at.title]
    assert not at.exception


def test_train_all_variants_keeps_each_run_and_leaves_the_session_s_own_job_alone():
    from nnplay.job import MANAGER
    from nnplay.ui import session
    lesson = LESSONS[0]
    at = open_page("views/lessons.py")
    at.button(key=f"all_{lesson.id}").click().run()
    assert not at.exception and "runs queued" in at.success[0].value
    assert "nnplay_job_id" not in at.session_state          # not followed: Train stays as it was
    names = {f"{lesson.title} · {label}" for label in lesson.labels()}
    runs = [r for r in session.store().list_runs() if r.name in names]
    try:
        assert {r.name for r in runs} == names
        assert all(r.spec == exp for r in runs for label, exp in lesson.variants
                   if r.name.endswith(label))
    finally:
        for run in runs:
            job = MANAGER.get(run.job_id)
            if job is not None:
                job.stop()
                job.wait(60)
