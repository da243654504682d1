"""Model: stack layers, set their parameters, and see the network Keras builds from them."""
import streamlit as st

from nnplay import layers as L
from nnplay import plots, presets, stack
from nnplay.data import DATASETS, DataError, is_available_offline
from nnplay.spec import Experiment, validate
from nnplay.ui import session, widgets
from nnplay.ui.model_view import export_code, keras_summary, summary_table


# ---- changing the stack (button callbacks run before the page is drawn again) -------------

def edit_stack(change, *args):
    """Apply a `stack` edit (moved, duplicated, removed) to the experiment's layers."""
    session.set_layers(change(session.experiment().model.layers, *args))


def add_layer():
    layers = session.experiment().model.layers
    session.set_layers(layers + [stack.new_layer(session.widget_value("add_layer_kind"))])


def apply_preset():
    name = session.widget_value(session.PRESET_KEY)
    exp, changes = presets.apply_preset(session.experiment(), name, available=is_available_offline)
    session.set_experiment(exp)
    session.announce_preset(name, changes)


def use_data_shape():
    session.experiment().model.input_shape = None


# ---- pieces of the page ---------------------------------------------------------------------

def preset_picker():
    with st.container(border=True):
        cols = st.columns([2, 3, 1], vertical_alignment="bottom")
        name = cols[0].selectbox("Start from a preset", list(presets.PRESETS), key=session.PRESET_KEY,
                                 format_func=lambda n: presets.PRESETS[n]["title"])
        cols[1].caption(presets.PRESETS[name]["description"])
        notice = presets.data_notice(name, is_available_offline)
        if notice:   # before Apply changes anything
            st.warning(notice, icon=":material/cloud_off:")
        cols[2].button("Apply preset", on_click=apply_preset, type="primary",
                       help="Replaces the layers; switches the data and training settings the "
                            "preset was made for.")
    notice = session.preset_notice()
    if notice:
        title, changes = notice
        st.success(f"Applied **{title}**: the layers are replaced."
                   + ("".join(f"\n- {c}." for c in changes) if changes
                      else " Nothing else changed."))


def layer_buttons(i: int, n: int):
    with st.container(horizontal=True, horizontal_alignment="right", gap="small"):
        st.button(":material/arrow_upward:", key=f"layer_up_{i}", on_click=edit_stack,
                  args=(stack.moved, i, -1), disabled=i == 0, type="tertiary", help="Move up")
        st.button(":material/arrow_downward:", key=f"layer_down_{i}", on_click=edit_stack,
                  args=(stack.moved, i, 1), disabled=i == n - 1, type="tertiary",
                  help="Move down")
        st.button(":material/content_copy:", key=f"layer_copy_{i}", on_click=edit_stack,
                  args=(stack.duplicated, i), type="tertiary", help="Duplicate")
        st.button(":material/delete:", key=f"layer_delete_{i}", on_click=edit_stack,
                  args=(stack.removed, i), type="tertiary", help="Delete")


def layer_card(i: int, layer, n: int):
    """One layer: a header (filled in later, once every widget has run), its buttons and its
    parameters. Returns (header placeholder, problems container, LayerKind or None)."""
    kind = L.CATALOGUE.get(layer.get("type")) if isinstance(layer, dict) else None
    with st.container(border=True, key=f"layer_card_{i}"):
        title, buttons = st.columns([3, 1], vertical_alignment="center")
        header = title.empty()
        with buttons:
            layer_buttons(i, n)
        if kind is not None:
            everyday = [p for p in kind.params if p.name not in stack.ADVANCED_PARAMS]
            advanced = [p for p in kind.params if p.name in stack.ADVANCED_PARAMS]
            with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
                widgets.layer_params(layer, f"layer.{i}", everyday)
                if advanced:
                    with st.popover("More", icon=":material/tune:",
                                    help="Bias, initial weights and weight penalty"):
                        widgets.layer_params(layer, f"layer.{i}", advanced)
        problems = st.container()
    return header, problems, kind


# ---- the page ---------------------------------------------------------------------------------

exp = session.experiment()
st.title("Model")
preset_picker()

try:
    info = session.dataset_info(exp)
except DataError as e:
    info = None
    st.warning(f"The data cannot be read, so shapes are not checked against it: {e}")

top_problems = st.container()
editor, overview = st.columns([3, 2], gap="large")

with editor:
    dataset = DATASETS.get(exp.data.dataset)
    input_line = stack.input_text(exp.model, info, dataset.title if dataset else exp.data.dataset)
    if input_line:
        st.markdown(input_line, help=stack.BATCH_NOTE)
    if exp.model.input_shape is not None:
        st.button("Use the data's shape", on_click=use_data_shape)
    n = len(exp.model.layers)
    cards = [layer_card(i, layer, n) for i, layer in enumerate(exp.model.layers)]
    if not cards:
        st.info("No layers yet: add one below, or start from a preset.")

    with st.container(horizontal=True, vertical_alignment="bottom"):
        kinds = [k for g in L.GROUPS for k, kind in L.CATALOGUE.items() if kind.group == g]
        st.selectbox("Add a layer", kinds, key="add_layer_kind", width=320,
                     format_func=lambda k: f"{k} · {L.CATALOGUE[k].group}")
        st.button("Add", icon=":material/add:", on_click=add_layer)
    st.caption(L.CATALOGUE[session.widget_value("add_layer_kind")].help)

    session.bound(st.segmented_control, "Output head", "model.output", options=["auto", "none"],
                  required=True, help="auto appends the layer the task needs; none makes your "
                                      "last layer the output.")
    if info is not None:
        st.caption(stack.head_text(exp.model.output, info))

# Every widget has run, so the experiment is current: check it and fill in the headers.
problems = validate(exp, info)
shapes = stack.layer_shapes(exp.model.layers, stack.input_shape(exp.model, info))
by_layer, whole_model = stack.problems_by_layer(problems, len(cards))
for p in whole_model:
    top_problems.error(f"**{p.where}**: {p.message}")
for i, (header, problem_box, kind) in enumerate(cards):
    layer = exp.model.layers[i]
    words = f" · {stack.shape_words(shapes[i])}" if shapes[i] is not None else ""
    header.markdown(f"**{i + 1} · {stack.layer_title(layer)}** → `{stack.shape_text(shapes[i])}`"
                    f"{words}", help=kind.help if kind else None)
    for p in by_layer.get(i, []):
        problem_box.error(p.message, icon=":material/error:")

with overview:
    result = None
    if problems:
        st.info("The summary appears once the problems are fixed.")
    elif info is None and exp.model.input_shape is None:
        st.info("The summary appears once the data can be read.")
    else:
        st.subheader("Summary")
        try:
            with st.spinner("Building the Keras model…"):
                result = keras_summary(Experiment(model=exp.model, train=exp.train).to_json(),
                                       info)
            summary_table(result)
        except Exception as e:  # any Keras refusal is a message here, never a traceback
            st.error(f"Keras could not build this model: {str(e).splitlines()[0] if str(e) else e}")
    params = {r["name"]: r["params"] for r in (result or {}).get("layers", [])}
    st.graphviz_chart(plots.stack_dot(stack.diagram_boxes(exp.model, info, shapes, set(by_layer),
                                                          params)))

export_code(exp)
