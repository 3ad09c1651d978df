"""Visual question answering: an image grid and a question in, a distribution over answers out.

Both models read the grid of a frozen image encoder (the captioner's EfficientNet-Lite0,
14x14 cells of 112 features, see :mod:`~t2i_core.models.image_encoders`), so the grid of
every training image is computed once and cached; only the heads below are trained.

- :class:`QuestionEncoder`: word embeddings and an LSTM; the last state is the question.
- :class:`VQABaseline` (Antol et al., 2015, "deeper LSTM Q + norm I" without the depth):
  one image vector (a 1x1 convolution over the grid, then the mean over cells) and the
  question vector, each projected to ``hidden`` with tanh, fused by element-wise product,
  then a fully connected layer and a softmax over the answers. It has no attention and no
  idea where a cell is.
- :class:`VQAAttention` (Yang et al., 2016, stacked attention networks): every cell is
  projected to ``hidden`` with its (x, y) coordinates, so attention can read places. The
  question vector queries the cells with :class:`~t2i_core.models.attention.SoftAttention`
  (additive score); the attended context is added to the query, and the refined query
  attends again (``hops`` times). The answer is read from the last query and, per hop, the
  element-wise product of query and context (whether what was found is what was asked,
  which existence questions need), and the baseline's fusion below (the mean of the cells
  times the question: how much of what was asked is anywhere, which counting needs). Because a
  softmax map sums to 1 whatever it covers, it cannot say how many cells matched; so
  each hop also passes the answer layer its *mass*, the sum over cells of
  sigmoid(score), which grows with how much of the image matched (Zhang et al., 2018
  count from unnormalised attention the same way). Hops after the first also score each
  cell by its offset from where the previous hop looked, so "left of the triangle" can be
  found from the triangle; with ``relative_direction`` the query also names a direction
  (a 2-vector), and each cell's score gains its offset along it, so the cell furthest on
  the asked side wins among those the content score picks out.

``forward`` returns logits (B, num_answers) and, for the attention model, the maps
(B, hops, N), each summing to 1.

What a model needs to be asked something lives here too: :func:`encode_questions` turns
questions into ids (refusing unknown words by name), :func:`check_encoder` refuses grids
from other encoder weights than the model was trained on, and the answer of each output
is saved beside the weights (:func:`save_answers`, :func:`load_answers`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..checkpoint import PretrainedModel, read_config_file
from ..data.questions import ANSWERS
from ..data.vocabulary import Vocabulary, read_string_list, tokenize
from .attention import SoftAttention

VQA_MODELS = ("attention", "baseline")
ANSWERS_FILE = "answers.json"  # the answer of each output, saved beside the weights


@dataclass
class VQAConfig:
    """Sizes of a VQA model; saved as ``config.json`` next to the weights."""

    kind: str = "attention"  # "attention" (stacked attention) or "baseline" (element-wise product fusion)
    vocab_size: int = 64  # question words, with the 4 special tokens
    num_answers: int = 18
    encoder: str = "efficientnet-lite0"  # the frozen image encoder whose grid the model reads
    encoder_digest: str = ""  # weights_digest of that encoder when trained: its features must match
    image_size: int = 128  # images are resized to this before the encoder, as in training
    grid_size: int = 14  # the encoder's grid
    feature_dim: int = 112
    pool: int = 2  # the attention model averages pool x pool cells first: a 7x7 grid, 4x cheaper
    embedding_dim: int = 64
    question_hidden: int = 128
    hidden: int = 128  # the common size of image and question vectors (and of the cells)
    attention_dim: int = 128
    hops: int = 2
    hop_products: bool = True  # the answer layer also reads each hop's query x context
    global_vector: bool = True  # ... and the baseline's fusion: mean of the cells x the question
    relative_places: bool = True  # hops after the first also see each cell's place relative to where the previous hop looked
    # ... and add to each cell's score its offset along a direction the query names
    # (False in configs saved before it existed; `train vqa` turns it on)
    relative_direction: bool = False
    dropout: float = 0.1
    max_question_words: int = 30  # longer questions are refused

    def __post_init__(self):
        if self.kind not in VQA_MODELS:
            raise ValueError(f"unknown VQA model {self.kind!r}; choose one of {VQA_MODELS}")
        if self.pool < 1 or self.grid_size % self.pool:
            raise ValueError(f"pool must divide the grid size {self.grid_size}, got {self.pool}")
        if self.hops < 1:
            raise ValueError(f"hops must be at least 1, got {self.hops}")


class QuestionEncoder(nn.Module):
    """Word ids -> the LSTM's last hidden state."""

    def __init__(self, config: VQAConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(config.embedding_dim, config.question_hidden, batch_first=True)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ids (B, T) right-padded with 0, lengths (B,) -> (B, question_hidden)."""
        embedded = self.dropout(self.embedding(ids))  # (B, T, E)
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (hidden, _) = self.lstm(packed)  # hidden (1, B, Hq)
        return hidden[0]


def cell_coordinates(grid_size: int) -> torch.Tensor:
    """(grid * grid, 2): each cell's (x, y) centre in [-1, 1], row-major (row 0 at the top)."""
    centres = (torch.arange(grid_size, dtype=torch.float32) + 0.5) / grid_size * 2 - 1
    y, x = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack([x.flatten(), y.flatten()], dim=1)


def box_cells(box: tuple[int, int, int, int], image_size: int, grid: int) -> np.ndarray:
    """(grid * grid,) bool, row-major: the cells of a ``grid`` x ``grid`` split of the image that a box (x0, y0, x1, y1) overlaps."""
    edges = np.arange(grid + 1) * image_size / grid
    x0, y0, x1, y1 = box
    columns = (edges[1:] > x0) & (edges[:-1] < x1)  # (grid,)
    rows = (edges[1:] > y0) & (edges[:-1] < y1)  # (grid,)
    return (rows[:, None] & columns[None, :]).reshape(-1)


def pool_grid(features: torch.Tensor, grid_size: int, pool: int) -> torch.Tensor:
    """Average ``pool`` x ``pool`` blocks of cells: (B, grid * grid, D) -> (B, (grid / pool) ** 2, D)."""
    if pool == 1:
        return features
    batch, _, dim = features.shape
    grid = features.transpose(1, 2).reshape(batch, dim, grid_size, grid_size)  # (B, D, grid, grid)
    pooled = F.avg_pool2d(grid, pool)  # (B, D, grid / pool, grid / pool)
    return pooled.flatten(2).transpose(1, 2)


class VQABaseline(PretrainedModel):
    """Image vector x question vector (element-wise), a fully connected layer, answer logits."""

    config_class = VQAConfig
    model_type = "vqa-baseline"

    def __init__(self, config: VQAConfig):
        super().__init__()
        self.config = config
        self.question = QuestionEncoder(config)
        self.cells = nn.Sequential(nn.Linear(config.feature_dim, config.hidden), nn.ReLU())  # a 1x1 convolution
        self.image_projection = nn.Linear(config.hidden, config.hidden)
        self.question_projection = nn.Linear(config.question_hidden, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.classifier = nn.Linear(config.hidden, config.num_answers)

    def forward(self, features: torch.Tensor, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, None]:
        """features (B, N, feature_dim), ids (B, T), lengths (B,) -> logits (B, num_answers), None."""
        image = self.cells(features).mean(dim=1)  # (B, hidden): one vector for the whole image
        image = torch.tanh(self.image_projection(image))  # (B, hidden)
        question = torch.tanh(self.question_projection(self.question(ids, lengths)))  # (B, hidden)
        fused = self.dropout(image * question)  # (B, hidden)
        return self.classifier(fused), None


class VQAAttention(PretrainedModel):
    """Stacked attention over the grid: ``hops`` rounds of attend-and-add, then answer logits."""

    config_class = VQAConfig
    model_type = "vqa-attention"

    def __init__(self, config: VQAConfig):
        super().__init__()
        self.config = config
        self.question = QuestionEncoder(config)
        self.question_projection = nn.Linear(config.question_hidden, config.hidden)
        # Each cell with its place: (features, x, y) -> hidden.
        self.cells = nn.Sequential(
            nn.Linear(config.feature_dim + 2, config.hidden), nn.ReLU(), nn.Linear(config.hidden, config.hidden), nn.Tanh()
        )
        self.attention_grid = config.grid_size // config.pool
        self.register_buffer("coordinates", cell_coordinates(self.attention_grid), persistent=False)
        # With relative places, later hops score keys (cell, dx, dy): dx, dy from the previous hop's centre of attention.
        extra = 2 if config.relative_places else 0
        self.hops = nn.ModuleList(
            SoftAttention(config.hidden + (extra if k else 0), config.hidden, config.attention_dim, score="additive")
            for k in range(config.hops)
        )
        if config.relative_direction:
            # Query -> a direction (dx, dy) in grid units; a cell's score gains offset . direction.
            self.directions = nn.ModuleList(nn.Linear(config.hidden, 2) for _ in range(config.hops - 1))
        if config.global_vector:
            self.global_cells = nn.Sequential(nn.Linear(config.feature_dim, config.hidden), nn.ReLU())  # a 1x1 convolution
            self.global_projection = nn.Linear(config.hidden, config.hidden)
        self.dropout = nn.Dropout(config.dropout)
        # The answer reads the last query, each hop's query x context (does what was found match
        # what was asked?) and each hop's mass.
        self.classifier = nn.Sequential(
            nn.Linear(config.hidden * (1 + config.hops * config.hop_products + config.global_vector) + config.hops, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, config.num_answers),
        )

    def forward(self, features: torch.Tensor, ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """features (B, N, feature_dim), ids (B, T), lengths (B,) -> logits (B, num_answers), maps (B, hops, M).

        M = (grid_size / pool) ** 2 attention cells, row-major.
        """
        features = pool_grid(features, self.config.grid_size, self.config.pool)  # (B, M, feature_dim)
        batch, cells, _ = features.shape
        places = self.coordinates.to(features.dtype).unsqueeze(0).expand(batch, cells, 2)  # (B, N, 2)
        values = self.cells(torch.cat([features, places], dim=2))  # (B, N, hidden)
        question = torch.tanh(self.question_projection(self.question(ids, lengths)))  # (B, hidden)
        query = question
        maps, matches, masses = [], [], []
        for hop, attention in enumerate(self.hops):
            keys, offsets = values, None
            if hop and (self.config.relative_places or self.config.relative_direction):
                centre = torch.bmm(maps[-1].unsqueeze(1), places).squeeze(1)  # (B, 2): where the last hop looked
                offsets = places - centre.unsqueeze(1)  # (B, M, 2)
            if hop and self.config.relative_places:
                keys = torch.cat([values, offsets], dim=2)  # (B, M, hidden + 2)
            prepared = attention.prepare(keys)  # (B, M, attention_dim)
            scores = attention.score(prepared, query)  # (B, M): how well each cell matches the query
            located = scores
            if hop and self.config.relative_direction:
                direction = self.directions[hop - 1](query)  # (B, 2)
                located = scores + torch.bmm(offsets, direction.unsqueeze(2)).squeeze(2) * self.attention_grid  # (B, M)
            weights = torch.softmax(located, dim=1)  # (B, M)
            context = torch.bmm(weights.unsqueeze(1), values).squeeze(1)  # (B, hidden)
            # The unnormalised match of every cell, summed: how much matched (the softmax hides it).
            masses.append(torch.sigmoid(scores).sum(dim=1, keepdim=True) / cells * 10)  # (B, 1), about 0-10
            matches.append(query * context)  # (B, hidden)
            query = query + context  # (B, hidden)
            maps.append(weights)
        parts = [query, *(matches if self.config.hop_products else [])]
        if self.config.global_vector:
            image = torch.tanh(self.global_projection(self.global_cells(features).mean(dim=1)))  # (B, hidden)
            parts.append(image * question)  # the baseline's fusion: how much of what was asked is anywhere
        answer = self.dropout(torch.cat(parts, dim=1))  # (B, hidden * (1 + hops * hop_products + global_vector))
        answer = torch.cat([answer, *masses], dim=1)  # (B, hidden * (1 + hops) + hops)
        return self.classifier(answer), torch.stack(maps, dim=1)  # (B, num_answers), (B, hops, N)


def build_vqa_model(config: VQAConfig) -> VQABaseline | VQAAttention:
    """The model ``config.kind`` names."""
    return VQAAttention(config) if config.kind == "attention" else VQABaseline(config)


def load_vqa_model(folder, device="cpu") -> VQABaseline | VQAAttention:
    """Either VQA model from its checkpoint folder (the kind is read from ``config.json``)."""
    kind = read_config_file(Path(folder)).get("model_type")
    cls = {VQAAttention.model_type: VQAAttention, VQABaseline.model_type: VQABaseline}.get(kind)
    if cls is None:
        raise ValueError(f"{str(folder)!r} holds a {kind!r} checkpoint, not a VQA model")
    return cls.from_pretrained(folder, device=device)


def save_answers(folder: Path) -> None:
    """Write the answer list (:data:`~t2i_core.data.questions.ANSWERS`) beside a model's weights."""
    (Path(folder) / ANSWERS_FILE).write_text(json.dumps(list(ANSWERS)) + "\n", encoding="utf-8")


def load_answers(folder: Path) -> list[str]:
    """The answer of each output of the model saved in ``folder``."""
    return read_string_list(Path(folder) / ANSWERS_FILE, "answers")


def encode_questions(vocabulary: Vocabulary, texts: Sequence[str], max_words: int = 30) -> tuple[torch.Tensor, torch.Tensor]:
    """Questions as ids ``<start> w1 ... wn <end>``, right-padded with 0: ids (B, T), lengths (B,).

    Raises:
        ValueError: a question is empty, longer than ``max_words`` words, or has words
            the model never saw (they are named).
    """
    encoded = []
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"a question must be a string, got {type(text).__name__}")
        words = tokenize(text)
        if not words:
            raise ValueError("the question is empty: ask something like 'what color is the circle?'")
        if len(words) > max_words:
            raise ValueError(f"the question has {len(words)} words; the model reads at most {max_words}")
        unknown = [w for w in dict.fromkeys(words) if w not in vocabulary.index]
        if unknown:
            raise ValueError(
                f"unknown words: {', '.join(repr(w) for w in unknown)}; the model knows only the words of its "
                "training questions (colours, shapes, sizes, 'what color', 'how many', 'is there', 'left of', ...)"
            )
        encoded.append(vocabulary.encode(text))
    lengths = torch.tensor([len(e) for e in encoded], dtype=torch.long)
    ids = torch.zeros(len(encoded), int(lengths.max()) if encoded else 0, dtype=torch.long)
    for i, e in enumerate(encoded):
        ids[i, : len(e)] = torch.tensor(e, dtype=torch.long)
    return ids, lengths


def check_encoder(model, digest: str) -> None:
    """Refuse features from other encoder weights than the model was trained on."""
    if model.config.encoder_digest and digest != model.config.encoder_digest:
        raise ValueError(
            f"the image encoder's weights (digest {digest}) are not those the VQA model was trained on "
            f"({model.config.encoder_digest}); its answers would be meaningless"
        )
