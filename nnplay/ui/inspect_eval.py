"""Inspect's evaluation section: accuracy, the confusion matrix and the misclassified
examples for classes; errors and residuals for regression."""
import pandas as pd
import streamlit as st

from nnplay import inspection as nni
from nnplay import plots
from nnplay.ui.chart import chart
from nnplay.ui.inspect_view import cached, class_name, logits, model_outputs

GALLERY_MAX = 32         # misclassified examples shown


def evaluation_section(job, snap):
    ds = job.dataset
    x, y, split = nni.evaluation_split(ds)
    if not len(x):
        st.info("There are no examples to evaluate on.")
        return
    outputs = model_outputs(job, snap)
    note = f"On {len(x)} {split} examples, epoch {snap.epoch}"
    if split == "training":
        note += " (there is no validation split, so these are examples the model trained on)"
    st.caption(note + ".")
    if ds.info.kind == "sequence":   # a series: actual against forecast over time
        chart(cached("forecast", job, snap, lambda: plots.forecast_figure(**nni.series_forecast(job))),
              key="forecast")
    if ds.info.task == "regression":
        regression_view(ds, outputs, y)
    else:
        classes_view(job, snap, outputs, x, y)


def classes_view(job, snap, outputs, x, y):
    info = job.dataset.info
    result = nni.evaluate_classes(outputs, y, info.n_classes, logits(job))
    names = [class_name(info, i) for i in range(len(result["matrix"]))]
    st.metric("Accuracy", f"{result['accuracy']:.1%}",
              help="The share of examples whose predicted class is the true class.")
    left, right = st.columns(2)
    with left:
        chart(plots.confusion_figure(result["matrix"], names), key="confusion")
    with right:
        chart(plots.per_class_accuracy_figure(result["per_class"], names, result["matrix"].sum(axis=1)),
              key="per_class")
        st.caption("Read a row of the matrix: where the examples of that true class went; each "
                   "cell says how many. Blue cells on the diagonal are right; red cells are "
                   "mistakes, darker for a bigger share of the row. A red bar marks the class "
                   "the model gets right least often.")
    misclassified(job, snap, result, x, y, names)


def misclassified(job, snap, result, x, y, names):
    ds, info = job.dataset, job.dataset.info
    wrong = result["wrong"]
    st.subheader(f"Misclassified: {len(wrong)} of {len(y)}")
    if not len(wrong):
        st.success("Every example is classified correctly.")
        return
    if ds.raw_val is not None and len(ds.raw_val) == len(y):     # 2-D data: on the plane
        chart(plots.misclassified_scatter(ds.raw_val, y, wrong, info.task, grid=snap.grid,
                                          bounds=ds.grid_bounds), key="misclassified")
        return
    shown = wrong[:GALLERY_MAX]
    if info.kind == "image":
        labels = [f"true {names[y[i]]}<br>→ predicted {names[result['predicted'][i]]}"
                  for i in shown]
        chart(plots.image_grid(x[shown], labels, columns=8), key="misclassified")
        st.caption("Each picture: its true class, and the class the model predicted"
                   + (f"; the first {len(shown)} shown." if len(shown) < len(wrong) else "."))
        return
    rows = pd.DataFrame({"example": shown, "true": [names[y[i]] for i in shown],
                         "predicted": [names[result["predicted"][i]] for i in shown],
                         "confidence": result["confidence"][shown]})
    if x.ndim == 2 and x.shape[1] <= 64 and info.kind in ("table", "csv"):
        columns = info.column_names(x.shape[1])
        rows = pd.concat([rows, pd.DataFrame(x[shown], columns=columns)], axis=1)
        st.caption("Inputs as the model sees them (normalized).")
    st.dataframe(rows, hide_index=True,
                 column_config={"confidence": st.column_config.ProgressColumn(
                     "confidence", min_value=0.0, max_value=1.0, format="percent")})


def regression_view(ds, outputs, y):
    values = nni.regression_values(outputs, y, ds.target_offset, ds.target_scale)
    a, b = st.columns(2)
    a.metric("Mean absolute error", f"{values['mae']:.4g}",
             help="The average size of the error, in the target's own unit.")
    b.metric("R²", f"{values['r2']:.3f}",
             help="1 is perfect; 0 is no better than always predicting the mean.")
    left, right = st.columns(2)
    with left:
        chart(plots.predicted_vs_actual(values["actual"], values["predicted"]), key="pred_vs_true")
    with right:
        chart(plots.residuals_figure(values["predicted"], values["residual"]), key="residuals")
    if ds.target_scale != 1.0 or ds.target_offset != 0.0:
        st.caption("Values in the target's own unit (the normalization used for training is undone).")
