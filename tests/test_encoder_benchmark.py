"""The encoder benchmark: order-swap triplets, the colour-binding probe, STS, and ``eval encoders``."""

import json
from collections import Counter
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from t2i_core import load_text_encoder
from t2i_core.cli import main
from t2i_core.evaluation import (
    Triplet,
    binding_probe,
    evaluate_encoders,
    load_sts,
    load_triplets,
    sts_correlation,
    triplet_benchmark,
)
from t2i_core.text_encoders.base import TextEncoder
from t2i_core.text_encoders.glove import tokenize

ROOT = Path(__file__).resolve().parents[1]
REQUIRED_KINDS = ("attribute", "role", "spatial", "comparison", "negation")


class LookupEncoder(TextEncoder):
    """A fake encoder that returns the vector it was given for each sentence."""

    name = "lookup"
    dim = 2

    def __init__(self, vectors: dict[str, tuple[float, float]]):
        super().__init__(cache_size=0)
        self.vectors = vectors

    def _encode_batch(self, texts):
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)


class ConstantEncoder(TextEncoder):
    """A fake encoder that gives every sentence the same vector."""

    name = "constant"
    dim = 3

    def _encode_batch(self, texts):
        return np.ones((len(texts), self.dim), dtype=np.float32)


@pytest.fixture(scope="module")
def use():
    return load_text_encoder("use")


@pytest.fixture(scope="module")
def glove():
    return load_text_encoder("glove-avg")


# ---------------------------------------------------------------------- built-in suite
def test_builtin_suite_has_enough_triplets_of_every_kind():
    triplets = load_triplets()
    counts = Counter(t.kind for t in triplets)
    assert len(triplets) >= 72
    assert set(REQUIRED_KINDS) <= set(counts)
    assert all(n >= 12 for n in counts.values()), counts
    assert len({t.anchor for t in triplets}) == len(triplets), "an anchor appears twice"
    # Shipped as package data, found without a path.
    shipped = resources.files("t2i_core.evaluation").joinpath("data/order_triplets.jsonl")
    assert load_triplets(shipped) == triplets


def test_every_swap_is_a_permutation_of_its_anchor():
    for t in load_triplets():
        assert Counter(tokenize(t.swap)) == Counter(tokenize(t.anchor)), t
        assert tokenize(t.swap) != tokenize(t.anchor), f"the swap does not reorder: {t}"
        # A paraphrase with the anchor's very words would tie a bag of words with the swap.
        assert Counter(tokenize(t.paraphrase)) != Counter(tokenize(t.anchor)), t


# ---------------------------------------------------------------------------- triplets
def test_glove_average_is_identical_for_order_swapped_sentences(glove):
    triplets = load_triplets()
    for t in triplets:
        anchor, swap = glove.encode([t.anchor, t.swap])
        assert np.array_equal(anchor, swap), t
    report = triplet_benchmark(glove, triplets)
    assert report["mean_cosine_swap"] == 1.0
    assert all(w["cosine_swap"] == 1.0 for w in report["wrong"])
    # A swap at cosine 1 can never lose to the paraphrase: every triplet is a miss, below chance (0.5).
    assert report["accuracy"] == 0.0 and len(report["wrong"]) == len(triplets)
    assert all(k["accuracy"] == 0.0 for k in report["by_kind"].values())


def test_use_separates_swaps_from_anchors(use):
    triplets = load_triplets()
    report = triplet_benchmark(use, triplets)
    assert report["encoder"] == "use" and report["n"] == len(triplets)
    for t in triplets:
        anchor, swap = use.encode([t.anchor, t.swap])
        assert float(anchor @ swap) < 1 - 1e-4, t  # USE vectors are unit length
    assert report["mean_cosine_swap"] < 1.0
    assert sum(k["n"] for k in report["by_kind"].values()) == len(triplets)
    assert len(report["wrong"]) == round((1 - report["accuracy"]) * len(triplets))


