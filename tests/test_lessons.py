"""Lessons and races: every lesson keeps its promise when run headless at a small size; race
variants differ in exactly one setting and queue through the job manager."""
import re

import pytest

from nnplay import lessons, race
from nnplay.data import describe
from nnplay.job import JobManager, Snapshot
from nnplay.spec import OPTIMIZERS, SpecError, validate

from conftest import make_exp, wait_until

# Lesson id -> scale (epochs and generated samples) for its claim test. Each claim held with a
# margin at this scale and at full size for seeds 0-4 (run_lesson(..., seed=s)); the test
# uses each lesson's own seed, so it is deterministic. The whole file takes under a minute.
CLAIM_SCALES = {
    "overfitting": 0.5,
    "augmentation": 0.4,
    "depth": 0.5,
    "vanishing-gradients": 0.2,
    "optimizers": 0.6,
    "learning-rate": 0.3,
    "features": 0.5,
    "recurrent": 0.5,
    "batch-normalization": 1.0,   # the four below take 2-6 s each at full size
    "early-stopping": 1.0,
    "lr-schedule": 1.0,
    "initializers": 1.0,
}


def sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?=\s|$)", text.replace("e.g.", "eg")))


# ---- lessons as data -----------------------------------------------------------------------

def test_there_are_twelve_lessons_and_each_claim_is_tested():
    ids = [lesson.id for lesson in lessons.LESSONS]
    assert len(ids) == 12 and len(set(ids)) == len(ids)
    assert ids[8:] == ["batch-normalization", "early-stopping", "lr-schedule", "initializers"]
    assert set(ids) == set(lessons.CHECKS) == set(CLAIM_SCALES)
    assert lessons.get("overfitting") is lessons.LESSONS[0]
    with pytest.raises(KeyError, match="overfitting"):
        lessons.get("nope")


@pytest.mark.parametrize("lesson", lessons.LESSONS, ids=lambda lesson: lesson.id)
def test_a_lesson_is_short_valid_and_trainable_as_written(lesson):
    assert 3 <= sentences(lesson.text) <= 4, lesson.text
    assert sentences(lesson.claim) == 1 and lesson.title
    assert lesson.pages and set(lesson.pages) <= set(lessons.PAGES)
    labels = lesson.labels()
    assert len(labels) >= 2 and len(set(labels)) == len(labels)
    for label, exp in lesson.variants:
        assert validate(exp, describe(exp.data)) == [], label
        assert exp.train.seed == lesson.variants[0][1].train.seed  # only the lesson's change differs
    if lesson.race:
        dimension, values = lesson.race
        again = race.variants(lesson.experiment(), dimension, values)
        assert [(lab, e.to_dict()) for lab, e in again] == \
               [(lab, e.to_dict()) for lab, e in lesson.variants]


def test_experiment_is_a_copy_of_a_variant():
    lesson = lessons.get("overfitting")
    exp = lesson.experiment()
    exp.train.epochs = 1
    assert lesson.variants[0][1].train.epochs == 200
    assert lesson.experiment("L2 0.001").train.regularization == {"l2": 0.001}
    with pytest.raises(KeyError, match="no regularization"):
        lesson.experiment("L3")


def test_scaled_shrinks_epochs_and_generated_samples_only():
    spiral = lessons.scaled(lessons.get("overfitting").experiment(), 0.5, seed=7)
    assert (spiral.train.epochs, spiral.data.samples) == (100, 75)
    assert spiral.data.seed == spiral.train.seed == 7
    digits = lessons.scaled(lessons.get("depth").experiment(), 0.1)
    assert digits.train.epochs == 2 and digits.data.samples == 500  # digits has fixed size
    assert digits.train.seed == 0


# ---- claims on made-up results (no training) ------------------------------------------------

def snap(status="completed", message="", **history):
    s = Snapshot("x", status=status, message=message)
    s.history = {k: list(v) for k, v in history.items()}
    return s


def curves(train: float, val: float, epochs: int = 20):
    return {"loss": [train] * epochs, "val_loss": [val] * epochs}


