"""Inspect › One step: the next mini-batch of a tiny network, forward, loss, backward and
update, in numbers (from `nnplay.onestep`), and a button that takes that step for real."""
import numpy as np
import pandas as pd
import streamlit as st

from nnplay import onestep

ROWS = 10          # examples of the batch written out
EXPECTED_KEY = "onestep_expected"   # the new values this page predicted before Next step


def fmt(v: float) -> str:
    return f"{v:.4g}"


def matrix(values: np.ndarray, rows: str, columns: str) -> pd.DataFrame:
    values = np.atleast_2d(values)
    return pd.DataFrame(values, index=[f"{rows} {i + 1}" for i in range(len(values))],
                        columns=[f"{columns} {j + 1}" for j in range(values.shape[1])])


def onestep_section(job, snap):
    if snap.status in ("queued", "building", "running"):
        st.info("The job is training. Pause it here to take one step at a time: the next "
                "mini-batch's numbers appear, and **Next step** trains on exactly that batch.")
        if st.button("Pause here", icon=":material/pause:", key="onestep_pause"):
            job.pause()
            onestep.wait_paused(job)
            st.rerun()
        return
    try:
        numbers = onestep.for_job(job)
    except (onestep.NotTiny, LookupError) as e:
        st.info(str(e))
        return
    checked_last_step(job)
    controls(job, snap, numbers)
    forward(numbers)
    backward(numbers)
    update(numbers)


def controls(job, snap, numbers):
    left, right = st.columns([3, 1], vertical_alignment="center")
    left.markdown(f"**Epoch {numbers.epoch + 1}, batch {numbers.batch + 1}**: the next "
                  f"{int(numbers.mask.sum())} training examples (rows "
                  f"{', '.join(str(i) for i in numbers.batch_indices[:ROWS])}"
                  f"{', …' if len(numbers.batch_indices) > ROWS else ''}).")
    if snap.status != "paused":
        right.caption("Training has ended: this is the step it would take next.")
        return
    if right.button("Next step", icon=":material/skip_next:", type="primary", key="onestep_next",
                    width="stretch", help="Train the real job on this batch, then pause again."):
        st.session_state[EXPECTED_KEY] = {u["path"]: u["new"] for u in numbers.updates
                                          if u["new"] is not None}
        if not onestep.take_step(job):
            st.warning("The step did not finish in time; press Next step again.")
        st.rerun()


def checked_last_step(job):
    """After Next step: do the model's weights now equal the new values predicted?"""
    expected = st.session_state.pop(EXPECTED_KEY, None)
    model = job.model()
    if expected is None or model is None:
        return
    if not expected:
        st.success("Step taken: the “old” values below are the model's weights after it.")
        return
    now = {v.path: v.numpy() for v in model.trainable_variables}
    gap = max(float(np.abs(now[p] - v).max()) for p, v in expected.items() if p in now)
    st.success(f"Step taken. The model's weights are now exactly the predicted new values "
               f"(largest difference {gap:.1g}); below, the next batch.")


def forward(n):
    st.subheader("1. Forward pass")
    st.caption("Each layer computes z = h·W + b (h: the layer's inputs, one row per example) "
               "and then a = f(z). The inputs are the examples as the model reads them.")
    st.dataframe(matrix(n.x[:ROWS], "example", "input").assign(target=n.y[:ROWS]).style.format(precision=4))
    for layer in n.layers:
        st.markdown(f"**{layer.name}** ({layer.activation})")
        left, right = st.columns(2)
        left.caption("z = h·W + b")
        left.dataframe(matrix(layer.z[:ROWS], "example", "neuron").style.format(precision=4))
        right.caption(f"a = {layer.activation}(z)")
        right.dataframe(matrix(layer.a[:ROWS], "example", "neuron").style.format(precision=4))
    penalty = f" + penalties {fmt(n.penalty)}" if n.penalty else ""
    st.metric("Loss on this batch", fmt(n.loss),
              help=f"{n.loss_name} averaged over the batch{penalty and ', plus the regularization penalties'}.")
    if penalty:
        st.caption(f"= {n.loss_name} {fmt(n.data_loss)}{penalty}")


def backward(n):
    st.subheader("2. Backward pass")
    st.caption("tf.GradientTape on the model's own variables: ∂L/∂W and ∂L/∂b for every layer. "
               "Rows: the layer's inputs; columns: its neurons.")
    for layer in n.layers:
        left, right = st.columns([3, 1])
        left.caption(f"{layer.name}: ∂L/∂W")
        left.dataframe(matrix(layer.grad_kernel, "input", "neuron").style.format(precision=5))
        right.caption("∂L/∂b")
        right.dataframe(pd.DataFrame({"∂L/∂b": layer.grad_bias},
                                     index=[f"neuron {j + 1}" for j in range(len(layer.grad_bias))]
                                     ).style.format(precision=5))
    chain_rule(n.chain)


def chain_rule(c):
    st.markdown(f"**The chain rule for one weight**, w = W[1, 1] of {c['layer']} (input 1 → "
                f"neuron 1): ∂L/∂w = Σᵢ ∂L/∂aᵢ · f′(zᵢ) · hᵢ, with f′ = {c['slope_rule']} for "
                f"{c['activation']}.")
    terms = [f"{fmt(d)} · {fmt(s)} · {fmt(h)}" for d, s, h in
             zip(c["d_loss_d_a"][:3], c["slope"][:3], c["input"][:3])]
    more = f" + … ({len(c['terms']) - 3} more)" if len(c["terms"]) > 3 else ""
    st.markdown("∂L/∂w = " + " + ".join(f"({t})" for t in terms) + more +
                f" = **{fmt(c['sum'])}**  \nThe tape's gradient: **{fmt(c['gradient'])}**.")
    rows = pd.DataFrame({"∂L/∂a": c["d_loss_d_a"], "f′(z)": c["slope"], "δ = ∂L/∂z": c["delta"],
                         "h (input 1)": c["input"], "δ · h": c["terms"]},
                        index=[f"example {i + 1}" for i in range(len(c["terms"]))])
    st.dataframe(rows.head(ROWS).style.format(precision=5), hide_index=False)


def update(n):
    st.subheader("3. Update")
    st.markdown(f"**{n.optimizer}**: {n.formula}")
    rows = []
    for u in n.updates:
        for index in np.ndindex(u["old"].shape):
            row = {"weight": f"{u['path'].split('/', 1)[-1]}{list(index)}", "old": u["old"][index],
                   "gradient": u["grad"][index], "lr × gradient": u["lr_grad"][index]}
            for name, state in u["state"].items():
                row[name] = state[index]
            if u["new"] is not None:
                row["new"] = u["new"][index]
            rows.append(row)
    st.dataframe(pd.DataFrame(rows).style.format(precision=6, subset=pd.IndexSlice[:, [
        c for c in rows[0] if c != "weight"]]), hide_index=True)
    if n.updates and n.updates[0]["new"] is None:
        st.caption("This optimizer's step depends on its state (shown per weight once it has "
                   "taken a step); press Next step and compare old with the model's new values.")
