"""Compare sentence encoders on the same sentences: cosines, similarity matrices, PCA maps.

The dashboard's door into the engine. Encoders load once, by name from the registry;
``pipe(sentences)`` returns an :class:`EncoderComparisonOutput`, and every other method
takes plain strings and returns plain numbers and numpy arrays.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..registry import TEXT_ENCODERS, load_text_encoder
from ..text_encoders.base import cosine_matrix, cosine_similarity
from .text_input import MAX_SENTENCE_CHARS, MAX_SENTENCES, check_sentence, check_sentences  # noqa: F401 (re-exported)

DEFAULT_ENCODERS = ("use", "glove-avg")
MAX_UPLOAD_PAIRS = 5000
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
RESULTS_FILE = Path(__file__).resolve().parents[1] / "evaluation" / "results" / "encoders.json"


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """The first two principal components of (N, D) vectors, shape (N, 2); zeros where N < 2."""
    v = np.asarray(vectors, dtype=np.float64)
    centred = v - v.mean(axis=0, keepdims=True)
    if len(v) < 2 or not np.any(centred):
        return np.zeros((len(v), 2))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]  # (≤2, D)
    projected = centred @ components.T  # (N, ≤2)
    if projected.shape[1] < 2:
        projected = np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))
    # Fix each axis's sign so the picture does not flip between runs.
    signs = np.sign(projected[np.abs(projected).argmax(axis=0), range(2)])
    return projected * np.where(signs == 0, 1, signs)


def parse_pairs_table(data: bytes | str, max_pairs: int = MAX_UPLOAD_PAIRS) -> list[tuple[str, str]]:
    """Sentence pairs from CSV or TSV text: two columns, or columns named sentence1 and sentence2.

    The delimiter is sniffed (comma, tab or semicolon); a header row is recognised by the
    names ``sentence1``/``sentence2`` (any case). Raises ValueError with the row number
    for rows that are not two non-empty sentences.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("the file is not UTF-8 text; save it as UTF-8 CSV or TSV") from None
    if not data.strip():
        raise ValueError("the file is empty")
    first_line = data.lstrip().splitlines()[0]
    delimiter = "\t" if "\t" in first_line else ";" if first_line.count(";") > first_line.count(",") else ","
    rows = [row for row in csv.reader(io.StringIO(data), delimiter=delimiter) if any(cell.strip() for cell in row)]
    header = [cell.strip().lower() for cell in rows[0]]
    if "sentence1" in header and "sentence2" in header:
        a, b = header.index("sentence1"), header.index("sentence2")
        rows, offset = rows[1:], 2
    else:
        a, b, offset = 0, 1, 1
    pairs = []
    for number, row in enumerate(rows, start=offset):
        if len(row) <= max(a, b):
            raise ValueError(f"row {number} has {len(row)} column(s); expected two sentences")
        pairs.append((check_sentence(row[a], f"row {number}, first sentence"), check_sentence(row[b], f"row {number}, second sentence")))
    if not pairs:
        raise ValueError("the file has a header but no sentence pairs")
    if len(pairs) > max_pairs:
        raise ValueError(f"the file has {len(pairs)} pairs; the limit is {max_pairs}")
    return pairs


