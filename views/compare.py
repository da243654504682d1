"""Compare: runs laid over each other, to see overfitting; what changed and what happened."""
import pandas as pd
import streamlit as st

from nnplay import plots
from nnplay.compare import (class_runs, column_title, comparison_rows, display_history, is_setting,
                            latest_per_owner, metric_title)
from nnplay.ui import session
from nnplay.ui.chart import chart

st.title("Compare runs")
store = session.store()
teacher = session.teacher()


def visible_runs():
    """This workspace's runs; for the teacher, the whole class's, named by student."""
    if teacher:
        return class_runs(store.list_runs(), store.workspaces())
    return session.my_runs()


runs = visible_runs()
if teacher:
    st.info("Teacher's view: every student's runs, by the name they gave, read-only. Pick "
            "runs of several students to lay them over each other.", icon=":material/school:")
if not runs:
    st.info("No runs yet. Every training run is kept: train two variants (say, with and "
            "without dropout) and come back to lay their curves over each other.")
    st.page_link("views/train.py", label="Go to Train", icon=":material/play_circle:")
    st.stop()



def label(run) -> str:
    """How the picker names a run: its status now, and its epochs once it has ended."""
    ended = "" if run.active else f" · {run.epochs:,} epochs"
    return f"{run.name} · {run.status.replace('_', ' ')}{ended}"


labels = {r.id: label(r) for r in runs}
if teacher:
    st.button("Every student's latest run", icon=":material/groups:", key="compare_class_latest",
              on_click=lambda: session.choose_widget_value("compare_runs", latest_per_owner(runs)),
              help="One curve per student: their newest run, laid over the others.")
own = [r.id for r in runs if r.belongs_to(session.workspace())]  # never preselect others' runs
chosen_ids = st.multiselect("Runs to compare", list(labels), default=own[:4],
                            format_func=labels.get, key="compare_runs",
                            help="Pick any number of runs; " +
                                 ("grouped by student, each one's newest first." if teacher
                                  else "newest first."))
chosen = [r for r in runs if r.id in chosen_ids]
if not chosen:
    st.info("Pick at least one run above.")
    st.stop()

def overlay_and_table(chosen_ids, drawn: dict):
    """Curves, gap and table of the chosen runs; re-read from the store while any run
    trains. `drawn`: each run's status when the picker was drawn; when one has changed (a
    run started, ended), the whole page reruns so that the picker says so."""
    visible = visible_runs()
    if {r.id: r.status for r in visible} != drawn:
        st.rerun()
    chosen = [r for r in visible if r.id in chosen_ids]
    histories = {r.id: display_history(store, r) for r in chosen}
    metrics = list(dict.fromkeys(n.removeprefix("val_") for h in histories.values() for n in h
                                 if n != "epoch"))
    c1, c2, c3 = st.columns([2, 3, 1])
    metric = c1.selectbox("Metric", metrics, key="compare_metric",
                          format_func=lambda m: metric_title(m).removeprefix("training "))
    smoothing = c2.slider("Smoothing", 0.0, 0.99, 0.0, 0.01, key="compare_smoothing",
                          help="Exponential moving average, as in TensorBoard.")
    log_y = c3.toggle("Log scale", key="compare_log")

    series = [{"name": r.name, "history": histories[r.id], "best_epoch": r.best_epoch} for r in chosen]
    chart(plots.runs_overlay(series, metric, smoothing=smoothing, log_y=log_y,
                             title=f"{metric_title(metric).removeprefix('training ')}: training solid, "
                                   "validation dashed, ★ best epoch"),
          key="compare_overlay")
    chart(plots.generalization_gap(series, smoothing=smoothing), key="compare_gap")
    st.caption("A gap that keeps growing while the training loss keeps falling is overfitting: "
               "the model learns the training set, not the task.")

    st.subheader("What changed")
    rows = comparison_rows(chosen, lambda run_id: histories[run_id])
    table = pd.DataFrame(rows)
    settings = [c for c in table.columns if is_setting(c)]
    if settings:
        st.caption("The settings that differ between these runs; everything else was the same.")
        st.dataframe(readable(table[["run", *settings]]), hide_index=True, width="stretch",
                     column_config={column_title(c): st.column_config.TextColumn(width="large")
                                    for c in settings if c == "model.layers"},
                     key="compare_settings")
    else:
        st.caption("No setting differs: these runs are the same experiment.")
    st.subheader("What happened")
    results = table[[c for c in table.columns if not is_setting(c)]].copy()
    results["status"] = results["status"].str.replace("_", " ")
    st.dataframe(readable(results), hide_index=True, width="stretch", key="compare_results",
                 column_config={column_title(c): st.column_config.NumberColumn(format="%.4g")
                                for c in results.columns
                                if c.startswith(("final ", "best ")) and c != "best epoch"})


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with readable column names; the CSV export keeps the machine keys."""
    return frame.rename(columns=column_title)


if any(r.active for r in chosen):
    st.caption("Some of these runs are still training: the charts refresh every second.")
every = 1.0 if any(r.active for r in runs) else None
session.live_fragment(overlay_and_table, run_every=every)(
    chosen_ids, {r.id: r.status for r in runs})
# made when clicked: every epoch of every run, which may be megabytes
st.download_button("Download these runs' metrics (CSV)", lambda: store.metrics_csv(chosen_ids),
                   file_name="nnplay_runs.csv", mime="text/csv", icon=":material/download:")
