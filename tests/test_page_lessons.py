"""The Lessons page: twelve lessons, each set up in one click."""
import pytest

from nnplay.lessons import LESSONS

from conftest import experiment, open_page, texts

pytestmark = pytest.mark.usefixtures("app_store", "jobs")


def test_every_lesson_is_listed_and_sets_up_its_first_variant():
    at = open_page("views/lessons.py")
    assert not at.exception
    assert len(LESSONS) == 12
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


def test_the_keras_lessons_set_up_what_they_teach():
    at = open_page("views/lessons.py")
    lesson_by_id = {lesson.id: lesson for lesson in LESSONS}
    text = texts(at.markdown)
    for name in ("BatchNormalization(momentum=0.9)", "restore_best_weights=True",
                 "ExponentialDecay(0.05", "kernel_initializer"):
        assert name in text
    for lesson_id in ("batch-normalization", "early-stopping", "lr-schedule", "initializers"):
        at.button(key=f"setup_{lesson_id}").click().run()
        assert experiment(at) == lesson_by_id[lesson_id].experiment() and not at.exception
    exp = experiment(at)     # the last one set up: kernels that start at zero
    assert {layer["kernel_initializer"] for layer in exp.model.layers} == {"zeros"}
    at.button(key="setup_early-stopping").click().run()
    # the run trained to the end comes first; the student turns Early stopping on after it
    assert experiment(at).train.early_stopping is None and experiment(at).train.epochs == 200
