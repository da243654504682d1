"""Hosted mode through AppTest: each browser's workspace (?ws=) lists, opens, renames and
deletes only its own runs; another workspace's ?run= opens read-only with a copy button; the
teacher link (?teacher=KEY) lays the whole class's runs over each other; the laptop lists all."""
import json
import secrets

import pytest

from nnplay.spec import Experiment
from nnplay.store import attach

from conftest import chart_data, charts, held_at, keep_run as keep_a_run, make_exp, \
    open_page as open_app, stop_jobs, trace_values, wait_until

A, B, T = (secrets.token_urlsafe(24) for _ in range(3))

pytestmark = pytest.mark.usefixtures("jobs")


@pytest.fixture
def store(app_store, monkeypatch):
    """This test's run store, on a hosted server with a teacher key."""
    monkeypatch.setenv("NNPLAY_HOSTED", "1")
    monkeypatch.setenv("NNPLAY_TEACHER_KEY", "chalk-and-talk")
    return app_store


def keep_run(store, workspace, name, student=None):
    run_id = keep_a_run(store, Experiment(), name, workspace=workspace)
    if student:
        store.touch_workspace(workspace, name=student)
    return run_id


def open_page(page, **query):
    """A page opened by an address with `query` (?ws=, ?run=, ...), as a browser would."""
    return open_app(page, query=query)


def history_title(at):
    return next(e.label for e in at.expander if e.label.startswith("History"))


def compare_options(at):
    return at.multiselect(key="compare_runs").options


def test_a_student_sees_only_the_runs_of_their_workspace(store):
    mine = keep_run(store, A, "a's run")
    train_a, train_b = open_page("views/train.py", ws=A), open_page("views/train.py", ws=B)
    assert history_title(train_a) == "History — 1 run kept"
    assert history_title(train_b) == "History — 0 runs kept"
    assert not [b for b in train_b.button if b.key in (f"delete_{mine}", f"open_{mine}")]
    assert any(b.key == f"delete_{mine}" for b in train_a.button)
    assert len(compare_options(open_page("views/compare.py", ws=A))) == 1
    assert "No runs yet" in open_page("views/compare.py", ws=B).info[0].value
    inspect_a = open_page("views/inspect.py", ws=A)
    assert "a's run — completed, 2 epochs" in inspect_a.selectbox(key="inspect_run").options
    assert "no model to look inside" in open_page("views/inspect.py", ws=B).info[0].value
    for at in (train_a, train_b, inspect_a):
        assert not at.exception
    assert store.list_runs(A)[0].id == mine         # nothing was deleted on the way


def test_a_reload_keeps_the_workspace_and_a_fresh_browser_gets_a_new_one(store):
    keep_run(store, A, "a's run")
    first = open_page("views/compare.py")
    token = first.query_params["ws"]
    assert len(token) == 32 and token != A
    assert "No runs yet" in first.info[0].value
    keep_run(store, token, "made here")
    again = open_page("views/compare.py", ws=token)            # the bookmark
    assert [label.split(" · ")[0] for label in compare_options(again)] == ["made here"]
    share = " ".join(c.value for c in again.sidebar.code)      # the share link
    assert "?x=" in share and "ws=" not in share and token not in share


def test_a_malformed_token_gets_a_fresh_workspace_and_says_so(store):
    keep_run(store, A, "a's run")
    at = open_page("views/compare.py", ws=A[:-1] + "!")
    assert any("not valid" in w.value for w in at.warning)
    assert at.query_params["ws"] != A and "No runs yet" in at.info[0].value


def test_another_workspaces_run_opens_read_only_and_can_be_copied(store):
    theirs = keep_run(store, A, "a's dropout run")
    at = open_page("views/train.py", ws=B, run=theirs)
    assert any("another workspace" in i.value for i in at.info)
    assert history_title(at) == "History — 0 runs kept"        # never listed, so never deleted
    assert not [b for b in at.button if b.key in (f"delete_{theirs}", f"rename_{theirs}")]
    next(b for b in at.button if b.key == "copy_run").click().run()
    assert not at.exception
    assert any("now in your workspace" in s.value for s in at.success)
    assert history_title(at) == "History — 1 run kept"
    (copy,) = store.list_runs(B)
    assert copy.id != theirs and copy.name == "a's dropout run"
    assert store.history(copy.id) == store.history(theirs)
    assert [r.id for r in store.list_runs(A)] == [theirs]       # A's run is untouched


