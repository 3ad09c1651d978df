"""The shipped VQA models through ``load_pipeline("vqa")`` and the CLI, with a smoke evaluation."""

import io
import json

import numpy as np
import pytest
import torch

import t2i_core
from hub_cache import build_hub_cache
from t2i_core.cli import main
from t2i_core.data.images import ImageInputError
from t2i_core.data.questions import ANSWERS, QUESTION_TYPES
from t2i_core.data.scenes import ScenesWorld
from t2i_core.evaluation import shipped_results
from t2i_core.evaluation.vqa import EVALUATION_SETS
from t2i_core.pipelines.vqa import CHECKPOINTS, EXAMPLE_QUESTIONS, VQAOutput, VQAPipeline, shipped_checkpoint

# The smoke evaluation's floor: far below the shipped model's test accuracy (see
# t2i_core/evaluation/results/vqa.json), far above what a broken checkpoint scores
# (always the commonest answer: about 0.2).
SMOKE_ACCURACY = 0.85


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def pipe():
    return t2i_core.load_pipeline("vqa", device="cpu")


@pytest.fixture(scope="module")
def scene():
    """Scene 0 of the test split, drawn once."""
    return ScenesWorld("test", size=40).sample(0)


def test_both_models_are_shipped_with_vocabulary_answers_and_training_record():
    for model in ("attention", "baseline"):
        folder = shipped_checkpoint(model)
        assert folder == CHECKPOINTS / f"vqa-{model}"
        config = json.loads((folder / "config.json").read_text())
        assert config["config"]["kind"] == model
        assert json.loads((folder / "answers.json").read_text()) == list(ANSWERS)
        assert (folder / "vocabulary.json").is_file() and (folder / "training.json").is_file()
        for path in folder.iterdir():  # weights, configs and the model card (README.md): nothing that could be unpickled
            assert path.suffix in {".json", ".safetensors"} or path.name == "README.md", path
            assert path.stat().st_size < 10 * 1024 * 1024


def test_pipeline_answers_with_top_answers_and_an_attention_map_summing_to_one(pipe, scene):
    result = pipe(scene.image, "what color is the circle?")
    assert type(result) is VQAOutput and result.questions == ["what color is the circle?"]
    answer, top_answers = result.answers[0], result.top_answers[0]
    assert answer in ANSWERS and answer == top_answers[0][0]
    assert len(top_answers) == 5
    probabilities = [p for _, p in top_answers]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1 + 1e-9
    assert result.confidences[0] == pytest.approx(probabilities[0])
    assert isinstance(result.attention, np.ndarray) and result.attention.shape == (1, 2, 7, 7)
    np.testing.assert_allclose(result.attention.sum(axis=(2, 3)), 1.0, atol=1e-9)
    assert (result.attention >= 0).all()
    assert result.overlay().size == scene.image.size and result.overlay(0, hop=0).size == scene.image.size
    (record,) = json.loads(json.dumps(result.records()))
    assert record["answer"] == answer and record["attention_shape"] == [7, 7]


def test_a_list_of_questions_gets_one_output_with_an_entry_per_question_in_order(pipe, scene):
    questions = ["is there a red circle?", "how many squares are there?", "what shape is the blue object?"]
    results = pipe(scene.image, questions)
    assert type(results) is VQAOutput and results.questions == questions
    assert len(results.answers) == len(results.images) == len(results.in_world) == 3 and results.attention.shape == (3, 2, 7, 7)
    for q, question in enumerate(questions):
        single = pipe(scene.image, question)
        assert single.answers == [results.answers[q]]
        assert single.confidences[0] == pytest.approx(results.confidences[q], abs=1e-6)


def test_a_list_of_images_is_asked_one_question_or_one_question_each(pipe, scene):
    other = ScenesWorld("test", size=40).sample(1).image
    one_question = pipe([scene.image, other], "how many objects are there?")
    assert one_question.questions == ["how many objects are there?"] * 2 and len(one_question.images) == 2
    paired = pipe([scene.image, other], ["how many objects are there?", "is there a red circle?"])
    assert paired.answers[0] == one_question.answers[0] == pipe(scene.image, "how many objects are there?").answers[0]
    assert paired.answers[1] == pipe(other, "is there a red circle?").answers[0]
    with pytest.raises(ValueError, match="2 images and 3 questions"):
        pipe([scene.image, other], ["is there a red circle?"] * 3)


