"""Inspect › Ask the model: one example from the data, or the student's own input (a drawn
digit, sliders, a click on the plane, a sentence), and what the model says about it. The core
(`nnplay.ask`) prepares inputs and turns outputs into probabilities; this draws them."""
import numpy as np
import pandas as pd
import streamlit as st

from nnplay import ask, plots
from nnplay.data import DataError
from nnplay.inspection import EVAL_MAX, class_probabilities, grid_points
from nnplay.ui.chart import chart
from nnplay.ui.inspect_view import class_name, every_few_seconds, logits, predict, valid_or

CANVAS_PX = 252


def ask_section(job, snap):
    st.subheader("An example from the data")
    example_part(job, snap)
    st.subheader("Your own input")
    own_input_part(job, snap)


def show_answer(job, outputs, true=None, key="answer"):
    """The model's answer for one input: probabilities with the true class marked, or the
    predicted value against the true one."""
    info = job.dataset.info
    said = ask.answer(outputs, job.dataset, logits(job))
    if said.probabilities is None:
        truth = None if true is None else float(job.dataset.target_offset + true * job.dataset.target_scale)
        st.metric("Predicted", f"{said.value:.4g}",
                  delta=None if truth is None else f"{said.value - truth:+.4g} from the true {truth:.4g}",
                  delta_color="off")
        return said
    names = [class_name(info, i) for i in range(len(said.probabilities))]
    chart(plots.class_probabilities_figure(said.probabilities, names, true), key=key)
    verdict = "." if true is None else (" — right." if said.predicted == int(true) else
                                       f" — wrong: it is {names[int(true)]}.")
    squash = "sigmoid: p and 1 − p" if np.asarray(outputs).shape[-1] == 1 else "softmax"
    st.caption(f"The model says **{names[said.predicted]}** with probability "
               f"{said.probabilities[said.predicted]:.1%}{verdict} The bars sum to 1 ({squash}"
               f"{' of the logits' if logits(job) else ''}).")
    return said


# ---- an example -------------------------------------------------------------------------------

def example_part(job, snap):
    ds = job.dataset
    left, middle, right = st.columns([1, 1.4, 1.2])
    split = left.radio("From the", ask.SPLITS, key="ask_split", horizontal=True,
                       format_func=lambda s: f"{s} set")
    x, y, name = ask.examples(ds, split)
    way = middle.radio("Which one", ask.WAYS, key="ask_way", horizontal=True)
    index = choose_example(job, snap, x, y, name, way, right)
    if index is None:
        return
    picture, answer = st.columns([1, 2])
    with picture:
        show_example(ds, x[index], y[index], f"{name} example {index}")
    with answer:
        show_answer(job, predict(job, x[index:index + 1]), y[index], key="example_answer")


def choose_example(job, snap, x, y, name, way, where):
    """The index the student asked for, or None after saying why there is none."""
    if way == "by number":
        valid_or("ask_number", range(len(x)), 0)
        return where.number_input(f"Example (0–{len(x) - 1})", 0, len(x) - 1, key="ask_number")
    if way == "random":
        if where.button("Another random one", icon=":material/casino:"):
            st.session_state["ask_draw"] = st.session_state.get("ask_draw", 0) + 1
        return ask.random_example(len(x), st.session_state.get("ask_draw", 0))
    # every few seconds while training: thousands of predictions must not fill every redraw
    _, outputs = every_few_seconds(f"ask_outputs_{name}", job, snap, lambda: predict(job, x[:EVAL_MAX]))
    if job.dataset.info.task == "regression":
        return ask.worst_regression(outputs, y[:EVAL_MAX])
    probabilities = class_probabilities(outputs, logits(job))
    index = ask.most_confidently_wrong(probabilities, y[:EVAL_MAX])
    if index is None:
        where.success(f"No {name} example is wrong: nothing to show.")
    return index


def show_example(ds, x, y, title):
    info = ds.info
    if info.kind == "image":
        truth = class_name(info, int(y))
        chart(plots.image_grid(x[None], [f"true {truth}"], columns=1, tile_px=160), key="example_picture")
    elif x.ndim == 1 and len(x) <= 64 and info.kind != "text":
        st.dataframe(pd.DataFrame({"feature": info.column_names(len(x)), "model input": x}), hide_index=True)
        st.caption("The inputs as the model sees them (normalized).")
    elif info.kind == "sequence":
        chart(plots.series_plot(x.reshape(-1), title="The window the model reads"), key="example_window")
    else:
        st.caption(f"{title}: {int((x != 0).sum())} word ids.")