def test_a_job_of_another_workspace_does_not_reattach(store, jobs):
    # the app's own manager holds the job: the page could attach it, and must not
    job = jobs.submit(make_exp(train={"epochs": 100_000}), workspace=A)
    try:
        run_id = attach(job, store)                 # as Race and Lessons keep their jobs
        assert [r.id for r in store.list_runs(A)] == [run_id] and not store.list_runs(B)
        assert jobs.attach(job.id, "browser-b", workspace=B) is None
        assert jobs.attach(job.id, "browser-a", workspace=A) is job
        at = open_page("views/train.py", ws=B, job=job.id)
        assert "nnplay_job_id" not in at.session_state and "job" not in at.query_params
        assert open_page("views/train.py", ws=A, job=job.id).session_state["nnplay_job_id"] == job.id
    finally:
        stop_jobs([job])


def test_the_teacher_link_lays_the_class_over_each_other_read_only(store):
    keep_run(store, A, "dropout 0.5", student="Ada")
    keep_run(store, B, "dropout 0.5", student="Bob")
    at = open_page("views/compare.py", ws=T, teacher="chalk-and-talk")
    assert [label.split(" · completed")[0] for label in compare_options(at)] == \
        ["Ada · dropout 0.5", "Bob · dropout 0.5"]
    assert at.multiselect(key="compare_runs").value == []      # others' runs are not preselected
    at.multiselect(key="compare_runs").set_value([r.id for r in store.list_runs()]).run()
    assert list(at.dataframe[-1].value["run"]) == ["Ada · dropout 0.5", "Bob · dropout 0.5"]
    assert not [b for b in at.button if b.key and b.key.startswith(("delete_", "rename_"))]
    share = " ".join(c.value for c in at.sidebar.code)
    assert "chalk-and-talk" not in share and "teacher" not in share and T not in share
    assert not at.exception


def test_the_teacher_lays_every_students_latest_run_over_each_other_in_one_click(store):
    keep_run(store, A, "first try", student="Ada")
    newest_a = keep_run(store, A, "with dropout", student="Ada")
    newest_b = keep_run(store, B, "with dropout", student="Bob")
    at = open_page("views/compare.py", ws=T, teacher="chalk-and-talk")
    at.button(key="compare_class_latest").click().run()
    assert sorted(at.multiselect(key="compare_runs").value) == sorted([newest_a, newest_b])
    assert list(at.dataframe[-1].value["run"]) == ["Ada · with dropout", "Bob · with dropout"]
    assert not at.exception


def test_a_wrong_teacher_key_shows_nothing_of_others(store):
    keep_run(store, A, "a's run", student="Ada")
    at = open_page("views/compare.py", ws=T, teacher="guess")
    assert any("key is not the one the host set" in w.value for w in at.warning)
    assert "No runs yet" in at.info[-1].value


def test_the_display_name_is_kept_with_the_workspace(store):
    at = open_page("views/data.py", ws=A)
    at.sidebar.text_input(key="ws_display_name").set_value("Ada").run()
    assert store.workspace_name(A) == "Ada"
    assert open_page("views/data.py", ws=A).sidebar.text_input(key="ws_display_name").value == "Ada"


def test_pruned_runs_are_announced_once(store, monkeypatch):
    monkeypatch.setenv("NNPLAY_MAX_RUNS_PER_WORKSPACE", "1")
    keep_run(store, A, "oldest")
    keep_run(store, A, "newest")
    at = open_page("views/compare.py", ws=A)
    assert [t.value for t in at.toast] == ["Your oldest run “oldest” was removed: a workspace "
                                           "keeps 1 runs."]
    assert not open_page("views/compare.py", ws=A).toast


def test_the_laptop_lists_every_run_as_before(store, monkeypatch):
    monkeypatch.delenv("NNPLAY_HOSTED")
    for workspace, name in ((A, "a's"), (B, "b's"), ("", "laptop")):
        keep_run(store, workspace, name)
    at = open_page("views/compare.py")
    assert len(compare_options(at)) == 3 and len(at.multiselect(key="compare_runs").value) == 3
    assert "ws" not in at.query_params and not at.text_input
    assert history_title(open_page("views/train.py")) == "History — 3 runs kept"


def test_a_bad_host_setting_is_said_in_the_page(store, monkeypatch):
    monkeypatch.setenv("NNPLAY_MAX_RUNS_PER_WORKSPACE", "-1")
    at = open_page("views/compare.py", ws=A)
    assert "nnplay cannot start" in at.error[0].value and "max_runs_per_workspace" in at.error[0].value
    assert not at.exception


def _drawing_run(jobs, drawn: bool = True):
    """The Train page drawing a hosted run that has sent its first point, and whose browser
    has said it drew it (`drawn`): (page, job)."""
    exp = Experiment()
    exp.train.epochs = 700     # under NNPLAY_XLA_MIN_BATCHES: no "compiling" line meanwhile
    at = open_app("views/train.py", exp, query={"ws": A})
    next(b for b in at.button if b.label == "Train").click().run()
    job = jobs.get(at.session_state["nnplay_job_id"])
    assert wait_until(lambda: job.snapshot().epoch >= 1)
    at.run()   # the frame with the first point
    if drawn:
        job.first_point_drawn()
        at.run()
    assert not at.exception
    return at, job