def test_check_claim_compares_the_gaps_and_says_why():
    results = {"no regularization": snap(**curves(0.0, 0.9)),
               "dropout 0.3": snap(**curves(0.2, 0.4)), "L2 0.001": snap(**curves(0.3, 0.5))}
    ok, why = lessons.check_claim("overfitting", results)
    assert ok and why.startswith("validation-training loss gap without regularization 0.90 > "
                                 "with dropout 0.20")
    results["dropout 0.3"] = snap(**curves(0.0, 1.5))
    ok, why = lessons.check_claim("overfitting", results)
    assert not ok and "<= with dropout 1.50" in why


def test_final_values_average_the_last_tenth_of_the_epochs():
    # the last epoch alone would say 0.30 < 0.35; the last two (10% of 20) say 0.40 > 0.35
    noisy = {"loss": [0.5] * 18 + [0.0, 0.2], "val_loss": [0.5] * 20}
    results = {"no augmentation": snap(**noisy), "augmentation": snap(**curves(0.15, 0.5))}
    assert lessons.check_claim("augmentation", results) == (
        True, "validation-training loss gap without augmentation 0.40 > with it 0.35")


def test_a_missing_or_failed_variant_fails_the_claim():
    ok, why = lessons.check_claim("depth", {"1 hidden layer": snap(**curves(0.1, 0.2))})
    assert not ok and "3 hidden layers" in why
    results = {"1 hidden layer": snap(**curves(0.1, 0.2)),
               "3 hidden layers": snap("failed", "out of memory: use a smaller model")}
    ok, why = lessons.check_claim("depth", results)
    assert not ok and why == "3 hidden layers did not finish (failed: out of memory: use a smaller model)"


def test_a_diverged_large_learning_rate_counts_as_the_worst():
    small, right, large = lessons.get("learning-rate").labels()
    nan = "the loss became NaN/inf at epoch 3: the learning rate is probably too high"
    results = {small: snap(**curves(0.7, 0.7)), right: snap(**curves(0.1, 0.1)),
               large: snap("failed", nan, **curves(0.7, 0.7, epochs=2))}
    ok, why = lessons.check_claim("learning-rate", results)
    assert ok and f"{large}: diverged" in why
    results[right] = snap("failed", nan)
    assert lessons.check_claim("learning-rate", results)[0] is False


def test_early_stopping_must_stop_early_and_keep_the_better_model():
    full, stopped = lessons.get("early-stopping").labels()
    climbing = {"loss": [0.5] * 200, "val_loss": [0.4] * 180 + [0.9] * 20}
    kept = snap("early_stopping", "early stopping: no improvement for 10 epochs",
                **curves(0.3, 0.4, epochs=30))
    kept.final, kept.best_epoch = {"val_loss": 0.38}, 20
    ok, why = lessons.check_claim("early-stopping", {full: snap(**climbing), stopped: kept})
    assert ok and why == ("stopped after 30 of 200 epochs (best epoch 20); validation loss of "
                          "the model kept 0.380 < 0.900 at the end of all epochs")
    kept.final = {"val_loss": 0.95}                    # kept a worse model than the end's
    assert lessons.check_claim("early-stopping", {full: snap(**climbing), stopped: kept})[0] is False
    ran_on = snap(**curves(0.3, 0.4, epochs=200))      # never stopped: the claim does not hold
    ran_on.final = {"val_loss": 0.38}
    assert lessons.check_claim("early-stopping", {full: snap(**climbing), stopped: ran_on})[0] is False