def test_every_image_input_type_and_mode_gives_the_same_answer(pipe, scene, tmp_path):
    question = "how many squares are there?"
    expected = pipe(scene.image, question)
    buffer = io.BytesIO()
    scene.image.save(buffer, format="PNG")
    path = tmp_path / "scene.png"
    path.write_bytes(buffer.getvalue())
    for image in (np.asarray(scene.image), buffer.getvalue(), str(path), path, scene.image.convert("RGBA")):
        result = pipe(image, question)
        assert result.answers == expected.answers
        np.testing.assert_allclose(result.attention, expected.attention, atol=1e-6)
    # Other sizes and modes are read too (answers may differ: a grey picture is not a scene).
    assert pipe(scene.image.convert("L"), question).answers[0] in ANSWERS
    assert pipe(scene.image.resize((300, 200)), question).attention.shape == (1, 2, 7, 7)


def test_bad_questions_get_clear_errors(pipe, scene):
    with pytest.raises(ValueError, match="empty"):
        pipe(scene.image, "")
    with pytest.raises(ValueError, match="empty"):
        pipe(scene.image, "   ?")
    with pytest.raises(ValueError, match="unknown words: 'hue', 'blob'"):
        pipe(scene.image, "what hue is the blob?")
    with pytest.raises(ValueError, match="no question"):
        pipe(scene.image, [])
    with pytest.raises(TypeError):
        pipe(scene.image, 7)
    with pytest.raises(ValueError, match="top"):
        pipe(scene.image, "is there a red circle?", top=0)


def test_bad_images_get_clear_errors(pipe):
    with pytest.raises(ImageInputError):
        pipe(b"not an image", "is there a red circle?")
    with pytest.raises(ImageInputError):
        pipe("/no/such/file.png", "is there a red circle?")
    with pytest.raises(ImageInputError):
        pipe(np.zeros((4, 4, 7)), "is there a red circle?")


def test_baseline_pipeline_has_no_attention(scene):
    baseline = t2i_core.load_pipeline("vqa", model="baseline", device="cpu")
    result = baseline(scene.image, "is there a red circle?")
    assert type(result) is VQAOutput and result.answers[0] in ANSWERS
    assert result.attention is None and not result.has_attention
    assert result.records()[0]["attention"] is None
    with pytest.raises(ValueError, match="no attention"):
        result.overlay()
    with pytest.raises(ValueError, match="unknown VQA model"):
        t2i_core.load_pipeline("vqa", model="transformer")


def test_example_questions_use_only_known_words(pipe, scene):
    for question in EXAMPLE_QUESTIONS:
        assert pipe(scene.image, question).answers[0] in ANSWERS


def test_from_pretrained_loads_the_model_its_vocabulary_and_answers_from_a_folder_or_a_hub_id(pipe, scene, tmp_path):
    question = "what shape is the red object?"
    expected = pipe(scene.image, question)
    from_folder = VQAPipeline.from_pretrained(shipped_checkpoint("attention"), device="cpu")
    assert type(from_folder(scene.image, question)) is VQAOutput
    assert from_folder(scene.image, [question, question]).answers == expected.answers * 2
    build_hub_cache(tmp_path / "hub", "t2i-core/vqa-attention", shipped_checkpoint("attention"))
    from_hub = VQAPipeline.from_pretrained("t2i-core/vqa-attention", device="cpu", cache_dir=tmp_path / "hub", local_files_only=True)
    assert from_hub.answers == list(ANSWERS) and from_hub.vocabulary == pipe.vocabulary
    result = from_hub(scene.image, question)
    assert result.answers == expected.answers
    np.testing.assert_array_equal(result.attention, expected.attention)


