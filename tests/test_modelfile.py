"""Models from elsewhere open in Keras's safe mode; bad files get a reason, not a traceback."""
import keras
import numpy as np
import pytest

from nnplay.modelfile import ModelFileError, load_model_file


def saved(tmp_path, model) -> bytes:
    path = tmp_path / "m.keras"
    model.save(path)
    return path.read_bytes()


def test_a_plain_model_opens_with_its_weights(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")])
    loaded = load_model_file(saved(tmp_path, model))
    x = np.ones((1, 3), np.float32)
    assert np.allclose(loaded(x), model(x))


def test_a_lambda_layer_is_refused(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2)])
    with pytest.raises(ModelFileError, match="Lambda layer"):
        load_model_file(saved(tmp_path, model))


def test_an_unknown_custom_layer_is_refused(tmp_path):
    @keras.saving.register_keras_serializable(package="elsewhere")
    class Twice(keras.layers.Layer):
        def call(self, x):
            return x * 2
    model = keras.Sequential([keras.Input((3,)), Twice()])
    data = saved(tmp_path, model)
    keras.saving.get_custom_objects().pop("elsewhere>Twice")
    with pytest.raises(ModelFileError, match="custom layer"):
        load_model_file(data)


@pytest.mark.parametrize("data, reason", [
    (b"hello", "not a .keras model file"),
    (b"\x89HDF\r\n\x1a\n....", "old HDF5"),
])
def test_files_that_are_not_models(data, reason):
    with pytest.raises(ModelFileError, match=reason):
        load_model_file(data)