def spreadsheet_text(cell: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (``=HYPERLINK(...)``, ``-1+2``), with a
    leading ``'`` so that it shows as text; other text, and numbers (``-0.5`` stays a number), as they are."""
    if isinstance(cell, str) and cell.startswith(FORMULA_TRIGGERS):
        return "'" + cell
    return cell


def pairs_table_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    """The rows of :meth:`EncoderComparisonPipeline.pair_similarities` as a UTF-8 CSV file to download.

    A header of the first row's keys, then one line per row; text cells go through
    :func:`spreadsheet_text`, so a sentence typed as a formula is not run when the file is
    opened in a spreadsheet, and the cosines are written as numbers.
    """
    columns = list(rows[0]) if rows else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([spreadsheet_text(name) for name in columns])
    writer.writerows([spreadsheet_text(row[name]) for name in columns] for row in rows)
    return out.getvalue().encode("utf-8")


@dataclass
class EncoderComparisonOutput:
    """What :class:`EncoderComparisonPipeline` returns: the same sentences seen by every encoder that loaded."""

    sentences: list[str]  # (N,) the sentences, checked and stripped
    embeddings: dict[str, np.ndarray]  # encoder name -> (N, dim)
    similarities: dict[str, np.ndarray]  # encoder name -> (N, N) cosine similarities
    projections: dict[str, np.ndarray]  # encoder name -> (N, 2) PCA coordinates in that encoder's space

    def nearest_neighbours(self, index: int, k: int = 3) -> dict[str, list[tuple[int, float]]]:
        """Encoder name -> the ``k`` other sentences closest to sentence ``index``, as (index, cosine), closest first.

        The sentence itself is left out; ties keep the order of the list, so an order-swapped
        twin that ``glove-avg`` puts at cosine 1 comes first. Raises IndexError for an index
        outside the N sentences.
        """
        if not 0 <= index < len(self.sentences):
            raise IndexError(f"sentence {index} is not among the {len(self.sentences)} sentences")
        found = {}
        for name, matrix in self.similarities.items():
            row = matrix[index]  # (N,)
            order = [j for j in np.argsort(-row, kind="stable") if j != index][:k]
            found[name] = [(int(j), float(row[j])) for j in order]
        return found


@dataclass
class WordVector:
    """One token of a sentence as ``glove-avg`` sees it: its vector, or None if unknown."""

    token: str
    vector: np.ndarray | None


class EncoderComparisonPipeline:
    """``load_pipeline("encoder-comparison", encoders=["use", "glove-avg"])``.

    Encoders that cannot load here (``use-tfhub`` without TensorFlow) are skipped, with
    the reason in ``unavailable``.
    """

    def __init__(self, encoders: Sequence[str] | None = None):
        names = list(encoders) if encoders else list(DEFAULT_ENCODERS)
        self.encoders: dict[str, Any] = {}
        self.unavailable: dict[str, str] = {}
        for name in names:
            if name not in TEXT_ENCODERS:
                raise ValueError(f"unknown text encoder {name!r}; available: {', '.join(TEXT_ENCODERS.names())}")
            try:
                self.encoders[name] = load_text_encoder(name)
            except (ImportError, OSError, ValueError) as error:
                self.unavailable[name] = str(error)
        if not self.encoders:
            raise ValueError(f"none of the encoders {names} could load: {self.unavailable}")

    @property
    def encoder_names(self) -> list[str]:
        return list(self.encoders)

    def __call__(self, sentences: str | Sequence[str]) -> EncoderComparisonOutput:
        """Embeddings, cosine matrices and PCA maps of the sentences under every encoder; one sentence is a batch of one.

        Raises:
            ValueError: no sentence, too many, or one that is empty, overlong or garbled.
        """
        texts = check_sentences([sentences] if isinstance(sentences, str) else list(sentences))
        embeddings = {name: encoder.encode(texts) for name, encoder in self.encoders.items()}
        return EncoderComparisonOutput(
            sentences=texts,
            embeddings=embeddings,
            similarities={name: cosine_matrix(v) for name, v in embeddings.items()},
            projections={name: pca_2d(v) for name, v in embeddings.items()},
        )

    def embed(self, sentences: Sequence[str]) -> dict[str, np.ndarray]:
        """Encoder name -> (N, dim) embeddings of the checked sentences."""
        texts = check_sentences(sentences)
        return {name: encoder.encode(texts) for name, encoder in self.encoders.items()}

    def similarity(self, a: str, b: str) -> dict[str, float]:
        """Encoder name -> cosine similarity of two sentences."""
        vectors = self.embed([a, b])
        return {name: float(cosine_similarity(v[:1], v[1:])[0]) for name, v in vectors.items()}

    def similarity_matrix(self, sentences: Sequence[str]) -> dict[str, np.ndarray]:
        """Encoder name -> (N, N) cosine similarities."""
        return {name: cosine_matrix(v) for name, v in self.embed(sentences).items()}

    def projection(self, sentences: Sequence[str]) -> dict[str, np.ndarray]:
        """Encoder name -> (N, 2) PCA coordinates of the sentences in that encoder's space."""
        return {name: pca_2d(v) for name, v in self.embed(sentences).items()}

    def pair_similarities(self, pairs: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
        """One row per pair: ``sentence1``, ``sentence2`` and each encoder's cosine."""
        if not pairs:
            raise ValueError("no sentence pairs given")
        if len(pairs) > MAX_UPLOAD_PAIRS:
            raise ValueError(f"{len(pairs)} pairs; the limit is {MAX_UPLOAD_PAIRS}")
        firsts = [check_sentence(a, f"pair {i + 1}, first sentence") for i, (a, _) in enumerate(pairs)]
        seconds = [check_sentence(b, f"pair {i + 1}, second sentence") for i, (_, b) in enumerate(pairs)]
        rows = [{"sentence1": a, "sentence2": b} for a, b in zip(firsts, seconds)]
        for name, encoder in self.encoders.items():
            cosines = cosine_similarity(encoder.encode(firsts), encoder.encode(seconds))  # (N,)
            for row, value in zip(rows, cosines):
                row[name] = float(value)
        return rows

    def glove_word_vectors(self, text: str) -> list[WordVector]:
        """The tokens of ``text`` that ``glove-avg`` averages, each with its 50-d vector."""
        encoder = self.encoders.get("glove-avg") or load_text_encoder("glove-avg")
        return [WordVector(token, vector) for token, vector in encoder.word_vectors(check_sentence(text))]

    def benchmark_results(self, path: str | Path | None = None) -> dict[str, Any]:
        """The order-sensitivity benchmark (``eval encoders --json``), as shipped in the package."""
        path = Path(path) if path else RESULTS_FILE
        if not path.is_file():
            raise FileNotFoundError(f"no benchmark results at {path}; run: python -m t2i_core eval encoders --json -o {path}")
        return json.loads(path.read_text(encoding="utf-8"))
