"""How much word order a sentence encoder keeps: triplets, a binding probe and STS.

Three measurements, each a plain function of an encoder (a :class:`TextEncoder` or a
registered name) that returns a JSON-able dict:

- :func:`triplet_benchmark`: for (anchor, paraphrase, swap) triplets, where the swap
  uses exactly the anchor's words in another order with another meaning, is the
  paraphrase closer to the anchor than the swap? A bag of words gives every swap
  cosine 1 with its anchor, so it never is.
- :func:`binding_probe`: can a linear classifier read the petal colour and the stem
  colour of a Flowers caption from its embedding, on phrasings (held-out templates)
  and colour pairs (held-out pairs) it was not trained on?
- :func:`sts_correlation`: Pearson and Spearman correlation between cosines and gold
  similarity scores of a file in the STS-Benchmark layout.

:func:`evaluate_encoders` runs all three for several encoders, as ``python -m t2i_core
eval encoders`` does.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..data.flowers import FlowersWorld
from ..registry import TEXT_ENCODERS, load_text_encoder
from ..text_encoders.base import TextEncoder
from .formatting import Block, Table, figure, percent

DEFAULT_ENCODERS: tuple[str, ...] = ("use", "glove-avg")
BUILTIN_TRIPLETS = "data/order_triplets.jsonl"  # relative to this package
MIN_STS_PAIRS = 3
PROBE_ATTRIBUTES: tuple[str, str] = ("petal_colour", "stem_colour")
PROBE_SPLITS: tuple[str, ...] = ("test", "heldout-templates", "heldout-pairs")


# ---------------------------------------------------------------------------- triplets
@dataclass(frozen=True)
class Triplet:
    """An anchor sentence, a paraphrase of it, and a swap: its words reordered to mean something else."""

    kind: str
    anchor: str
    paraphrase: str
    swap: str


def load_triplets(path: str | Path | None = None) -> list[Triplet]:
    """Read triplets from a JSONL file, one object per line, or the built-in suite.

    Each line is ``{"anchor": ..., "paraphrase": ..., "swap": ...}`` with an optional
    ``"kind"`` (default ``"custom"``); blank lines are skipped, other keys ignored.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a malformed line (the message gives its number), or no triplets.
    """
    if path is None:
        source = "built-in suite"
        text = resources.files(__package__).joinpath(BUILTIN_TRIPLETS).read_text(encoding="utf-8")
    else:
        source = str(path)
        if not Path(path).is_file():
            raise FileNotFoundError(f"no triplets file {source!r}")
        text = Path(path).read_text(encoding="utf-8")
    triplets = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{source}, line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{where}: not valid JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise ValueError(f"{where}: expected a JSON object with anchor, paraphrase and swap, got {type(record).__name__}")
        missing = [key for key in ("anchor", "paraphrase", "swap") if key not in record]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        record.setdefault("kind", "custom")
        for key in ("kind", "anchor", "paraphrase", "swap"):
            value = record[key]
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{where}: {key} must be a non-empty string, got {value!r}")
        triplets.append(Triplet(record["kind"].strip(), record["anchor"], record["paraphrase"], record["swap"]))
    if not triplets:
        raise ValueError(f"{source}: no triplets")
    return triplets


def pair_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of (N, D) and (N, D) arrays, shape (N,); a zero vector has cosine 0.

    Computed as a.b / sqrt((a.a)(b.b)) in float64 so that identical rows give exactly
    1.0 (sqrt(x * x) == x in IEEE arithmetic): a bag of words must tie, not miss by 1e-16.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    dots = np.sum(a * b, axis=-1)
    norms = np.sqrt(np.sum(a * a, axis=-1) * np.sum(b * b, axis=-1))
    return np.where(norms > 0, dots / np.where(norms > 0, norms, 1.0), 0.0)


def _summary(cos_paraphrase: np.ndarray, cos_swap: np.ndarray) -> dict[str, Any]:
    # A tie is a miss: an encoder that cannot tell the swap from the anchor has not
    # placed the paraphrase closer.
    return {
        "n": int(len(cos_swap)),
        "mean_cosine_swap": round(float(np.mean(cos_swap)), 6),
        "mean_cosine_paraphrase": round(float(np.mean(cos_paraphrase)), 6),
        "accuracy": round(float(np.mean(cos_paraphrase > cos_swap)), 6),
    }


def _as_encoder(encoder: TextEncoder | str) -> TextEncoder:
    return load_text_encoder(encoder) if isinstance(encoder, str) else encoder


def triplet_benchmark(encoder: TextEncoder | str, triplets: Sequence[Triplet] | None = None) -> dict[str, Any]:
    """Cosines of anchor-paraphrase and anchor-swap, and how often the paraphrase wins.

    Args:
        encoder: a text encoder or a registered name.
        triplets: the suite (default: the built-in one).

    Returns:
        ``{"encoder", "n", "mean_cosine_swap", "mean_cosine_paraphrase", "accuracy",
        "by_kind": {kind: {"n", "mean_cosine_swap", "mean_cosine_paraphrase", "accuracy"}},
        "wrong": [{"kind", "anchor", "paraphrase", "swap", "cosine_paraphrase", "cosine_swap"}]}``.
        ``accuracy`` is the fraction with cosine(anchor, paraphrase) strictly greater than
        cosine(anchor, swap); a tie counts as wrong.
    """
    encoder = _as_encoder(encoder)
    triplets = load_triplets() if triplets is None else list(triplets)
    if not triplets:
        raise ValueError("no triplets to evaluate")
    sentences = list(dict.fromkeys(s for t in triplets for s in (t.anchor, t.paraphrase, t.swap)))
    vectors = encoder.encode(sentences)  # (len(sentences), dim)
    row = {s: i for i, s in enumerate(sentences)}
    anchors = vectors[[row[t.anchor] for t in triplets]]  # (N, dim)
    cos_paraphrase = pair_cosines(anchors, vectors[[row[t.paraphrase] for t in triplets]])  # (N,)
    cos_swap = pair_cosines(anchors, vectors[[row[t.swap] for t in triplets]])  # (N,)

    kinds = np.array([t.kind for t in triplets])
    by_kind = {kind: _summary(cos_paraphrase[kinds == kind], cos_swap[kinds == kind]) for kind in dict.fromkeys(kinds)}
    wrong = [
        {**asdict(t), "cosine_paraphrase": round(float(p), 6), "cosine_swap": round(float(s), 6)}
        for t, p, s in zip(triplets, cos_paraphrase, cos_swap)
        if not p > s
    ]
    return {"encoder": encoder.name, **_summary(cos_paraphrase, cos_swap), "by_kind": by_kind, "wrong": wrong}


# ------------------------------------------------------------------------ binding probe
def _flower_captions(split: str, size: int, seed: int) -> dict[str, tuple[str, str]]:
    """Distinct captions of the first ``size`` flowers of ``split`` -> (petal, stem)."""
    captions: dict[str, tuple[str, str]] = {}
    for sample in FlowersWorld(split, size=size, seed=seed).samples(render=False):
        captions[sample.caption] = (sample.attributes["petal_colour"], sample.attributes["stem_colour"])
    return captions


def binding_probe(
    encoder: TextEncoder | str,
    seed: int = 0,
    train_size: int = 3000,
    eval_size: int = 500,
    C: float = 1.0,
) -> dict[str, Any]:
    """Read petal and stem colour off caption embeddings with two linear classifiers.

    Two scikit-learn logistic regressions (8 colours each, standardised features) are
    fitted on the distinct captions of the first ``train_size`` flowers of the Flowers
    ``train`` split (seen templates, seen colour pairs) and scored on the distinct
    captions of the first ``eval_size`` flowers of ``test`` (in distribution; many of
    its captions occur in training), ``heldout-templates`` (new phrasings of seen pairs)
    and ``heldout-pairs`` (seen phrasings of colour pairs whose swapped twin was seen).

    Args:
        encoder: a text encoder or a registered name.
        seed: the Flowers world seed and the classifiers' ``random_state``.
        train_size, eval_size: flowers drawn per split (captions repeat, so fewer are encoded).
        C: inverse L2 regularisation strength of the classifiers.

    Returns:
        ``{"encoder", "seed", "test_both_right", "heldout_templates_both_right",
        "heldout_pairs_both_right", "splits": {split: {"captions", "both_right",
        "petal_colour", "stem_colour", "swapped", ...}}, "train_captions", ...}``; every
        accuracy is a fraction of distinct captions. ``swapped``: both colours predicted,
        but each in the other's place.
    """
    # scikit-learn takes seconds to import; only this probe needs it (threadpoolctl comes with it).
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    if train_size < 1 or eval_size < 1:
        raise ValueError(f"train_size and eval_size must be at least 1, got {train_size} and {eval_size}")
    encoder = _as_encoder(encoder)
    train = _flower_captions("train", train_size, seed)
    evaluated = {split: _flower_captions(split, eval_size, seed) for split in PROBE_SPLITS}

    x_train = encoder.encode(list(train))  # (n_train, dim)
    labels = np.array(list(train.values()))  # (n_train, 2): petal, stem
    classifiers = []
    for column, attribute in enumerate(PROBE_ATTRIBUTES):
        if len(set(labels[:, column])) < 2:
            raise ValueError(f"train_size {train_size} gives only one {attribute}; use more flowers")
        # A tight tol: the L2-regularised optimum is unique, and reaching it makes the
        # predictions independent of how the float sums happened to round on the way
        # (with the default tol, one held-out caption in 150 flipped between runs).
        classifier = make_pipeline(StandardScaler(), LogisticRegression(C=C, tol=1e-8, max_iter=5000, random_state=seed))
        # One BLAS thread: on a (1000, 512) problem, threads only wait on each other
        # (measured: 0.2 s with one thread against 10 s with two on a 2-core machine).
        with threadpool_limits(limits=1):
            classifiers.append(classifier.fit(x_train, labels[:, column]))

    splits = {}
    for split, captions in evaluated.items():
        x = encoder.encode(list(captions))  # (n, dim)
        truth = np.array(list(captions.values()))  # (n, 2)
        petal, stem = (classifier.predict(x) for classifier in classifiers)  # (n,) each
        petal_right, stem_right = petal == truth[:, 0], stem == truth[:, 1]
        splits[split] = {
            "captions": len(captions),
            "flowers": eval_size,
            "both_right": round(float(np.mean(petal_right & stem_right)), 6),
            "petal_colour": round(float(np.mean(petal_right)), 6),
            "stem_colour": round(float(np.mean(stem_right)), 6),
            "swapped": round(float(np.mean((petal == truth[:, 1]) & (stem == truth[:, 0]))), 6),
            "captions_seen_in_training": round(float(np.mean([c in train for c in captions])), 6),
        }
    return {
        "encoder": encoder.name,
        "seed": seed,
        "test_both_right": splits["test"]["both_right"],
        "heldout_templates_both_right": splits["heldout-templates"]["both_right"],
        "heldout_pairs_both_right": splits["heldout-pairs"]["both_right"],
        "splits": splits,
        "train_flowers": train_size,
        "train_captions": len(train),
        "classifier": f"StandardScaler + LogisticRegression(C={C}, tol=1e-8), one per attribute",
        "chance_both_right": round(1 / 56, 6),  # 8 x 7 ordered pairs of different colours
    }


# -------------------------------------------------------------------------------- STS
def load_sts(path: str | Path) -> list[tuple[float, str, str]]:
    """Read (gold score, sentence 1, sentence 2) pairs from a tab-separated file.

    Two layouts, told apart by the first row: the STS Benchmark's (genre, filename,
    year, id, score, sentence1, sentence2, and sometimes source columns after them: 7 or
    more columns) or a plain (score, sentence1, sentence2). A first row whose score is
    not a number is taken for a header; blank lines are skipped.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a malformed row (the message gives its line number), or fewer than
            ``MIN_STS_PAIRS`` pairs.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"no STS file {str(path)!r}")
    layout = None  # (columns, index of the score column)
    pairs: list[tuple[float, str, str]] = []
    first = True
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            where = f"{path}, line {number}"
            if layout is None:
                if len(fields) == 3:
                    layout = ("3 columns (score, sentence1, sentence2)", 0)
                elif len(fields) >= 7:
                    layout = ("STS Benchmark (7 columns)", 4)
                else:
                    raise ValueError(
                        f"{where}: {len(fields)} tab-separated columns; expected 3 (score, sentence1, sentence2) "
                        "or the STS Benchmark's 7 (genre, filename, year, id, score, sentence1, sentence2)"
                    )
            name, at = layout
            if (at == 0 and len(fields) != 3) or (at == 4 and len(fields) < 7):
                raise ValueError(f"{where}: {len(fields)} columns, but the file is in the {name} layout")
            try:
                score = float(fields[at])
            except ValueError:
                if first:
                    first = False
                    continue  # a header row
                raise ValueError(f"{where}: the score {fields[at]!r} is not a number") from None
            first = False
            if not math.isfinite(score):
                raise ValueError(f"{where}: the score {fields[at]!r} is not finite")
            sentence1, sentence2 = fields[at + 1].strip(), fields[at + 2].strip()
            if not sentence1 or not sentence2:
                raise ValueError(f"{where}: an empty sentence")
            pairs.append((score, sentence1, sentence2))
    if len(pairs) < MIN_STS_PAIRS:
        raise ValueError(f"{path}: {len(pairs)} sentence pairs; a correlation needs at least {MIN_STS_PAIRS}")
    return pairs


