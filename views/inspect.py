"""Inspect: look inside the model being trained (or just trained): weights and how they moved,
gradients, filters and feature maps, the network as TensorFlow Playground draws it, and the
model's mistakes on the validation set."""
import streamlit as st

from nnplay import onestep
from nnplay.inspection import SavedRun, on_plane

from nnplay.ui import inspect_view as view
from nnplay.ui.ask_view import ask_section
from nnplay.ui.onestep_view import onestep_section
from nnplay.ui import session
from nnplay.ui.inspect_eval import evaluation_section
from nnplay.ui.inspect_sections import gradients_section, images_section, network_section, weights_section
from nnplay.ui.model_upload import uploaded_model_section

st.title("Inspect")
with st.expander("Open a model file from elsewhere (.keras)", icon=":material/upload_file:"):
    uploaded_model_section()

choice = view.pick_run()
if choice is None:
    st.info("There is no model to look inside yet: train one first on the Train page, then "
            "come back here.")
    st.page_link("views/train.py", label="Go to Train", icon=":material/play_circle:")
    st.stop()

st.header(choice.name, divider="gray")
followed = session.current_job()
job = choice.job if choice.job is not None else view.saved_run(choice.run)
if job is None:
    st.stop()

snap = job.snapshot()
was_live = view.is_live(snap)
status, refresh = st.columns([5, 1], vertical_alignment="center")
status_slot = status.empty()       # the open tab's live fragment writes the status here
view.status_line(status_slot, job, snap)
refresh.button("Refresh", icon=":material/refresh:", width="stretch", on_click=view.forget_figures,
               help="Redraw everything with the model's current weights.")
if followed is not None and job is followed and \
        job.exp.to_dict() != session.experiment().to_dict():
    st.caption("Your settings changed since this model was trained; this page shows the model "
               "as it was trained. Train again to inspect the new one.")
if snap.status == "failed":
    st.error(f"Training failed: {snap.message}")
if job.model() is None or job.dataset is None:
    if was_live:
        view.wait_for_model(job, snap)
    st.stop()


def live(name, body=None):
    """The open tab redraws itself and the status line together, from one snapshot, in the
    page's one timed fragment (a second timer would be skipped while the first one runs)."""
    return lambda: view.live_fragment(name, job, was_live, body, status_slot)


kind = job.dataset.info.kind
sections = {"Weights": live("weights", weights_section),
            "Gradients": live("gradients", gradients_section)}
if kind == "image":
    sections["Filters & feature maps"] = lambda: (images_section(job, snap), live("status")())
if on_plane(job.dataset):
    sections["Network"] = live("network", network_section)
sections["Evaluation"] = lambda: (evaluation_section(job, snap), live("status")())
sections["Ask the model"] = live("ask", ask_section)
if not isinstance(job, SavedRun) and onestep.is_tiny(job.model()):
    sections["One step"] = lambda: (onestep_section(job, snap), live("status")())
# Only the open tab runs (on_change="rerun"): the others cost nothing until chosen.
for draw, tab in zip(sections.values(), st.tabs(list(sections), key="inspect_tab",
                                               on_change="rerun")):
    with tab:
        if tab.open is not False:
            draw()