def _posted(routes, path: str) -> int:
    """The status a POST to `path` gets from the app's `routes`, as a browser's would."""
    import asyncio

    from starlette.routing import Router
    sent = []
    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "headers": [], "scheme": "http",
             "server": ("testserver", 80), "client": ("testclient", 1), "http_version": "1.1"}

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)
    asyncio.run(Router(routes=routes)(scope, receive, send))
    return sent[0]["status"]


def test_a_train_page_draws_no_charts_until_the_first_epoch_is_trained(store, jobs, monkeypatch):
    """"Training the first epoch…" alone: the first charts a hosted page draws, and keeps
    while its class starts, are those with the first point."""
    slow_first_epoch, gate = held_at("_train_loop", "running")
    monkeypatch.setattr(jobs, "job_factory", slow_first_epoch)
    exp = Experiment()
    exp.train.epochs = 700
    at = open_app("views/train.py", exp, query={"ws": A})
    next(b for b in at.button if b.label == "Train").click().run()
    job = jobs.get(at.session_state["nnplay_job_id"])
    try:
        assert wait_until(lambda: job.progress() == ("running", 0))
        at.run()
        assert "Training the first epoch" in _progress_line(at) and not charts(at)
        gate.set()
        assert wait_until(lambda: job.progress()[1] >= 1)
        at.run()
        first = json.loads(charts(at)[0])
        assert any(trace_values(trace["x"]) for trace in first["data"]), first["data"]
    finally:
        gate.set()
        stop_jobs([job])


def test_a_hosted_train_page_has_the_browser_say_when_it_has_drawn_the_first_point(
        store, jobs):
    """A class's server holds the other runs back until each student's browser has drawn its
    first point: the curves with it carry where to say so, and stay as they are (a busy
    browser is not sent new charts to draw) until the browser has."""
    from nnplay.ui import train_view
    at, job = _drawing_run(jobs, drawn=False)
    try:
        first = chart_data(at)
        report = first[0].get("report")
        assert report == f"_nnplay/first-point/{job.id}" and not job.first_point_seen
        epoch = job.snapshot().epoch
        assert wait_until(lambda: job.snapshot().epoch > epoch + 2)
        at.run()
        assert chart_data(at)[0] == first[0]   # (the boundary comes with its first grid)
        routes = train_view.first_point_routes()
        assert _posted(routes, "/_nnplay/first-point/0123456789ab") == 204   # no such job
        assert _posted(routes, "/_nnplay/first-point/..%2Fx") == 204
        assert not job.first_point_seen
        assert _posted(routes, f"/class/{report}") == 204   # behind a baseUrlPath
        assert job.first_point_seen
        at.run()
        assert "report" not in chart_data(at)[0] and charts(at)[0] != first[0]["figure"]
    finally:
        stop_jobs([job])


def _progress_line(at) -> str:
    return at.get("progress")[0].proto.text


def test_a_busy_class_server_refreshes_the_charts_less_often_and_says_so(store, jobs,
                                                                         monkeypatch):
    from nnplay import slots
    monkeypatch.setattr(slots, "FRAMES_PER_S", 1)   # one live run is already a busy server
    at, job = _drawing_run(jobs)
    try:
        line = _progress_line(at)
        assert "many runs share this server: the charts refresh every 1.0 s" in line, line
    finally:
        stop_jobs([job])


def test_a_run_drawing_while_other_students_runs_start_holds_its_charts_and_says_why(
        store, jobs, monkeypatch):
    """A class's burst: a student who has seen the first point keeps the charts drawn then
    while the others wait for theirs (the run goes on, as the progress line says), and the
    charts catch up at the first frame after."""
    starting = [True]
    monkeypatch.setattr(jobs, "first_points_pending", lambda job, own=False: starting[0])
    at, job = _drawing_run(jobs)
    try:
        held = charts(at)
        epoch = job.snapshot().epoch
        assert wait_until(lambda: job.snapshot().epoch > epoch + 2)
        at.run()
        line = _progress_line(at)
        assert charts(at) == held
        assert f"Epoch {epoch:,} /" not in line and "other students' runs are starting: this " \
            "one crawls and the charts catch up once theirs show their first points" in line, line
        starting[0] = False
        at.run()
        assert charts(at)[0] != held[0] and "other students" not in _progress_line(at)
    finally:
        stop_jobs([job])