def test_tie_counts_as_a_miss():
    triplets = [Triplet("attribute", "a red cup", "a cup that is red", "red a cup")]
    report = triplet_benchmark(ConstantEncoder(), triplets)
    assert report["accuracy"] == 0.0
    assert report["wrong"] == [
        {"kind": "attribute", "anchor": "a red cup", "paraphrase": "a cup that is red", "swap": "red a cup",
         "cosine_paraphrase": 1.0, "cosine_swap": 1.0}
    ]


def test_accuracy_means_and_kinds_from_known_cosines():
    vectors = {"a1": (1, 0), "p1": (1, 1), "s1": (0, 1), "a2": (1, 0), "p2": (0, 1), "s2": (1, 1), "a3": (1, 0), "p3": (1, 0), "s3": (-1, 0)}
    triplets = [Triplet("role", "a1", "p1", "s1"), Triplet("role", "a2", "p2", "s2"), Triplet("spatial", "a3", "p3", "s3")]
    report = triplet_benchmark(LookupEncoder(vectors), triplets)
    half = 1 / np.sqrt(2)
    assert report["accuracy"] == pytest.approx(2 / 3, abs=1e-6)
    assert report["mean_cosine_paraphrase"] == pytest.approx((half + 0 + 1) / 3, abs=1e-6)
    assert report["mean_cosine_swap"] == pytest.approx((0 + half - 1) / 3, abs=1e-6)
    assert report["by_kind"]["role"] == {"n": 2, "mean_cosine_swap": pytest.approx(half / 2, abs=1e-6),
                                         "mean_cosine_paraphrase": pytest.approx(half / 2, abs=1e-6), "accuracy": 0.5}
    assert report["by_kind"]["spatial"]["accuracy"] == 1.0
    assert [w["anchor"] for w in report["wrong"]] == ["a2"]


def test_user_triplets_file_and_malformed_lines(tmp_path):
    good = tmp_path / "mine.jsonl"
    good.write_text(
        '{"anchor": "the cat chased the dog", "paraphrase": "the dog was chased by the cat", "swap": "the dog chased the cat"}\n'
        "\n"
        '{"kind": "spatial", "anchor": "a above b", "paraphrase": "b below a", "swap": "b above a", "note": "ignored"}\n'
    )
    triplets = load_triplets(good)
    assert [t.kind for t in triplets] == ["custom", "spatial"]
    assert triplets[1] == Triplet("spatial", "a above b", "b below a", "b above a")

    first = '{"anchor": "x y", "paraphrase": "x and y", "swap": "y x"}\n'
    bad_lines = {
        '{"anchor": "x", "paraphrase": "y"': "line 2: not valid JSON",
        '{"anchor": "x y", "paraphrase": "x and y"}': "line 2: missing swap",
        '{"anchor": "x y", "paraphrase": "", "swap": "y x"}': "line 2: paraphrase must be a non-empty string",
        '{"anchor": 3, "paraphrase": "x", "swap": "y x"}': "line 2: anchor must be a non-empty string",
        '["x y", "x and y", "y x"]': "line 2: expected a JSON object",
    }
    for line, message in bad_lines.items():
        bad = tmp_path / "bad.jsonl"
        bad.write_text(first + line + "\n")
        with pytest.raises(ValueError, match=message):
            load_triplets(bad)
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(ValueError, match="no triplets"):
        load_triplets(tmp_path / "empty.jsonl")
    with pytest.raises(FileNotFoundError):
        load_triplets(tmp_path / "missing.jsonl")


# --------------------------------------------------------------------------------- STS
def _known_cosine_pairs():
    """Ten pairs whose fake cosines are known; the gold is a monotone, non-linear function of them."""
    cosines = np.array([0.9, -0.3, 0.5, 0.1, 0.7, -0.8, 0.3, 0.0, -0.5, 0.95])
    gold = np.round(5 * ((cosines + 1) / 2) ** 3, 4)
    vectors, pairs = {}, []
    for i, (c, g) in enumerate(zip(cosines, gold)):
        vectors[f"left {i}"] = (1.0, 0.0)
        vectors[f"right {i}"] = (float(c), float(np.sqrt(1 - c * c)))
        pairs.append((float(g), f"left {i}", f"right {i}"))
    return cosines, gold, vectors, pairs


