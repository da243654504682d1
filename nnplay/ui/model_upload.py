"""Inspect a .keras model that came from elsewhere: opened in Keras's safe mode, its layer
table and the histogram of every weight array."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from nnplay import plots
from nnplay.build import summary
from nnplay.inspect import weight_stats
from nnplay.modelfile import ModelFileError, load_model_file


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
    st.dataframe(pd.DataFrame(s["layers"]), hide_index=True)
    for layer in weight_stats(model):
        cols = st.columns(max(len(layer["weights"]), 1))
        for col, w in zip(cols, layer["weights"]):
            title = f"{layer['layer']} · {w['name']} {tuple(w['shape'])}"
            col.plotly_chart(plots.weight_histogram(w["histogram"], title),
                             key=f"upload_{w['path']}")
