"""The date translator's parts: character vocabulary, model shapes, attention, checkpoints, training task."""

import json

import numpy as np
import pytest
import torch

from t2i_core.data.characters import CharacterVocabulary, load_vocabularies, save_vocabularies
from t2i_core.models.attention import SCORES, SoftAttention
from t2i_core.models.date_translator import DateTranslator, DateTranslatorConfig
from t2i_core.training.dates_task import pad_sources, target_vocabulary


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread, and the machine is shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_model(score: str = "additive", cell: str = "lstm") -> DateTranslator:
    torch.manual_seed(0)
    config = DateTranslatorConfig(source_vocab_size=20, target_vocab_size=15, embedding_dim=8, encoder_hidden=8,
                                  decoder_hidden=16, attention_dim=8, score=score, encoder_cell=cell)
    return DateTranslator(config).eval()


def padded_batch():
    """Three sources of lengths 7, 3 and 5, right-padded to 7."""
    lengths = torch.tensor([7, 3, 5])
    source = torch.zeros(3, 7, dtype=torch.long)
    for i, n in enumerate(lengths.tolist()):
        source[i, :n] = torch.randint(4, 20, (n,))
    return source, lengths


def test_character_vocabulary_round_trips_and_marks_unseen_characters():
    vocabulary = CharacterVocabulary.build(["5 April 09", "3/4/21"])
    ids = vocabulary.encode("5 Apr!")
    assert ids[-1] == vocabulary.unk_id and vocabulary.unknown("5 Apr!") == ["!"]
    assert vocabulary.decode(vocabulary.encode("09 April")) == "09 April"
    assert vocabulary.decode([vocabulary.start_id, *vocabulary.encode("21"), vocabulary.end_id, 7]) == "21"


def test_vocabularies_are_saved_as_plain_json(tmp_path):
    source, target = CharacterVocabulary.build(["March 3, 2020"]), target_vocabulary()
    path = save_vocabularies(tmp_path, source, target)
    assert json.loads(path.read_text())["target"][4:] == list("0123456789-")
    assert load_vocabularies(tmp_path) == (source, target)


def test_a_broken_vocabulary_file_is_a_clear_error(tmp_path):
    (tmp_path / "vocabulary.json").write_text('["<pad>"]')
    with pytest.raises(ValueError, match="source"):
        load_vocabularies(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_vocabularies(tmp_path / "missing")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("score", SCORES)
def test_forward_gives_logits_per_output_character_and_attention_per_input_character(score, cell):
    model = tiny_model(score, cell)
    source, lengths = padded_batch()
    target = torch.randint(4, 15, (3, 10))
    logits, attention = model(source, lengths, target)
    assert logits.shape == (3, 10, 15)
    assert attention.shape == (3, 10, 7)
    torch.testing.assert_close(attention.sum(2), torch.ones(3, 10))
    # Padding gets no attention: the second source has 3 characters, the third 5.
    assert attention[1, :, 3:].abs().max() == 0 and attention[2, :, 5:].abs().max() == 0


def test_the_decoder_attends_with_the_shared_attention_module():
    model = tiny_model("general")
    assert isinstance(model.decoder.attention, SoftAttention)
    assert model.decoder.attention.score_name == "general"


def test_padding_does_not_change_a_translation():
    model = tiny_model()
    source, lengths = padded_batch()
    ids, attention, log_probs = model.generate(source, lengths)
    alone_ids, alone_attention, _ = model.generate(source[1:2, :3], lengths[1:2])
    assert torch.equal(ids[1], alone_ids[0])
    torch.testing.assert_close(attention[1, :, :3], alone_attention[0])


def test_generate_writes_ten_date_characters_with_their_log_probabilities():
    model = tiny_model()
    source, lengths = padded_batch()
    ids, attention, log_probs = model.generate(source, lengths)
    assert ids.shape == (3, 10) and attention.shape == (3, 10, 7) and log_probs.shape == (3, 10)
    assert ids.min() >= 4, "special tokens are never written"
    assert (log_probs <= 0).all()


def test_unknown_score_or_cell_is_refused():
    with pytest.raises(ValueError, match="attention score"):
        DateTranslatorConfig(score="cosine")
    with pytest.raises(ValueError, match="encoder cell"):
        DateTranslatorConfig(encoder_cell="rnn")


def test_saved_translator_reloads_to_identical_outputs(tmp_path):
    model = tiny_model("dot")
    model.save_pretrained(tmp_path)
    reloaded = DateTranslator.from_pretrained(tmp_path)
    assert reloaded.config == model.config
    source, lengths = padded_batch()
    for a, b in zip(model.generate(source, lengths), reloaded.generate(source, lengths)):
        torch.testing.assert_close(a, b)


def test_pad_sources_right_pads_and_keeps_lengths():
    source, lengths, target = pad_sources([([5, 6, 7], list(range(4, 14))), ([8], list(range(4, 14)))])
    assert source.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1] and target.shape == (2, 10)


def test_training_task_runs_in_the_shared_loop_and_exports_a_loadable_checkpoint(tmp_path):
    from t2i_core.pipelines.dates import DatesPipeline
    from t2i_core.training import TrainConfig, train
    from t2i_core.training.dates_task import DatesTask, DatesTaskConfig

    model = DateTranslatorConfig(embedding_dim=8, encoder_hidden=8, decoder_hidden=16, attention_dim=8)
    task = DatesTask(DatesTaskConfig(train_size=200, val_size=20, total_steps=6, model=model))
    run = train(task, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=6, batch_size=32, log_every=3, eval_every=6, save_every=3))
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("loss" in r for r in records)
    assert {"val_exact_match", "heldout_exact_match"} <= set(next(r["eval"] for r in records if "eval" in r))
    assert (run / "last" / "training_state.json").is_file()
    attention = DatesPipeline.from_pretrained(run / "final")("5 April 09").attention[0]
    assert attention.shape == (10, len("5 April 09"))
    np.testing.assert_allclose(attention.sum(1), 1.0)


def _tiny_dates_run(folder, steps):
    from t2i_core.training import TrainConfig, train
    from t2i_core.training.dates_task import DatesTask, DatesTaskConfig

    model = DateTranslatorConfig(embedding_dim=8, encoder_hidden=8, decoder_hidden=16, attention_dim=8)
    task = DatesTask(DatesTaskConfig(train_size=200, val_size=10, total_steps=6, model=model))
    train(task, TrainConfig(output_dir=str(folder), max_steps=steps, batch_size=32, log_every=3, eval_every=100, save_every=3))
    return task.model.state_dict()


def test_an_interrupted_dates_run_resumes_to_the_same_weights_as_an_uninterrupted_one(tmp_path):
    whole = _tiny_dates_run(tmp_path / "whole", 6)
    _tiny_dates_run(tmp_path / "halves", 3)
    resumed = _tiny_dates_run(tmp_path / "halves", 6)
    logged = [json.loads(line)["step"] for line in (tmp_path / "halves" / "metrics.jsonl").read_text().splitlines()
              if "loss" in json.loads(line)]
    assert logged == [3, 6], "the second run must continue from step 3, not start over"
    for key, value in whole.items():
        torch.testing.assert_close(resumed[key], value, rtol=0, atol=0)
