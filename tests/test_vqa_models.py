"""The VQA models: shapes, attention maps that sum to 1, checkpoints, question encoding and a short training run."""

import json

import pytest
import torch

from t2i_core.data.questions import ANSWERS
from t2i_core.data.vocabulary import Vocabulary
from t2i_core.evaluation.vqa import accuracy_by_type
from t2i_core.models.vqa import VQAAttention, VQABaseline, VQAConfig, build_vqa_model, cell_coordinates, encode_questions, load_vqa_model, pool_grid

WORDS = ["what", "color", "is", "the", "circle", "how", "many", "squares", "are", "there", "left", "of"]


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def vocabulary():
    return Vocabulary(["<pad>", "<start>", "<end>", "<unk>", *WORDS])


def small_config(kind, **overrides):
    overrides.setdefault("relative_direction", kind == "attention")
    return VQAConfig(kind=kind, vocab_size=len(WORDS) + 4, num_answers=len(ANSWERS), hidden=32, attention_dim=16,
                     question_hidden=24, embedding_dim=16, **overrides)


def batch(vocabulary, texts=("what color is the circle", "how many squares are there?", "what is left of the circle")):
    ids, lengths = encode_questions(vocabulary, list(texts))
    features = torch.randn(len(texts), 14 * 14, 112)
    return features, ids, lengths


@pytest.mark.parametrize("hops", [1, 2])
def test_attention_model_returns_logits_and_one_map_per_hop_summing_to_one(vocabulary, hops):
    model = VQAAttention(small_config("attention", hops=hops)).eval()
    features, ids, lengths = batch(vocabulary)
    logits, maps = model(features, ids, lengths)
    assert logits.shape == (3, len(ANSWERS))
    assert maps.shape == (3, hops, 7 * 7)  # 14x14 grid pooled 2x2
    torch.testing.assert_close(maps.sum(dim=2), torch.ones(3, hops))
    assert (maps >= 0).all()


def test_attention_maps_depend_on_the_question(vocabulary):
    torch.manual_seed(0)
    model = VQAAttention(small_config("attention")).eval()
    features, ids, lengths = batch(vocabulary)
    features = features[:1].expand(3, -1, -1)  # one image, three questions
    _, maps = model(features, ids, lengths)
    assert not torch.allclose(maps[0], maps[1])


def test_baseline_has_no_attention_and_ignores_where_things_are(vocabulary):
    model = VQABaseline(small_config("baseline")).eval()
    features, ids, lengths = batch(vocabulary)
    logits, maps = model(features, ids, lengths)
    assert logits.shape == (3, len(ANSWERS)) and maps is None
    shuffled = features[:, torch.randperm(features.shape[1])]  # the same cells in other places
    torch.testing.assert_close(model(shuffled, ids, lengths)[0], logits, atol=1e-5, rtol=1e-4)


def test_pool_grid_averages_blocks_in_row_major_order():
    grid = torch.arange(16.0).reshape(1, 16, 1)  # a 4x4 grid, one feature: cell value = its index
    pooled = pool_grid(grid, 4, 2)
    assert pooled.shape == (1, 4, 1)
    assert pooled.flatten().tolist() == [2.5, 4.5, 10.5, 12.5]
    coordinates = cell_coordinates(2)
    assert coordinates.tolist() == [[-0.5, -0.5], [0.5, -0.5], [-0.5, 0.5], [0.5, 0.5]]  # (x, y), row 0 on top


@pytest.mark.parametrize("kind", ["attention", "baseline"])
def test_checkpoint_round_trip_gives_the_same_answers(kind, vocabulary, tmp_path):
    model = build_vqa_model(small_config(kind)).eval()
    model.save_pretrained(tmp_path)
    loaded = load_vqa_model(tmp_path)
    assert type(loaded) is type(model) and loaded.config == model.config
    features, ids, lengths = batch(vocabulary)
    torch.testing.assert_close(loaded(features, ids, lengths)[0], model(features, ids, lengths)[0])
    assert json.loads((tmp_path / "config.json").read_text())["config"]["kind"] == kind


def test_load_vqa_model_refuses_other_checkpoints(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "date-translator", "config": {}}))
    with pytest.raises(ValueError, match="not a VQA model"):
        load_vqa_model(tmp_path)


