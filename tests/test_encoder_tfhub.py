"""The optional ``use-tfhub`` encoder, loaded for real from a tiny SavedModel built here.

The real USE models need internet (or a downloaded copy), so the loading code is tested
on a stand-in with the same interface: a 1-D string tensor in, (N, dim) float32 out. The
TensorFlow tests skip without TensorFlow (CI installs requirements-tf.txt so they run);
the tests of the error without TensorFlow and of lazy importing run everywhere.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import t2i_core
from t2i_core.text_encoders import tfhub

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
TINY_DIM = 12  # deliberately not 512, so the encoder must read dim from the model
SENTENCES = [
    "a red flower with a yellow stem",
    "a yellow flower with a red stem",
    "two birds above a lake",
    "the date is 3 March 1999",
    "",
]


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def tiny_model(tf, tmp_path_factory):
    """(folder, module): a SavedModel that hashes words into 64 buckets and mean-pools a fixed table."""

    class TinySentenceModel(tf.Module):
        def __init__(self, buckets: int = 64, dim: int = TINY_DIM):
            super().__init__()
            self.buckets = buckets
            table = np.random.default_rng(0).standard_normal((buckets, dim)).astype(np.float32)
            self.table = tf.Variable(table)  # (buckets, dim)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
        def __call__(self, sentences):
            words = tf.strings.split(tf.strings.lower(sentences))  # ragged (N, words)
            ids = tf.ragged.map_flat_values(tf.strings.to_hash_bucket_fast, words, self.buckets)
            vectors = tf.gather(self.table, ids)  # ragged (N, words, dim)
            counts = tf.cast(tf.maximum(ids.row_lengths(), 1), tf.float32)[:, None]  # (N, 1); "" -> 0 vector
            return tf.reduce_sum(vectors, axis=1) / counts  # (N, dim)

    module = TinySentenceModel()
    folder = tmp_path_factory.mktemp("tiny_use") / "saved_model"
    tf.saved_model.save(module, str(folder))
    return folder, module


def test_use_tfhub_reads_dim_from_the_model_and_returns_its_float32_vectors(tf, tiny_model):
    folder, module = tiny_model
    encoder = t2i_core.load_text_encoder("use-tfhub", handle=str(folder))
    vectors = encoder.encode(SENTENCES)
    assert encoder.name == "use-tfhub"
    assert encoder.dim == TINY_DIM
    assert vectors.shape == (len(SENTENCES), TINY_DIM)
    assert vectors.dtype == np.float32
    expected = module(tf.constant(SENTENCES)).numpy()
    np.testing.assert_allclose(vectors, expected, rtol=1e-6, atol=1e-6)


def test_use_tfhub_is_deterministic_across_calls_and_loads(tiny_model):
    folder, _ = tiny_model
    first = t2i_core.load_text_encoder("use-tfhub", handle=str(folder), cache_size=0)
    second = t2i_core.load_text_encoder("use-tfhub", handle=str(folder), cache_size=0)
    np.testing.assert_array_equal(first.encode(SENTENCES), first.encode(SENTENCES))
    np.testing.assert_array_equal(first.encode(SENTENCES), second.encode(SENTENCES))


def test_use_tfhub_gives_different_sentences_different_vectors(tiny_model):
    folder, _ = tiny_model
    vectors = t2i_core.load_text_encoder("use-tfhub", handle=str(folder)).encode(SENTENCES[2:4])
    assert not np.allclose(vectors[0], vectors[1])


def test_use_tfhub_batches_of_two_match_one_batch(tiny_model):
    folder, _ = tiny_model
    small = t2i_core.load_text_encoder("use-tfhub", handle=str(folder), batch_size=2, cache_size=0)
    whole = t2i_core.load_text_encoder("use-tfhub", handle=str(folder), batch_size=64, cache_size=0)
    np.testing.assert_allclose(small.encode(SENTENCES), whole.encode(SENTENCES), rtol=1e-6, atol=1e-6)


def test_use_tfhub_takes_its_handle_from_the_environment(tiny_model, monkeypatch):
    folder, _ = tiny_model
    monkeypatch.setenv(tfhub.HANDLE_ENV, str(folder))
    encoder = t2i_core.load_text_encoder("use-tfhub")
    assert encoder.handle == str(folder)
    assert encoder.dim == TINY_DIM


@pytest.mark.parametrize("make_folder", [False, True], ids=["missing", "empty"])
def test_use_tfhub_without_a_saved_model_at_the_handle_says_so(tf, tmp_path, make_folder):
    folder = tmp_path / "no_model_here"
    if make_folder:
        folder.mkdir()
    with pytest.raises(FileNotFoundError, match="no SavedModel at .*without internet, pass a local"):
        t2i_core.load_text_encoder("use-tfhub", handle=str(folder))


@pytest.mark.parametrize("variant", ["dan", "transformer"])
def test_use_tfhub_variant_picks_the_hub_url_and_an_unreachable_hub_says_go_local(tf, variant, monkeypatch):
    import tensorflow_hub as hub

    asked = []

    def offline_load(handle, *args, **kwargs):
        asked.append(handle)
        raise OSError("no network")

    monkeypatch.delenv(tfhub.HANDLE_ENV, raising=False)
    monkeypatch.setattr(hub, "load", offline_load)
    with pytest.raises(OSError, match="without internet, pass a local SavedModel folder"):
        t2i_core.load_text_encoder("use-tfhub", variant=variant)
    assert asked == [tfhub.DEFAULT_HANDLES[variant]]


def test_use_tfhub_refuses_an_unknown_variant():
    with pytest.raises(ValueError, match="dan, transformer"):
        t2i_core.load_text_encoder("use-tfhub", variant="bert")


def test_use_tfhub_without_tensorflow_names_requirements_tf(monkeypatch):
    # None in sys.modules makes "import tensorflow" fail, as if it were not installed.
    monkeypatch.setitem(sys.modules, "tensorflow", None)
    monkeypatch.setitem(sys.modules, "tensorflow_hub", None)
    with pytest.raises(ImportError, match=r"pip install -r requirements-tf\.txt"):
        t2i_core.load_text_encoder("use-tfhub", handle="/nowhere")


def test_importing_t2i_core_and_the_tfhub_module_never_imports_tensorflow():
    code = "import sys, t2i_core, t2i_core.text_encoders.tfhub; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