def test_sts_correlation_on_a_small_file(tmp_path, use):
    cosines, gold, vectors, pairs = _known_cosine_pairs()
    three = tmp_path / "three.tsv"
    three.write_text("score\tsentence1\tsentence2\n" + "".join(f"{g}\t{a}\t{b}\n" for g, a, b in pairs))
    seven = tmp_path / "sts-b.tsv"
    seven.write_text("".join(
        f"main-captions\tMSRvid\t2012test\t{i:04d}\t{g}\t{a}\t{b}" + ("\tsource1\tsource2" if i % 3 == 0 else "") + "\n"
        for i, (g, a, b) in enumerate(pairs)
    ))
    assert load_sts(three) == load_sts(seven) == [(pytest.approx(g), a, b) for g, a, b in pairs]

    report = sts_correlation(LookupEncoder(vectors), load_sts(seven))
    assert report["n"] == 10
    assert report["pearson"] == pytest.approx(np.corrcoef(cosines, gold)[0, 1], abs=1e-5)
    assert report["pearson"] < 0.999
    assert report["spearman"] == pytest.approx(1.0, abs=1e-6)  # same order, different spacing
    reversed_gold = [(-g, a, b) for g, a, b in pairs]
    assert sts_correlation(LookupEncoder(vectors), reversed_gold)["spearman"] == pytest.approx(-1.0, abs=1e-6)

    real = tmp_path / "real.tsv"
    real.write_text(
        "5.0\ta man is playing a guitar\ta man plays the guitar\n"
        "4.6\ta woman is slicing an onion\ta woman cuts an onion\n"
        "4.2\ta dog runs across the grass\ta dog is running on a lawn\n"
        "3.8\ttwo children are playing football\tkids are playing soccer\n"
        "3.0\ta cat sleeps on the sofa\ta cat is lying on a bed\n"
        "2.4\ta man is cooking pasta\ta man is eating pasta\n"
        "1.6\ta girl is riding a horse\ta girl is feeding a horse\n"
        "1.0\tthe train arrives at the station\ta bus leaves the station\n"
        "0.4\ta bird sings in the tree\tthe stock market fell today\n"
        "0.0\ta woman is reading a book\tthe engine needs new oil\n"
    )
    report = sts_correlation(use, load_sts(real))
    assert report["pearson"] > 0.5 and report["spearman"] > 0.5


def test_sts_rejects_malformed_rows_and_too_few_pairs(tmp_path):
    cases = {
        "1.0\ta\tb\n2.0\tonly two columns\n": "line 2: 2 columns",
        "1.0\ta\tb\n\n2.0\tc\td\nhigh\te\tf\n": "line 4: the score 'high' is not a number",
        "one\ttwo\n": "line 1: 2 tab-separated columns",
        "g\tf\ty\t1\t2.0\ta\tb\ng\tf\ty\t2\t3.0\tc\n": "line 2: 6 columns",
        "1.0\ta\tb\n2.0\t\tc\n3.0\td\te\n": "line 2: an empty sentence",
        "score\ts1\ts2\n1.0\ta\tb\n2.0\tc\td\n": "2 sentence pairs; a correlation needs at least 3",
    }
    for i, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"case{i}.tsv"
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_sts(path)
    with pytest.raises(FileNotFoundError):
        load_sts(tmp_path / "missing.tsv")
    with pytest.raises(ValueError, match="every gold score is the same"):
        sts_correlation(ConstantEncoder(), [(1.0, "a", "b"), (1.0, "c", "d"), (1.0, "e", "f")])