def test_config_refuses_unknown_models_and_bad_pooling():
    with pytest.raises(ValueError, match="unknown VQA model"):
        VQAConfig(kind="transformer")
    with pytest.raises(ValueError, match="pool"):
        VQAConfig(pool=3)


def test_question_encoding_names_unknown_words_and_refuses_empty_questions(vocabulary):
    ids, lengths = encode_questions(vocabulary, ["What color is the circle?", "how many squares are there"])
    assert ids.shape == (2, 7) and lengths.tolist() == [7, 7]
    assert ids[0, 0] == vocabulary.start_id and ids[0, 6] == vocabulary.end_id
    with pytest.raises(ValueError, match="unknown words: 'hue', 'blob'"):
        encode_questions(vocabulary, ["what hue is the blob?"])
    for empty in ["", "   ", "?!"]:
        with pytest.raises(ValueError, match="empty"):
            encode_questions(vocabulary, [empty])
    with pytest.raises(ValueError, match="at most 30"):
        encode_questions(vocabulary, ["what " * 31])
    with pytest.raises(TypeError):
        encode_questions(vocabulary, [42])


def test_accuracy_by_type_counts_each_type():
    from t2i_core.data.questions import Question

    questions = [Question("q", "red", "colour", 0, 0), Question("q", "2", "count", 0, 0), Question("q", "1", "count", 0, 1)]
    result = accuracy_by_type(questions, ["red", "2", "3"])
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["per_type"] == {"colour": 1.0, "count": 0.5}
    with pytest.raises(ValueError):
        accuracy_by_type(questions, ["red"])


def test_the_loss_reaches_every_parameter_of_the_attention_model(vocabulary):
    model = VQAAttention(small_config("attention"))
    features, ids, lengths = batch(vocabulary)
    logits, _ = model(features, ids, lengths)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 14, 7])).backward()
    for name, parameter in model.named_parameters():
        if name != "question.embedding.weight":  # only the rows of words in the batch
            assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_box_cells_marks_the_cells_a_box_overlaps():
    from t2i_core.models.vqa import box_cells

    cells = box_cells((0, 0, 10, 10), image_size=128, grid=7).reshape(7, 7)  # cells are 128 / 7 = 18.3 px wide
    assert cells[0, 0] and cells.sum() == 1
    cells = box_cells((15, 40, 40, 60), image_size=128, grid=7).reshape(7, 7)  # x 15-40: columns 0-2; y 40-60: rows 2-3
    assert cells.sum() == 6 and cells[2:4, 0:3].all()


def test_focus_loss_is_low_when_attention_is_on_the_object_and_skips_unfocused_hops():
    from t2i_core.training.vqa_task import focus_loss

    focus = torch.zeros(2, 2, 4, dtype=torch.bool)
    focus[0, 0, 1] = True  # question 0, hop 0 must look at cell 1; everything else unsupervised
    on = torch.tensor([[[0.05, 0.85, 0.05, 0.05], [0.25] * 4], [[0.25] * 4, [0.25] * 4]])
    off = torch.tensor([[[0.85, 0.05, 0.05, 0.05], [0.25] * 4], [[0.25] * 4, [0.25] * 4]])
    assert focus_loss(on, focus).item() == pytest.approx(-torch.log(torch.tensor(0.85)).item())
    assert focus_loss(off, focus) > focus_loss(on, focus)
    assert focus_loss(on, torch.zeros_like(focus)).item() == 0.0


def test_focus_loss_trains_the_first_hop_to_look_at_the_named_object(vocabulary):
    from t2i_core.training.vqa_task import focus_loss

    torch.manual_seed(0)
    model = VQAAttention(small_config("attention", hops=1))
    features, ids, lengths = batch(vocabulary)
    focus = torch.zeros(3, 1, 49, dtype=torch.bool)
    focus[:, 0, 10] = True
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        _, maps = model(features, ids, lengths)
        loss = focus_loss(maps, focus)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