def test_a_schedule_must_calm_the_last_tenth_of_the_epochs():
    constant, decayed = lessons.get("lr-schedule").labels()
    jumpy = {"loss": [0.2] * 20, "val_loss": [0.5] * 17 + [0.2, 0.6, 0.4]}   # last 2 steps: 0.4, 0.2
    calm = {"loss": [0.2] * 20, "val_loss": [0.5] * 17 + [0.3, 0.31, 0.32]}  # 0.01 each
    assert lessons._jitter(snap(**jumpy)) == pytest.approx(0.3)
    ok, why = lessons.check_claim("lr-schedule", {constant: snap(**jumpy), decayed: snap(**calm)})
    assert ok and why == ("final validation loss: constant rate 0.500, ExponentialDecay 0.315; "
                          "its mean change per epoch at the end: 0.3 and 0.01")
    assert not lessons.check_claim("lr-schedule", {constant: snap(**calm), decayed: snap(**jumpy)})[0]
    higher = {"loss": [0.2] * 20, "val_loss": [0.5] * 17 + [0.6, 0.61, 0.62]}  # calm, not lower
    assert not lessons.check_claim("lr-schedule", {constant: snap(**jumpy), decayed: snap(**higher)})[0]


def test_initializers_claim_needs_both_stuck_and_both_learning():
    accuracy = {"zeros": 0.5, "random_normal": 0.52, "glorot_uniform": 0.95, "he_normal": 0.93}
    results = {k: snap(**curves(0.3, 0.3), val_accuracy=[v] * 20) for k, v in accuracy.items()}
    ok, why = lessons.check_claim("initializers", results)
    assert ok and why == ("validation accuracy zeros 0.50, random_normal 0.52, "
                          "glorot_uniform 0.95, he_normal 0.93")
    results["random_normal"] = snap(**curves(0.3, 0.3), val_accuracy=[0.8] * 20)
    assert lessons.check_claim("initializers", results)[0] is False


def test_the_keras_lessons_change_only_what_they_teach():
    def changed(lesson_id):
        (_, first), *rest = lessons.get(lesson_id).variants
        return [differences(first.to_dict(), exp.to_dict()) for _, exp in rest]
    assert changed("early-stopping") == [["train.early_stopping"]]
    assert changed("lr-schedule") == [["train.lr_schedule"]]
    assert changed("initializers") == [[f"model.layers.{i}.kernel_initializer"
                                        for i in range(8)]] * 3
    plain, normalized = (exp.model.layers for _, exp in lessons.get("batch-normalization").variants)
    assert normalized[0::2] == plain and len(normalized) == 2 * len(plain) == 12
    assert {layer["type"] for layer in normalized[1::2]} == {"BatchNormalization"}


# ---- every claim, trained -------------------------------------------------------------------

@pytest.mark.parametrize("lesson_id", CLAIM_SCALES)
def test_lesson_keeps_its_promise(lesson_id):
    results = lessons.run_lesson(lessons.get(lesson_id), scale=CLAIM_SCALES[lesson_id])
    ok, why = lessons.check_claim(lesson_id, results)
    assert ok, why


# ---- races -------------------------------------------------------------------------------

def mlp(**train):
    return make_exp(model={"layers": [{"type": "Dense", "units": 8, "activation": "relu"},
                                      {"type": "Dense", "units": 4, "activation": "relu"}]},
                    train={"epochs": 20, **train})


def differences(a: dict, b: dict, where: str = "") -> list[str]:
    """Paths at which two nested spec dicts differ."""
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys():
        return [p for k in a for p in differences(a[k], b[k], f"{where}.{k}".lstrip("."))]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [p for i, (x, y) in enumerate(zip(a, b)) for p in differences(x, y, f"{where}.{i}")]
    return [] if a == b else [where]


@pytest.mark.parametrize("dimension, labels", [
    ("optimizer", list(OPTIMIZERS)),
    ("learning_rate", ["lr 0.001", "lr 0.01", "lr 0.1", "lr 1"]),
    ("dropout", ["dropout 0", "dropout 0.2", "dropout 0.5"]),
    ("activation", ["relu", "tanh", "sigmoid", "linear"]),
    ("batch_size", ["batch 1", "batch 10", "batch 32", "batch 128"]),
])
def test_variants_by_default_race_the_dimensions_values(dimension, labels):
    base = mlp()
    racers = race.variants(base, dimension)
    assert [lab for lab, _ in racers] == labels
    for (_, exp), value in zip(racers, race.DIMENSIONS[dimension]):
        assert exp is not base and validate(exp) == []
        if dimension in ("optimizer", "learning_rate", "batch_size"):
            assert getattr(exp.train, dimension) == value
            changed = differences(base.to_dict(), exp.to_dict())
            assert changed in ([], [f"train.{dimension}"])
    assert base.to_dict() == mlp().to_dict()  # the base is left alone


