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
    exp = session.experiment()
    problem = session.link_error()
    if problem:  # in the main area, where it is seen even with the sidebar closed
        st.warning(f"This link could not be opened — {problem}. Showing the default experiment.")
    notices()
    with st.sidebar:
        with st.expander("Share and export", icon=":material/share:"):
            _share_link(exp)
            _spec_download_and_upload(exp)


def _share_link(exp: Experiment):
    hidden = st.multiselect("Hide these controls for students", list(HIDEABLE),
                            format_func=HIDEABLE.get, key="share_hide",
                            help="Classroom mode: the link opens with these controls hidden; "
                                 "their values come from the link.")
    run_id = st.session_state.get("nnplay_run_id")
    with_run = st.checkbox("Link to the latest run", key="share_run", disabled=run_id is None,
                           help="Opening the link shows that saved run.")
    st.caption("Copy this link: it holds the whole experiment.")
    st.code(share_link(exp, _base_url(), hidden, run_id if with_run else None), language=None,
            wrap_lines=True)


def _spec_download_and_upload(exp: Experiment):
    st.download_button("Download the spec (JSON)", exp.to_json(), file_name="nnplay_spec.json",
                       mime="application/json", icon=":material/download:", key="spec_download")
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