def test_a_short_training_run_lowers_both_losses_and_exports_a_loadable_model(tmp_path, monkeypatch):
    import json

    from t2i_core.training import TrainConfig, train
    from t2i_core.training.vqa_task import VQATask, VQATaskConfig

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    model = VQAConfig(hidden=32, attention_dim=16, question_hidden=32, embedding_dim=16, relative_direction=True)
    task = VQATask(VQATaskConfig(train_size=32, val_size=8, per_kind=2, total_steps=80, model=model))
    run_dir = train(task, TrainConfig(output_dir=str(tmp_path / "run"), max_steps=80, batch_size=32, log_every=10, eval_every=80, save_every=80))
    logs = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [entry for entry in logs if "focus_loss" in entry]
    assert steps[-1]["answer_loss"] < steps[0]["answer_loss"]
    assert steps[-1]["focus_loss"] < steps[0]["focus_loss"]
    evaluations = [entry["eval"] for entry in logs if "eval" in entry]
    assert evaluations and 0.0 <= evaluations[-1]["val_position"] <= 1.0
    loaded = load_vqa_model(run_dir / "final")
    assert isinstance(loaded, VQAAttention) and loaded.config.vocab_size == len(task.vocabulary)


def test_a_small_runs_vocabulary_holds_every_word_of_the_training_phrasings(tmp_path, monkeypatch):
    """Two training scenes do not ask every question; their validation questions must still be readable."""
    from t2i_core.data.questions import question_vocabulary_words
    from t2i_core.training.vqa_task import VQATask, VQATaskConfig

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    task = VQATask(VQATaskConfig(train_size=2, val_size=8, model=VQAConfig(encoder="small-cnn")))
    assert set(question_vocabulary_words()) <= set(task.vocabulary.words)
    encode_questions(task.vocabulary, [q.text for q in task.val_questions])  # no unknown word


def test_attention_on_focus_is_the_share_of_each_hop_on_its_object():
    import numpy as np

    from t2i_core.data.questions import Question
    from t2i_core.data.scenes import SceneObject
    from t2i_core.evaluation.vqa import attention_on_focus

    objects = [SceneObject("circle", "red", "small", (9, 9), 8, 0.0, box=(0, 0, 18, 18)),  # cell (0, 0) of 7x7 on 128 px
               SceneObject("star", "blue", "small", (118, 118), 8, 0.0, box=(112, 112, 127, 127))]  # cell (6, 6)
    maps = np.zeros((3, 2, 49), dtype=np.float32)
    maps[0, 0, 0], maps[0, 0, 1] = 0.75, 0.25  # colour question about the circle: 0.75 on it
    maps[1, 0, 0], maps[1, 1, 48] = 1.0, 0.5  # position: reference circle, answer star
    maps[1, 1, 0] = 0.5
    questions = [Question("what color is the circle?", "red", "colour", 0, 0, focus=(0,)),
                 Question("what is right of the circle?", "star", "position", 0, 0, focus=(0, 1)),
                 Question("how many stars are there?", "1", "count", 0, 0)]
    shares = attention_on_focus(questions, [objects], maps, image_size=128)
    assert shares["hop 1"] == {"colour": 0.75, "position": 1.0, "all": 0.875}
    assert shares["hop 2"] == {"position": 0.5, "all": 0.5}


def test_the_held_out_style_is_an_evaluation_set_and_position_counts_four_object_scenes_as_reading_the_side(monkeypatch):
    """Scenes now hold up to four objects: every scene of three or more tests that the side is read."""
    import numpy as np

    import t2i_core.evaluation.vqa as vqa_evaluation
    from t2i_core.data.questions import question_vocabulary_words, scene_objects, split_questions
    from t2i_core.data.scenes import ScenesWorld

    world = ScenesWorld("heldout-style", size=40)
    monkeypatch.setattr(vqa_evaluation, "build_image_encoder", lambda name: torch.nn.Linear(1, 1))
    monkeypatch.setattr(vqa_evaluation, "split_features",
                        lambda split, size, seed, image_size, encoder: (world, np.zeros((len(world), 196, 112), np.float16)))
    vocabulary = Vocabulary.build([" ".join(question_vocabulary_words())])
    model = build_vqa_model(VQAConfig(kind="attention", vocab_size=len(vocabulary), num_answers=len(ANSWERS), hidden=32,
                                      attention_dim=16, question_hidden=24, embedding_dim=16))
    report = vqa_evaluation.evaluate_vqa(model, vocabulary, sets=["heldout-style"], size=len(world))["heldout-style"]
    scenes = scene_objects(world)
    position = [q for q in split_questions(world, "train", scenes=scenes) if q.kind == "position"]
    assert any(len(scenes[q.scene]) == 4 for q in position)
    assert report["position_three_objects_questions"] == sum(len(scenes[q.scene]) >= 3 for q in position)
