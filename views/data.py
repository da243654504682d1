"""Data: choose what the network learns from, shape it, and look at it."""
import streamlit as st

from nnplay.data import DATASETS, DataError, is_available_offline, is_series, stand_in_note, worth_bringing
from nnplay.spec import validate
from nnplay.ui import session
from nnplay.ui.data_preview import (image_preview, model_fit_note, series_preview, summary, table_preview,
                                    text_preview, toy_preview)
from nnplay.ui.data_settings import (KINDS, bring_offer, choose, csv_settings, dataset_label, datasets_of,
                                     kind_changed, series_settings, split_settings, subset_setting,
                                     text_settings, toy_settings)

exp = session.experiment()
st.title("Data")

entry = DATASETS.get(exp.data.dataset)
if exp.data.dataset is None:
    st.info("This spec describes a model only (it names no data): choose the data to train it on.")
elif entry is None:
    st.error(f"Unknown dataset {exp.data.dataset!r}: choose one below.")
kind = session.seeded(st.segmented_control, "Kind of data", "data.kind",
                      entry.kind if entry else "toy", options=list(KINDS),
                      format_func=KINDS.get, required=True, on_change=kind_changed)
choices = datasets_of(kind)
chosen = session.seeded(st.pills, "Dataset", "data.dataset",
                        exp.data.dataset if exp.data.dataset in choices else None,
                        options=choices, format_func=dataset_label, required=True,
                        help="⬇ marks Keras sets that need one download.")
if chosen is None:
    session.stop()
choose(exp, chosen)
entry = DATASETS[chosen]
st.caption(entry.description)
stand_in = stand_in_note(chosen)
if stand_in:
    st.info(stand_in, icon=":material/offline_pin:")
bring_offer(entry)

settings, preview = st.columns([1, 2], gap="large")
with settings:
    csv_problem = None
    if kind == "csv":
        try:
            csv_settings(exp)
        except DataError as e:
            csv_problem = f"This file cannot be used: {e}"
    if kind == "toy":
        toy_settings()
    if is_series(chosen):
        series_settings(entry)
    if entry.needs_download and kind in ("image", "text"):
        subset_setting(entry)
    if kind == "text":
        text_settings()
    split_settings(exp, entry)

with preview:
    if kind == "csv" and not exp.data.path:
        st.info("Upload a table: every column but one becomes an input, and you choose the "
                "column to predict.")
        session.stop()
    if csv_problem:
        st.error(csv_problem)
        session.stop()
    problems = [p for p in validate(exp) if p.where.startswith("data.")]
    for p in problems:
        st.error(f"**{p.where}**: {p.message}")
    if problems:
        session.stop()
    try:
        ds = session.dataset(exp)
        summary(ds)
        if ds.raw_train is not None:      # points on a plane: toys and two-column CSVs
            toy_preview(ds)
        if kind == "toy":
            pass
        elif is_series(chosen):
            series_preview(exp, ds)
        elif kind in ("table", "csv"):
            table_preview(exp, ds)
        elif kind == "image":
            image_preview(ds)
        else:
            text_preview(ds)
    except DataError as e:
        if not worth_bringing(chosen) or is_available_offline(chosen):   # else said above
            st.error(str(e))
        if entry.needs_download:
            st.info("Every dataset without ⬇ works offline.")
        session.stop()
    if ds.notes:
        st.markdown("**How the data was prepared**\n" + "\n".join(f"- {n}" for n in ds.notes
                                                               if n != stand_in))
    model_fit_note(exp, ds)