# ---- your own input ---------------------------------------------------------------------------

def own_input_part(job, snap):
    ds = job.dataset
    kind = ds.info.kind
    if kind == "image":
        return drawn_digit(job)
    if kind == "text":
        return typed_sentence(job)
    found = ask.features(ds)
    if not found:
        st.caption("Pick an example above: this kind of data has no input to type.")
        return
    left, right = st.columns([1, 1])
    with left:
        plane_slot = st.container()
        values = sliders(found)
        if ds.raw_train is not None:
            with plane_slot:
                plane(job, snap, found, values)
    with right:
        show_answer(job, predict(job, ask.typed_input(values, ds)), key="own_answer")


def slider_key(j: int) -> str:
    return f"ask_feature_{j}"


def sliders(found: list) -> list[float]:
    """One slider per feature over its training range, starting at the training median."""
    values = []
    columns = st.columns(2 if len(found) > 4 else 1)
    for j, f in enumerate(found):
        key = slider_key(j)
        if not isinstance(st.session_state.get(key), float) or not f.low <= st.session_state[key] <= f.high:
            st.session_state[key] = f.typical
        step = (f.high - f.low) / 100 or 1.0
        values.append(columns[j % len(columns)].slider(f.name, f.low, f.high, key=key, step=step,
                                                       format="%.3g"))
    return values


def plane(job, snap, found, values):
    """The data and the boundary, the point asked about as a star; a click on the plane
    moves the two sliders there."""
    ds = job.dataset
    fig = plots.data_scatter(ds.raw_train, ds.y_train, None, None, ds.info.task, grid=snap.grid,
                             bounds=ds.grid_bounds, title="Click anywhere to ask about that point")
    axis = np.linspace(*ds.grid_bounds, 25)
    targets = grid_points(ds.grid_bounds, 25)
    fig.add_scatter(x=targets[:, 0], y=targets[:, 1], mode="markers", showlegend=False,
                    marker=dict(size=14, opacity=0.01), hoverinfo="x+y", name="ask here")
    fig.add_scatter(x=[values[0]], y=[values[1]], mode="markers", name="your point",
                    marker=dict(symbol="star", size=18, color="#2ca02c", line=dict(color="black", width=1)),
                    hoverinfo="skip")
    fig.update_layout(clickmode="event+select", xaxis_range=[axis[0], axis[-1]])
    st.plotly_chart(fig, key="ask_plane", on_select=lambda: clicked(found),
                    selection_mode="points", width="stretch", config={"displaylogo": False})


def clicked(found):
    points = st.session_state["ask_plane"].selection.points
    if points:
        for j, value in enumerate((points[0]["x"], points[0]["y"])):
            st.session_state[slider_key(j)] = float(np.clip(value, found[j].low, found[j].high))


def drawn_digit(job):
    from streamlit_drawable_canvas import st_canvas
    ds = job.dataset
    height, width, _ = ds.info.input_shape
    left, middle, right = st.columns([1.2, 0.8, 2])
    with left:
        st.caption("Draw with the mouse; the bin icon clears.")
        canvas = st_canvas(stroke_width=22, stroke_color="#000000", background_color="#ffffff",
                           height=CANVAS_PX, width=CANVAS_PX, drawing_mode="freedraw",
                           return_image_data=True, key="ask_canvas")
    image = canvas.image_data if canvas is not None else None
    prepared = ask.drawing_input(image, ds) if image is not None else None
    if prepared is None:
        right.info("Draw a digit on the canvas: the model's answer appears here.")
        return
    x, picture = prepared
    with middle:
        chart(plots.picture_figure(picture, f"As the model sees it ({width}×{height})"),
              key="drawn_picture")
    with right:
        show_answer(job, predict(job, x), key="drawn_answer")


def typed_sentence(job):
    data = job.exp.data
    sentence = st.text_area("Type a review", key="ask_text",
                            placeholder="A wonderful film, the best acting I have seen in years.")
    if not sentence.strip():
        return
    try:
        x = ask.text_input(sentence, job.dataset, data.num_words, data.maxlen, ask.imdb_word_index())
    except DataError as e:
        st.info(str(e))
        return
    show_answer(job, predict(job, x), key="text_answer")