# ------------------------------------------------------------------------------- probe
def test_probe_reports_heldout_accuracies(glove):
    report = binding_probe(glove, seed=0, train_size=800, eval_size=200)
    assert report["encoder"] == "glove-avg" and report["train_captions"] <= 800
    for key in ("test_both_right", "heldout_templates_both_right", "heldout_pairs_both_right"):
        assert 0.0 <= report[key] <= 1.0
    for scores in report["splits"].values():
        assert 0 < scores["captions"] <= 200
        assert scores["both_right"] <= min(scores["petal_colour"], scores["stem_colour"])
        assert 0.0 <= scores["swapped"] <= 1.0 - scores["both_right"]
    assert report["splits"]["heldout-pairs"]["captions_seen_in_training"] == 0.0
    # A held-out pair's swapped twin was in training with the very same bag of words:
    # averaged vectors answer with the twin, so both colours are rarely right.
    assert report["heldout_pairs_both_right"] < 0.2
    assert report["splits"]["heldout-pairs"]["swapped"] > 0.5
    # In distribution, a bag of words knows the two colours but not which is which.
    assert report["test_both_right"] < 0.75
    assert binding_probe(glove, seed=0, train_size=800, eval_size=200) == report


# --------------------------------------------------------------------------------- CLI
def test_eval_encoders_cli_json(tmp_path, capsys):
    triplets = tmp_path / "t.jsonl"
    triplets.write_text(
        '{"kind": "role", "anchor": "the dog chased the cat", "paraphrase": "the cat was chased by the dog", "swap": "the cat chased the dog"}\n'
        '{"kind": "spatial", "anchor": "a cup on a book", "paraphrase": "a book under a cup", "swap": "a book on a cup"}\n'
    )
    sts = tmp_path / "s.tsv"
    sts.write_text("5\ta dog runs\ta dog is running\n0\ta dog runs\tthe market fell\n2.5\ta cat sleeps\ta cat eats\n")
    output = tmp_path / "out" / "report.json"
    args = ["eval", "encoders", "--encoders", "glove-avg", "--triplets", str(triplets), "--sts", str(sts), "--no-probe"]
    assert main([*args, "--json", "-o", str(output)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert json.loads(output.read_text()) == report
    result = report["encoders"]["glove-avg"]
    assert result["probe"] is None
    assert result["triplets"]["n"] == 2 and result["triplets"]["accuracy"] == 0.0
    assert set(result["triplets"]["by_kind"]) == {"role", "spatial"}
    assert result["sts"]["n"] == 3 and -1 <= result["sts"]["pearson"] <= 1
    assert report["config"]["triplets"] == str(triplets) and report["config"]["probe"] is False

    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Word-order triplets: 2" in text and "glove-avg" in text and "STS" in text

    assert main(["eval", "encoders", "--encoders", "no-such-encoder", "--no-probe"]) == 2
    assert "unknown text encoder 'no-such-encoder'" in capsys.readouterr().err
    triplets.write_text('{"anchor": "a b"}\n')
    assert main(["eval", "encoders", "--encoders", "glove-avg", "--no-probe", "--triplets", str(triplets)]) == 2
    assert "line 1: missing paraphrase, swap" in capsys.readouterr().err


def test_evaluate_encoders_runs_the_builtin_suite_for_the_dashboard():
    report = evaluate_encoders(["glove-avg"], probe=False)
    result = report["encoders"]["glove-avg"]
    assert set(result) >= {"triplets", "probe", "sts"}
    assert result["triplets"]["n"] == len(load_triplets()) and result["sts"] is None
    assert report["config"]["triplets"] == "built-in"


def test_shipped_results_cover_the_default_encoders():
    shipped = json.loads((ROOT / "t2i_core" / "evaluation" / "results" / "encoders.json").read_text())
    assert set(shipped["encoders"]) >= {"use", "glove-avg"}
    for result in shipped["encoders"].values():
        assert result["triplets"]["n"] == len(load_triplets())
        assert 0 <= result["probe"]["heldout_templates_both_right"] <= 1
    assert shipped["encoders"]["glove-avg"]["triplets"]["accuracy"] == 0.0
