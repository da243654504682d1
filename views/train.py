"""Train: choose how to train, press Train, watch the curves and the decision boundary live."""
import streamlit as st

from nnplay.data import DataError
from nnplay.ui import session, train_view

exp = session.experiment()
st.title("Train")

try:
    info = session.dataset(exp).info
except DataError as e:
    st.error(f"The data cannot be loaded: {e}")
    st.page_link("views/data.py", label="Choose other data", icon=":material/scatter_plot:")
    session.stop()

panel = st.container()   # the run panel, above the settings: Train shows the charts at once
with st.expander("Training settings", expanded=session.current_job() is None):
    train_view.optimizer_settings(exp)
    train_view.loss_and_metrics(exp, info)
    train_view.regularization_and_stopping(exp)
    train_view.augmentation_settings(exp, info)

problems = session.problems(exp, info)
if problems:
    st.error("This experiment cannot be trained yet:\n\n" +
             "\n".join(f"- **{p.where}**: {p.message}" for p in problems))
    st.page_link("views/model.py", label="Fix the model", icon=":material/stacks:")
    session.stop()

with panel:
    st.fragment(train_view.live_panel)(exp, info)
train_view.history_panel()
