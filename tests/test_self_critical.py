"""Self-critical training: the naming reward, drawing captions with their log-probability, the loss, and a run that starts from a checkpoint."""

import json

import pytest
import torch

from t2i_core.data.vocabulary import Vocabulary
from t2i_core.decoding.sampling import sample_sequences
from t2i_core.models.captioning import Captioner, CaptionerConfig
from t2i_core.training.self_critical import naming_reward, self_critical_loss

REFERENCE = "a small red circle to the left of a large blue square".split()


def test_the_naming_reward_counts_pairs_named_and_takes_off_pairs_the_scene_lacks():
    assert naming_reward(REFERENCE, REFERENCE) == 1.0
    assert naming_reward("a large blue square to the right of a small red circle".split(), REFERENCE) == 1.0  # any order
    assert naming_reward("a small red circle".split(), REFERENCE) == 0.5
    assert naming_reward("a small red circle above a small red circle".split(), REFERENCE) == 0.0  # one right, one not there
    assert naming_reward("a small red square above a large blue circle".split(), REFERENCE) == -1.0
    with pytest.raises(ValueError, match="names no"):
        naming_reward(REFERENCE, "a red flower with a yellow stem".split())


def _tiny(**overrides):
    torch.manual_seed(0)
    return Captioner(CaptionerConfig(vocab_size=12, image_size=32, cnn_width=8, embed_dim=8, hidden_dim=16, attention_dim=8, **overrides))


def test_a_drawn_sequence_carries_the_log_probability_teacher_forcing_gives_it():
    model = _tiny(coverage=True).eval()
    features = model.encode(torch.rand(4, 3, 32, 32))
    generator = torch.Generator().manual_seed(3)
    tokens, log_prob = sample_sequences(model.decoder, features, start_id=1, end_id=2, max_length=7, generator=generator)
    assert tokens.shape == (4, 7) and log_prob.shape == (4,) and log_prob.requires_grad
    for i in range(4):
        row = tokens[i].tolist()
        length = row.index(2) + 1 if 2 in row else 7  # words, end token included
        assert all(t == 0 for t in row[length:])  # padding after the end token
        ids = torch.tensor([[1, *row[:length]]])
        with torch.no_grad():
            logits, _ = model(ids, features=features[i : i + 1])
        expected = torch.log_softmax(logits[0], 1).gather(1, ids[0, 1:, None]).sum()
        assert abs(float(expected) - float(log_prob[i].detach())) < 1e-4
    again, _ = sample_sequences(model.decoder, features, 1, 2, 7, generator=torch.Generator().manual_seed(3))
    assert torch.equal(tokens, again)  # the draws follow the generator
    logits, alphas, drawn, drawn_log_prob = model(torch.tensor([[1, 5, 2]] * 4), features=features, sample_length=5)
    assert drawn.shape == (4, 5) and drawn_log_prob.shape == (4,) and logits.shape == (4, 2, 12)


def test_the_loss_makes_captions_better_than_the_baseline_likelier_and_skips_pictures_without_pairs():
    vocabulary = Vocabulary.build(["a small red circle blue flower"])

    def ids(*texts, start=True):  # padded ids (B, T), with or without the start token
        rows = [vocabulary.encode(t)[0 if start else 1 :] for t in texts]
        return torch.tensor([r + [vocabulary.pad_id] * (6 - len(r)) for r in rows])

    captions = ids("a small red circle", "a red flower")  # a scene, then a flower (no pair)
    sampled = ids("a small red circle", "a blue flower", start=False)  # drawn: right for the scene
    asked = []

    def greedy(rows):  # baseline: wrong for the scene
        asked.append(rows)
        return [["a", "small", "blue", "circle"] for _ in rows]

    log_prob = torch.tensor([-2.0, -1.0], requires_grad=True)
    loss, logs = self_critical_loss(sampled, log_prob, captions, vocabulary, baseline=greedy)
    assert logs == {"sampled_reward": 1.0, "greedy_reward": -1.0}
    assert asked == [[0]]  # the flower is not decoded
    loss.backward()
    assert log_prob.grad[0] < 0 and log_prob.grad[1] == 0  # descending raises the better caption's log-probability
    none, _ = self_critical_loss(sampled[1:], log_prob[1:], captions[1:], vocabulary, baseline=greedy)
    assert none is None and asked == [[0]]


def test_a_self_critical_run_starts_from_a_checkpoint_with_the_same_model_and_vocabulary(tmp_path, monkeypatch):
    from t2i_core.training import TrainConfig, train
    from t2i_core.training.caption_task import CaptionTask, CaptionTaskConfig

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    model = CaptionerConfig(encoder="small-cnn", image_size=64, cnn_width=8, embed_dim=8, hidden_dim=16, attention_dim=8, max_length=8)
    first = tmp_path / "first"
    train(CaptionTask(CaptionTaskConfig(data="scenes", train_size=16, val_size=2, model=model), first),
          TrainConfig(output_dir=str(first), max_steps=3, batch_size=8, eval_every=3))

    config = CaptionTaskConfig(data="scenes", train_size=16, val_size=2, self_critical=1.0, init_from=str(first / "final"), learning_rate=0.0, model=model)
    task = CaptionTask(config, tmp_path / "second")
    task.build_modules()
    start = Captioner.from_pretrained(first / "final")
    assert all(torch.equal(a, b) for a, b in zip(task.model.state_dict().values(), start.state_dict().values(), strict=True))
    second = tmp_path / "second"
    train(task, TrainConfig(output_dir=str(second), max_steps=2, batch_size=8, eval_every=2, log_every=1))
    logged = [json.loads(line) for line in (second / "metrics.jsonl").read_text().splitlines()]
    assert any("sampled_reward" in r and "greedy_reward" in r for r in logged)

    with pytest.raises(ValueError, match="model config differs"):
        CaptionTask(CaptionTaskConfig(data="scenes", train_size=16, val_size=2, init_from=str(first / "final"),
                                      model=CaptionerConfig(**{**model.__dict__, "hidden_dim": 32})), tmp_path / "third").build_modules()
    with pytest.raises(ValueError, match="vocabulary differs"):
        other_data = CaptionTaskConfig(data="scenes", train_size=8, val_size=2, init_from=str(first / "final"), model=model)
        CaptionTask(other_data, tmp_path / "fourth").build_modules()