def test_exactly_one_setting_differs_between_variants():
    base = mlp(optimizer="adam")
    (_, slow), (_, fast) = race.variants(base, "learning_rate", [0.001, 0.5])
    assert differences(slow.to_dict(), fast.to_dict()) == ["train.learning_rate"]
    (_, relu), (_, tanh) = race.variants(base, "activation", ["relu", "tanh"])
    assert differences(relu.to_dict(), tanh.to_dict()) == \
           ["model.layers.0.activation", "model.layers.1.activation"]


def test_dropout_is_inserted_after_hidden_dense_and_conv_layers():
    (_, none), (_, some) = race.variants(mlp(), "dropout", [0.0, 0.2])
    assert none.model.layers == mlp().model.layers
    assert [layer["type"] for layer in some.model.layers] == ["Dense", "Dropout", "Dense", "Dropout"]
    assert [layer.get("rate") for layer in some.model.layers] == [None, 0.2, None, 0.2]
    cnn = make_exp(data={"dataset": "digits"}, model={"layers": [
        {"type": "Conv2D", "filters": 4}, {"type": "MaxPooling2D"}, {"type": "Flatten"},
        {"type": "Dense", "units": 10, "activation": "softmax"}], "output": "none"})
    _, with_dropout = race.variants(cnn, "dropout", [0.5])[0]
    # the last Dense is the output here ("output": "none"): no dropout after it
    assert [layer["type"] for layer in with_dropout.model.layers] == \
           ["Conv2D", "Dropout", "MaxPooling2D", "Flatten", "Dense"]
    assert validate(with_dropout, describe(with_dropout.data)) == []


def test_existing_dropout_and_recurrent_dropout_are_set_not_added():
    exp = make_exp(data={"dataset": "sine"}, model={"layers": [
        {"type": "LSTM", "units": 8}, {"type": "Dropout", "rate": 0.1},
        {"type": "Dense", "units": 4}]})
    _, changed = race.variants(exp, "dropout", [0.4])[0]
    assert changed.model.layers == [{"type": "LSTM", "units": 8, "dropout": 0.4},
                                    {"type": "Dropout", "rate": 0.4},
                                    {"type": "Dense", "units": 4}]   # as Keras reads it: linear


def test_activation_changes_hidden_layers_not_the_output():
    exp = make_exp(data={"dataset": "iris"}, model={"layers": [
        {"type": "Dense", "units": 8, "activation": "relu"},
        {"type": "Dense", "units": 3, "activation": "softmax"}], "output": "none"})
    _, tanh = race.variants(exp, "activation", ["tanh"])[0]
    assert [layer["activation"] for layer in tanh.model.layers] == ["tanh", "softmax"]


@pytest.mark.parametrize("dimension, values, message", [
    ("momentum", [0.9], "cannot race on 'momentum'; choose one of optimizer, learning_rate"),
    ("optimizer", ["adamw"], "race.optimizer: value 'adamw': must be one of sgd"),
    ("learning_rate", [0.0], "race.learning_rate: value 0.0: must be in (0, 10]"),
    ("learning_rate", ["fast"], "must be a number, got 'fast'"),
    ("dropout", [1.0], "race.dropout: value 1.0: 'rate' must be below 1"),
    ("activation", ["cube"], "race.activation: value 'cube': 'activation' must be one of relu"),
    ("batch_size", [2.5], "race.batch_size: value 2.5: must be a whole number"),
    ("batch_size", [32, 32], "batch 32 appears more than once"),
    ("learning_rate", [], "race 1 to 8 values at a time, got 0"),
    ("learning_rate", [0.1 * i for i in range(1, 10)], "got 9"),
])
def test_bad_races_are_refused_with_a_message(dimension, values, message):
    with pytest.raises(SpecError) as err:
        race.variants(mlp(), dimension, values)
    assert message in str(err.value)