def sts_correlation(encoder: TextEncoder | str, pairs: Sequence[tuple[float, str, str]]) -> dict[str, Any]:
    """Pearson and Spearman correlation of cosine(sentence1, sentence2) with gold scores.

    Returns:
        ``{"encoder", "pearson", "spearman", "n"}``; a correlation is None when the
        cosines are all equal (it is undefined then).
    """
    from scipy import stats  # seconds to import; only the STS correlation needs it

    encoder = _as_encoder(encoder)
    if len(pairs) < MIN_STS_PAIRS:
        raise ValueError(f"{len(pairs)} sentence pairs; a correlation needs at least {MIN_STS_PAIRS}")
    gold = np.array([float(score) for score, _, _ in pairs])  # (n,)
    if np.all(gold == gold[0]):
        raise ValueError("every gold score is the same; a correlation is undefined")
    sentences = list(dict.fromkeys(s for _, s1, s2 in pairs for s in (s1, s2)))
    vectors = encoder.encode(sentences)  # (len(sentences), dim)
    row = {s: i for i, s in enumerate(sentences)}
    cosines = pair_cosines(vectors[[row[s1] for _, s1, _ in pairs]], vectors[[row[s2] for _, _, s2 in pairs]])  # (n,)
    if np.all(cosines == cosines[0]):
        pearson = spearman = None
    else:
        pearson = round(float(stats.pearsonr(cosines, gold)[0]), 6)
        spearman = round(float(stats.spearmanr(cosines, gold)[0]), 6)
    return {"encoder": encoder.name, "pearson": pearson, "spearman": spearman, "n": len(pairs)}


