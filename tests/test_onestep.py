"""One step in numbers: the forward pass, loss and gradients of the next batch match a numpy
computation by hand (the from-scratch tutorial's chain rule) to 1e-5, the SGD update is the
real job's, and "Next step" moves the real job by one batch."""
import numpy as np
import pytest

from nnplay import onestep
from nnplay.data import load
from nnplay.job import MANAGER

from conftest import make_exp, open_page


def paused_job(**train):
    exp = make_exp(model={"layers": [{"type": "Dense", "units": 3, "activation": "tanh"}]},
                   train={"epochs": 5, "optimizer": "sgd", "learning_rate": 0.1,
                          "batch_size": 10, **train})
    job = MANAGER.submit(exp, load(exp.data), paused=True)
    for _ in range(600):          # building takes a moment; then it waits, paused
        if job.progress()[0] == "paused" and job.model() is not None:
            return job
        job.wait(0.05)
    raise AssertionError(f"the job never paused: {job.progress()}")


def by_hand(x, y, w1, b1, w2, b2):
    """The 2-3-1 tanh/sigmoid network with binary cross-entropy, forward and backward in
    numpy, as the from-scratch tutorial writes it."""
    z1 = x @ w1 + b1
    a1 = np.tanh(z1)
    z2 = a1 @ w2 + b2
    p = 1 / (1 + np.exp(-z2))
    y = y.reshape(-1, 1)
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    dz2 = (p - y) / len(x)                  # ∂L/∂z2 for sigmoid + cross-entropy
    dw2, db2 = a1.T @ dz2, dz2.sum(axis=0)
    dz1 = (dz2 @ w2.T) * (1 - a1 ** 2)      # back through tanh
    dw1, db1 = x.T @ dz1, dz1.sum(axis=0)
    return {"z1": z1, "a1": a1, "z2": z2, "p": p, "loss": loss,
            "grads": [dw1, db1, dw2, db2], "dz2": dz2}


def test_a_step_in_numbers_matches_numpy_and_the_real_update():
    job = paused_job()
    try:
        step = onestep.for_job(job)
        first, last = step.layers
        assert (step.epoch, step.batch) == (0, 0) and len(step.x) == 10 and step.mask.all()
        x, y = step.x.astype(np.float64), step.y.astype(np.float64)
        hand = by_hand(x, y, first.kernel, first.bias, last.kernel, last.bias)
        assert first.z == pytest.approx(hand["z1"], abs=1e-5)
        assert first.a == pytest.approx(hand["a1"], abs=1e-5)
        assert last.a == pytest.approx(hand["p"], abs=1e-5)
        assert step.loss == pytest.approx(hand["loss"], abs=1e-5)
        ours = [first.grad_kernel, first.grad_bias, last.grad_kernel, last.grad_bias]
        for got, want in zip(ours, hand["grads"]):
            assert got == pytest.approx(want, abs=1e-5)
        # the chain rule for W2[0, 0], term by term
        assert step.chain["delta"] == pytest.approx(hand["dz2"][:, 0], abs=1e-6)
        assert step.chain["sum"] == pytest.approx(hand["grads"][2][0, 0], abs=1e-6)
        assert step.chain["slope"] == pytest.approx(hand["p"][:, 0] * (1 - hand["p"][:, 0]), abs=1e-4)
        # SGD: new = old - lr·g, and the real job lands exactly there after Next step
        expected = [u["old"] - 0.1 * w for u, w in zip(step.updates, hand["grads"])]
        assert onestep.take_step(job)
        model = job.model()
        now = {v.path: v.numpy() for v in model.trainable_variables}
        for update, want in zip(step.updates, expected):
            assert update["new"] == pytest.approx(want, abs=1e-5)
            assert now[update["path"]] == pytest.approx(update["new"], abs=1e-6)
        after = onestep.for_job(job)
        assert after.batch == 1 and not np.array_equal(after.batch_indices, step.batch_indices)
    finally:
        job.stop()
        job.wait(30)


def test_the_batch_shown_at_an_epochs_start_is_the_one_the_engine_draws():
    job = paused_job()
    try:
        engine = job.engine
        for _ in range(engine.steps_per_epoch):      # to the start of epoch 2
            assert onestep.take_step(job)
        step = onestep.for_job(job)
        assert (step.epoch, step.batch) == (1, 0)
        assert onestep.take_step(job)
        perm = engine.perm.numpy()                   # the shuffle the engine drew for epoch 2
        assert step.batch_indices == pytest.approx(perm[:engine.batch_size])
    finally:
        job.stop()
        job.wait(30)


def test_momentum_and_adam_show_their_state_and_formula():
    job = paused_job(optimizer="adam", learning_rate=0.01)
    try:
        assert onestep.take_step(job)          # Keras builds the optimizer's state on its first step
        step = onestep.for_job(job)
        assert step.optimizer == "Adam" and "β₁" in step.formula
        assert all(u["new"] is None for u in step.updates)
        assert set(step.updates[0]["state"]) == {"momentum", "velocity"}
        assert step.updates[0]["state"]["momentum"].shape == step.updates[0]["old"].shape
    finally:
        job.stop()
        job.wait(30)


def test_a_big_or_convolutional_model_is_refused_with_a_reason():
    exp = make_exp(model={"layers": [{"type": "Dense", "units": 16, "activation": "relu"}]},
                   train={"epochs": 1})
    from nnplay.build import build
    built = build(exp, load(exp.data).info)
    with pytest.raises(onestep.NotTiny, match="at most 8"):
        onestep.check_tiny(built.model)


def test_the_step_tab_draws_and_next_step_moves_the_job():
    job = paused_job()
    try:
        at = open_page("views/inspect.py", job.exp, nnplay_job_id=job.id, inspect_tab="One step")
        assert not at.exception
        text = " ".join(m.value for m in at.markdown)
        assert "∂L/∂w" in text
        before = onestep.steps_taken(job)
        at.button(key="onestep_next").click().run()
        assert not at.exception and onestep.steps_taken(job) == before + 1
        assert any("exactly the predicted new values" in s.value for s in at.success)
    finally:
        job.stop()
        job.wait(30)