def test_a_model_without_hidden_layers_cannot_race_dropout_or_activation():
    bare = make_exp(model={"layers": []})
    for dimension, value in (("dropout", 0.2), ("activation", "tanh")):
        with pytest.raises(SpecError, match=f"race.{dimension}: the model has no"):
            race.variants(bare, dimension, [value])


def test_start_race_queues_every_variant_through_the_manager():
    manager = JobManager(max_running=1)
    racers = race.start_race(mlp(epochs=40), "learning_rate", [0.01, 0.1, 0.3], manager=manager,
                             owner="tab-1")
    assert [lab for lab, _ in racers] == ["lr 0.01", "lr 0.1", "lr 0.3"]
    jobs = [job for _, job in racers]
    # one trains, two wait their turn (threads reach the queue in any order)
    assert wait_until(lambda: sorted(j.snapshot().queue_position for j in jobs) == [0, 1, 2])
    assert jobs[0].dataset is jobs[1].dataset is jobs[2].dataset  # loaded once
    snaps = [j.wait(120) for j in jobs]
    assert [s.status for s in snaps] == ["completed"] * 3
    assert [j.exp.train.learning_rate for j in jobs] == [0.01, 0.1, 0.3]
    assert len({tuple(s.history["loss"]) for s in snaps}) == 3
    assert set(manager.jobs) == {j.id for j in jobs}


def test_a_race_that_does_not_fit_the_data_starts_nothing():
    manager = JobManager(max_running=1)
    images_only = make_exp(model={"layers": [{"type": "Conv2D", "filters": 4}, {"type": "Flatten"}]})
    with pytest.raises(SpecError, match="Conv2D needs an image"):
        race.start_race(images_only, "optimizer", ["sgd", "adam"], manager=manager)
    assert manager.jobs == {}


def test_an_optimizer_race_can_give_each_optimizer_its_own_rate():
    base = mlp(learning_rate=0.03)
    racers = race.variants(base, "optimizer", ["sgd", "adam", "adadelta"], own_rates=True)
    assert [lab for lab, _ in racers] == ["sgd · lr 0.1", "adam · lr 0.01", "adadelta · lr 1"]
    for (_, exp), optimizer in zip(racers, ["sgd", "adam", "adadelta"]):
        assert exp.train.optimizer == optimizer
        assert exp.train.learning_rate == race.OPTIMIZER_RATES[optimizer]
        assert set(differences(base.to_dict(), exp.to_dict())) <= {"train.optimizer",
                                                                    "train.learning_rate"}
    assert set(race.OPTIMIZER_RATES) == set(OPTIMIZERS)
    # the same rate for all stays the default, and own rates mean nothing to other dimensions
    assert [e.train.learning_rate for _, e in race.variants(base, "optimizer", ["sgd", "adam"])] \
        == [0.03, 0.03]
    assert [lab for lab, _ in race.variants(base, "dropout", [0.2], own_rates=True)] == ["dropout 0.2"]


def test_the_race_table_says_waiting_instead_of_none():
    exp = mlp(epochs=40)
    rows = race.table_rows([
        ("lr 0.1", exp, Snapshot("a", status="running", epoch=3,
                                 history={"loss": [1, 0.5, 0.25], "val_loss": [1, 0.6, 0.3333333]})),
        ("lr 0.3", exp, Snapshot("b", status="queued", queue_position=1)),
        ("lr 1", exp, Snapshot("c", status="queued")),
    ])
    assert rows[0] == {"variant": "lr 0.1", "optimizer": "SGD", "learning rate": "0.03",
                       "status": "running", "epoch": "3 of 40", "validation loss": "0.3333"}
    assert rows[1]["status"] == "waiting (place 1 in the queue)" and rows[2]["status"] == "waiting"
    assert rows[1]["epoch"] == rows[1]["validation loss"] == "—"
    assert all("None" not in str(v) for row in rows for v in row.values())
