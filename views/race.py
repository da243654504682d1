"""Race: one model, several variants that differ in one setting, trained side by side."""
import pandas as pd
import streamlit as st

from nnplay import plots
from nnplay.data import DataError
from nnplay.race import DIMENSIONS, MAX_VARIANTS, checked_variants, label, table_rows
from nnplay.spec import SpecError
from nnplay.ui import session
from nnplay.ui.chart import chart
OWN_RATES, SAME_RATE = "Each its own usual rate", "The same rate for all"
NAMES = {"optimizer": "Optimizer", "learning_rate": "Learning rate", "dropout": "Dropout rate",
         "activation": "Activation", "batch_size": "Batch size"}

exp = session.experiment()
st.title("Race")
st.caption("Train the current experiment several times, changing one setting, and watch the "
           "variants on one chart. Same seed everywhere: the differences come from the setting.")

c1, c2 = st.columns([1, 2])
dimension = c1.selectbox("Race on", list(DIMENSIONS), format_func=NAMES.get, key="race_dimension")
own_rates = False
if dimension == "optimizer":
    rates = c2.radio(
        "Learning rate", [OWN_RATES, SAME_RATE], key="race_rates", horizontal=True,
        help="Optimizers take steps of different sizes for the same rate: SGD needs a rate "
             "about ten times larger than Adam. With their own usual rates the race "
             "compares each optimizer at a rate that suits it; with one rate for all "
             f"(the experiment's {exp.train.learning_rate:g}) some crawl and some may blow up.")
    own_rates = rates == OWN_RATES
values = st.multiselect("Values", DIMENSIONS[dimension], default=list(DIMENSIONS[dimension]),
                        format_func=lambda v: label(dimension, v, own_rates),
                        max_selections=MAX_VARIANTS,
                        key=f"race_values_{dimension}", accept_new_options=dimension != "optimizer"
                        and dimension != "activation")

shared = {"optimizer": f"optimizer {exp.train.optimizer}",
          "learning_rate": f"learning rate {exp.train.learning_rate:g}",
          "batch_size": f"batch size {exp.train.batch_size}"}
shared.pop(dimension, None)
if own_rates:
    shared.pop("learning_rate")
st.info("Every variant keeps the rest of the current experiment: " + ", ".join(shared.values())
        + f", {exp.train.epochs} epochs, seed {exp.train.seed}."
        + (" Each optimizer trains at its own usual learning rate, shown with its name."
           if own_rates else "")
        + (" At one rate for all, the race mostly shows which optimizer suits that rate: "
           "try it at two rates before judging one." if dimension == "optimizer" and not own_rates
           else ""))
if st.button("Start the race", type="primary", icon=":material/flag:", disabled=not values):
    try:
        values = [type(DIMENSIONS[dimension][0])(v) for v in values]
        session.start_race(checked_variants(exp, dimension, values, own_rates,
                                            session.dataset(exp).info))
    except (SpecError, DataError, ValueError) as e:
        st.error(f"The race cannot start: {e}")


def _live_race():
    racers = session.race()
    if not racers:
        st.info("Pick a setting and its values, then start the race.")
        return
    snaps = [(lab, job.snapshot()) for lab, job in racers]
    rows = table_rows([(lab, job.exp, s) for (lab, job), (_, s) in zip(racers, snaps)])
    history_names = {n for _, s in snaps for n in s.history}
    metric = st.radio("Metric", [m for m in ("loss", "accuracy", "mae") if m in history_names] or ["loss"],
                      horizontal=True, key="race_metric")
    series = [{"name": lab, "history": s.history, "best_epoch": s.best_epoch} for lab, s in snaps]
    chart(plots.runs_overlay(series, metric, title=f"{metric}: train solid, validation dashed"),
          key="race_chart")
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="race_table")
    running = any(not s.finished for _, s in snaps)
    if running and st.button("Stop the race", icon=":material/stop:"):
        for _, job in racers:
            job.stop()
    if session.just_ended("race", running):
        st.rerun()  # a full run stops the polling


active = any(job.alive for _, job in session.race())
session.live_fragment(_live_race, run_every=0.5 if active else None)()