def test_cli_answers_with_json_and_exits_2_on_unknown_words(scene, tmp_path, capsys):
    path = tmp_path / "scene.png"
    scene.image.save(path)
    assert main(["vqa", str(path), "what shape is the red object?", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["answer"] in ANSWERS and len(record["top_answers"]) == 5
    assert np.isclose(np.sum(record["attention"]), 1.0, atol=1e-3)
    assert main(["vqa", str(path), "what hue is the blob?"]) == 2
    assert "unknown words: 'hue', 'blob'" in capsys.readouterr().err
    assert main(["vqa", str(tmp_path / "missing.png"), "is there a star?"]) == 2


def test_eval_cli_reports_every_question_type_for_both_models(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path / "cache"))
    output = tmp_path / "vqa.json"
    assert main(["eval", "vqa", "-n", "3", "--sets", "test", "heldout-phrasings", "--json", "-o", str(output)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads(output.read_text())
    assert set(report["models"]) == {"attention", "baseline"}
    for model in report["models"].values():
        assert set(model["results"]) == {"test", "heldout-phrasings"}
        assert model["results"]["test"]["scenes"] == 3
        assert 0.0 <= model["results"]["test"]["accuracy"] <= 1.0
    focus = report["models"]["attention"]["results"]["test"]["attention_on_focus"]
    assert 0.0 <= focus["hop 1"]["all"] <= 1.0
    assert "attention_on_focus" not in report["models"]["baseline"]["results"]["test"]
    assert main(["eval", "vqa", "--sets", "nope", "-n", "2"]) == 2


def test_smoke_evaluation_of_the_shipped_attention_model(tmp_path, monkeypatch):
    """About 200 test questions (two of each type on 25 scenes): a broken or mismatched checkpoint falls far below the floor."""
    from t2i_core.data.vocabulary import Vocabulary
    from t2i_core.evaluation.vqa import evaluate_vqa
    from t2i_core.pipelines.vqa import load_checked_model

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path))
    folder = shipped_checkpoint("attention")
    report = evaluate_vqa(load_checked_model(folder), Vocabulary.load(folder), sets=["test"], size=25, per_kind=2)["test"]
    assert report["questions"] >= 180
    assert set(report["per_type"]) == set(QUESTION_TYPES)
    assert report["accuracy"] >= SMOKE_ACCURACY, report


@pytest.fixture(scope="module")
def shipped_report():
    report = shipped_results("vqa")
    assert report is not None, "t2i_core/evaluation/results/vqa.json is missing"
    return report


def test_shipped_report_covers_both_models_every_set_and_every_type(shipped_report):
    for model in ("attention", "baseline"):
        results = shipped_report["models"][model]["results"]
        assert set(results) == set(EVALUATION_SETS)  # test, held-out phrasings, combinations and style
        assert results["test"]["scenes"] == 2000 and results["test"]["questions"] >= 8000
        for result in results.values():
            assert set(result["per_type"]) == set(QUESTION_TYPES)


def test_shipped_attention_model_meets_the_overall_target_and_beats_the_baseline(shipped_report):
    attention = shipped_report["models"]["attention"]["results"]["test"]
    baseline = shipped_report["models"]["baseline"]["results"]["test"]
    assert attention["accuracy"] >= 0.95
    for kind in ("colour", "shape", "count", "exist"):
        assert attention["per_type"][kind] >= 0.85, kind
    assert attention["accuracy"] > baseline["accuracy"]


def test_shipped_attention_model_meets_the_position_target_and_reads_the_side(shipped_report):
    attention = shipped_report["models"]["attention"]["results"]["test"]
    assert attention["per_type"]["position"] >= 0.85
    # Three-object scenes are where the side matters (two-object scenes answer by elimination).
    assert attention["position_three_objects"] >= 0.85
    assert attention["position_three_objects"] > shipped_report["models"]["baseline"]["results"]["test"]["position_three_objects"] + 0.2


def test_smoke_position_questions_on_three_object_scenes(tmp_path, monkeypatch):
    """The shipped attention model reads left, right, above and below where elimination cannot answer (chance: 0.5)."""
    from t2i_core.data.questions import scene_questions
    from t2i_core.data.vocabulary import Vocabulary
    from t2i_core.evaluation.vqa import answer_questions, split_features
    from t2i_core.pipelines.vqa import load_checked_model

    monkeypatch.setenv("T2I_CACHE_DIR", str(tmp_path))
    folder = shipped_checkpoint("attention")
    world, features = split_features("test", 60)
    scenes = [world.sample(i, render=False).objects for i in range(len(world))]
    questions = [q for i, objects in enumerate(scenes) if len(objects) >= 3
                 for q in scene_questions(objects, i, "test", per_kind=3, kinds=["position"])]
    assert len(questions) >= 30
    probabilities, _ = answer_questions(load_checked_model(folder), Vocabulary.load(folder), features,
                                           [q.scene for q in questions], [q.text for q in questions])
    accuracy = np.mean([ANSWERS[i] == q.answer for i, q in zip(probabilities.argmax(1), questions)])
    assert accuracy >= 0.85, accuracy
