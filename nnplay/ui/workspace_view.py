"""Workspaces in the page (hosted mode): the student's display name in the sidebar, messages
about the workspace and the teacher link, the runs the cap removed, and a run of another
workspace opened by a `?run=` link: shown read-only, with "Copy into my workspace"."""
from __future__ import annotations

import streamlit as st

from nnplay import config, plots
from nnplay.ui import session
from nnplay.ui.chart import chart

NAME_KEY = "ws_display_name"
COPIED_KEY = "nnplay_copied"       # what became of "Copy into my workspace", said once


def header():
    """Before the page: messages, the display name, a foreign run. Nothing on the laptop."""
    if not config.hosted():
        return
    try:
        config.workspace_idle_hours(), config.grace_seconds()   # limits: checked in main.py
    except ValueError as e:      # the host's mistake: say it here, not as a traceback later
        st.error(f"This server's settings need fixing by its host: {e}.")
        st.stop()
    for message in session.workspace_messages():
        st.warning(message)
    kind, message = st.session_state.pop(COPIED_KEY, (None, None))
    if message:
        getattr(st, kind)(message)
    notices()
    _display_name()
    _foreign_run()


def notices():
    """Runs the cap removed, said once (after the page too: pressing Train may prune)."""
    if config.hosted():
        notice = session.store().pop_notice(session.workspace())
        if notice:
            st.toast(notice, icon=":material/delete_sweep:")


def _display_name():
    store, token = session.store(), session.workspace()
    if NAME_KEY not in st.session_state:
        st.session_state[NAME_KEY] = store.workspace_name(token)
    with st.sidebar:
        st.text_input("Your name", key=NAME_KEY, max_chars=40, placeholder="first name or nickname",
                      on_change=lambda: store.touch_workspace(token, st.session_state[NAME_KEY]),
                      help="Shown to your teacher next to your runs. Your runs are private to "
                           "this browser's workspace: bookmark the page to come back to them.")


def _foreign_run():
    run_id = st.session_state.get(session.FOREIGN_KEY)
    if not run_id:
        return
    store = session.store()
    try:
        run = store.get_run(run_id)
    except KeyError:                # deleted by its owner since
        st.session_state.pop(session.FOREIGN_KEY)
        return
    with st.container(border=True, key="foreign_run"):
        st.info(f"“{run.name}” is a run of another workspace: you see it read-only (its "
                "experiment is now yours to change and train). Copy it to keep it with your runs.",
                icon=":material/visibility:")
        history = store.history(run.id)
        if history["epoch"]:
            metric = "accuracy" if "accuracy" in history else "loss"
            chart(plots.runs_overlay(
                [{"name": run.name, "history": history, "best_epoch": run.best_epoch}], metric,
                title=f"{metric}: training solid, validation dashed"), key="foreign_run_chart")
        st.button("Copy into my workspace", icon=":material/content_copy:", key="copy_run",
                  on_click=_copy, args=(store, run), disabled=run.active,
                  help="Still training: copy it once it has finished" if run.active
                  else "Keep a copy among your runs (Compare, Inspect, History)")


def _copy(store, run):
    """The button's callback: before the rerun, so the page then lists the copy."""
    try:
        copy_id = store.copy_run(run.id, session.workspace())
    except (KeyError, ValueError) as e:
        st.session_state[COPIED_KEY] = ("error", f"The run cannot be copied: {e}")
        return
    st.session_state.pop(session.FOREIGN_KEY)
    st.session_state["nnplay_run_id"] = copy_id
    if "run" in st.query_params:
        del st.query_params["run"]
    st.session_state[COPIED_KEY] = ("success", f"“{run.name}” is now in your workspace.")
