"""Share and export, in the sidebar of every page: a link that holds the whole experiment
(optionally hiding chosen controls, for a classroom), the spec as JSON down and up, and a
link to a saved run."""
from __future__ import annotations

from urllib.parse import urlencode

import streamlit as st

from nnplay.spec import Experiment, SpecError, require_uploaded_files
from nnplay.ui import session

# Controls a teacher may hide in a shared link (the widget keys of session.seeded/bound).
HIDEABLE = {
    "data.dataset": "dataset", "data.noise": "noise", "data.features": "input features",
    "data.samples": "samples", "data.validation_split": "validation ratio",
    "train.optimizer": "optimizer", "train.learning_rate": "learning rate",
    "train.batch_size": "batch size", "train.epochs": "epochs",
    "train.regularization.kind": "regularization", "train.early_stopping.on": "early stopping",
    "train.augmentation.noise": "input noise", "model.layers": "layer editor",
}


def share_link(exp: Experiment, base: str, hidden: list[str] = (), run_id: str | None = None) -> str:
    params = {"x": exp.to_url()}
    if hidden:
        params["hide"] = ",".join(hidden)
    if run_id:
        params["run"] = run_id
    return f"{base}?{urlencode(params)}"


def _base_url() -> str:
    """This page's address without its query: the link opens the page being shared."""
    return (st.context.url or "http://localhost:8501/").split("?", 1)[0]


def notices():
    """What a link asked for that could not be done (an unknown ?hide=, a gone ?job=)."""
    for notice in session.link_notices():
        st.info(notice, icon=":material/link:")


def sidebar():
    """Drawn before the page, which may still change the experiment (a widget the student
    just moved writes the spec in the page's body): the link and the spec download are
    drawn again once the page has run (session.end_page), so they hold that change too."""
    session.experiment()   # read from the link first: link_error is known after
    problem = session.link_error()
    if problem:  # in the main area, where it is seen even with the sidebar closed
        st.warning(f"This link could not be opened — {problem}. Showing the default experiment.")
    notices()
    with st.sidebar:
        with st.expander("Share and export", icon=":material/share:"):
            link = _share_link_slot()
            download = st.empty()
            _spec_upload()

    def draw(key="spec_download"):
        now = session.experiment()
        link.code(share_link(now, _base_url(), st.session_state.get("share_hide", []),
                             _linked_run()), language=None, wrap_lines=True)
        download.download_button("Download the spec (JSON)", now.to_json(),
                                 file_name="nnplay_spec.json", mime="application/json",
                                 icon=":material/download:", key=key)
    draw("spec_download_before")  # a page that stops early still shows a link
    session.at_page_end(draw)  # redrawn with the page's changes


def _linked_run() -> str | None:
    return st.session_state.get("nnplay_run_id") if st.session_state.get("share_run") else None


def _share_link_slot():
    """The classroom options, and an empty slot for the link itself."""
    st.multiselect("Hide these controls for students", list(HIDEABLE),
                   format_func=HIDEABLE.get, key="share_hide",
                   help="Classroom mode: the link opens with these controls hidden; "
                        "their values come from the link.")
    st.checkbox("Link to the latest run", key="share_run",
                disabled=st.session_state.get("nnplay_run_id") is None,
                help="Opening the link shows that saved run.")
    st.caption("Copy this link: it holds the whole experiment.")
    return st.empty()


def _spec_upload():
    upload = st.file_uploader("Restore a spec (JSON)", type=["json"], key="spec_upload")
    if upload is None or st.session_state.get("spec_upload_done") == upload.file_id:
        return
    try:
        restored = require_uploaded_files(
            Experiment.from_json(upload.getvalue()))
    except SpecError as e:
        st.error(f"That file is not an nnplay spec: {e}")
        return
    st.session_state["spec_upload_done"] = upload.file_id
    session.set_experiment(restored)
    st.rerun()
