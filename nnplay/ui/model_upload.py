"""Inspect a .keras model that came from elsewhere: opened in Keras's safe mode, its layer
table and the histogram of every weight array."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from nnplay import plots
from nnplay.build import summary
from nnplay.inspection import weight_meaning, weight_stats
from nnplay.modelfile import ModelFileError, load_model_file
from nnplay.ui.chart import chart


@st.cache_resource(max_entries=4, show_spinner="Opening the model…")
def _open(data: bytes):
    return load_model_file(data)


def uploaded_model_section():
    upload = st.file_uploader("Open a .keras model file", type=["keras"], key="model_upload",
                              help="Saved with model.save('model.keras'). Opened in Keras's safe "
                                   "mode: models with Lambda layers or custom code are refused.")
    if upload is None:
        return
    try:
        model = _open(upload.getvalue())
    except ModelFileError as e:
        st.error(f"{upload.name} cannot be opened: {e}.")
        return
    s = summary(model)
    st.markdown(f"**{upload.name}** — {len(s['layers'])} layers, {s['total_params']:,} parameters "
                f"({s['trainable_params']:,} trainable).")
    st.dataframe(pd.DataFrame(s["layers"]), hide_index=True, column_config={
        "output_shape": st.column_config.TextColumn(
            "output shape", help="What the layer passes on for each batch: None stands for "
                                 "the number of examples in the batch (any number)")})
    st.caption("Output shape: None is the number of examples in a batch (any number); the "
               "other numbers are the size of what the layer gives for one example.")
    for layer in weight_stats(model):
        cols = st.columns(max(len(layer["weights"]), 1))
        for col, w in zip(cols, layer["weights"]):
            with col:
                chart(plots.weight_histogram(
                    w["histogram"], f"{layer['layer']} · {w['name']}",
                    subtitle=f"{weight_meaning(layer['type'], w['name'], w['shape'])}, "
                             f"shape {tuple(w['shape'])}"),
                    key=f"upload_{w['path']}")