# --------------------------------------------------------------------------- together
def evaluate_encoders(
    names: Sequence[str] = DEFAULT_ENCODERS,
    triplets_path: str | Path | None = None,
    sts_path: str | Path | None = None,
    probe: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Run the triplets, the binding probe (unless ``probe`` is False) and STS (given a
    file) for each registered encoder in ``names``.

    Returns:
        ``{"encoders": {name: {"triplets", "probe", "sts", "seconds"}}, "config": {...}}``;
        ``probe`` and ``sts`` are None when not run. Inputs are read and checked before
        any encoder is loaded, so a bad file fails fast.
    """
    names = list(dict.fromkeys(names))
    if not names:
        raise ValueError("no encoders to evaluate")
    for name in names:
        TEXT_ENCODERS.get(name)  # a ValueError that lists what exists
    triplets = load_triplets(triplets_path)
    pairs = load_sts(sts_path) if sts_path is not None else None

    started = time.perf_counter()
    results = {}
    for name in names:
        began = time.perf_counter()
        encoder = load_text_encoder(name)
        results[name] = {
            "triplets": triplet_benchmark(encoder, triplets),
            "probe": binding_probe(encoder, seed=seed) if probe else None,
            "sts": sts_correlation(encoder, pairs) if pairs is not None else None,
            "seconds": round(time.perf_counter() - began, 2),
        }
    return {
        "encoders": results,
        "config": {
            "encoders": names,
            "triplets": "built-in" if triplets_path is None else str(triplets_path),
            "triplets_by_kind": dict(Counter(t.kind for t in triplets)),
            "sts": None if sts_path is None else str(sts_path),
            "probe": probe,
            "seed": seed,
            "seconds": round(time.perf_counter() - started, 2),
        },
    }


def report_summary(report: dict) -> list[Block]:
    """The report of :func:`evaluate_encoders` as the About tab shows it: a row per encoder,
    its order-swap and paraphrase cosines and its probe accuracies. Empty when the report holds no encoder."""
    if not report.get("encoders"):
        return []
    rows = [[f"`{name}`", figure(r["triplets"]["mean_cosine_swap"]), figure(r["triplets"]["mean_cosine_paraphrase"]),
             percent((r.get("probe") or {}).get("heldout_templates_both_right")),
             percent((r.get("probe") or {}).get("heldout_pairs_both_right"))] for name, r in report["encoders"].items()]
    return [Table(["encoder", "cosine to the order swap", "cosine to a paraphrase", "probe: new phrasings", "probe: new colour pairs"], rows)]


def report_details(report: dict, show_wrong: int = 3) -> list[Block]:
    """What ``eval encoders`` prints below the summary: triplet accuracy by kind, up to
    ``show_wrong`` wrong triplets per encoder, every probe split, STS and the seconds taken."""
    config, results = report["config"], report["encoders"]
    n = sum(config["triplets_by_kind"].values())

    def kind(k: dict) -> str:
        return f"{figure(k['accuracy'])} ({k['mean_cosine_paraphrase']:.3f}/{k['mean_cosine_swap']:.3f})"

    blocks: list[Block] = [Table(
        ["kind", "n", *results],
        [*([name, str(count), *(kind(r["triplets"]["by_kind"][name]) for r in results.values())]
           for name, count in config["triplets_by_kind"].items()),
         ["all", str(n), *(kind(r["triplets"]) for r in results.values())]],
        title=f"Word-order triplets: {n} from {config['triplets']}; accuracy (the paraphrase strictly closer than the swap), "
              f"then the mean cosine to the paraphrase / to the swap",
    )]
    for name, r in results.items():
        wrong = r["triplets"]["wrong"]
        lines = [f"{name}: {len(wrong)} of {n} triplets wrong" + (":" if wrong and show_wrong > 0 else "")]
        lines += [f"  [{w['kind']}] {w['anchor']!r}: paraphrase {w['cosine_paraphrase']:.3f}, swap {w['cosine_swap']:.3f} {w['swap']!r}"
                  for w in wrong[: max(0, show_wrong)]]
        if 0 < show_wrong < len(wrong):
            lines.append(f"  ... and {len(wrong) - show_wrong} more (--json lists them all)")
        blocks.append("\n".join(lines))
    probes = {name: r["probe"] for name, r in results.items() if r["probe"]}
    if probes:
        first = next(iter(probes.values()))
        blocks.append(Table(
            ["encoder", "test", "held-out templates", "held-out pairs", "held-out pairs swapped"],
            [[name, figure(p["test_both_right"]), figure(p["heldout_templates_both_right"]), figure(p["heldout_pairs_both_right"]),
              figure(p["splits"]["heldout-pairs"]["swapped"])] for name, p in probes.items()],
            title=f"Binding probe: petal and stem colour both right (linear probe on {first['train_captions']} train captions; "
                  f"chance {first['chance_both_right']:.3f})",
        ))
    sts = {name: r["sts"] for name, r in results.items() if r["sts"]}
    if sts:
        blocks.append(Table(["encoder", "pearson", "spearman", "pairs"],
                            [[name, figure(s["pearson"]), figure(s["spearman"]), str(s["n"])] for name, s in sts.items()],
                            title=f"STS: correlation of cosine with gold scores ({config['sts']})"))
    blocks.append("seconds: " + ", ".join(f"{name} {r['seconds']:.1f}" for name, r in results.items()))
    return blocks
