"""Image captioners: Show and Tell (Vinyals et al., 2015) and Show, Attend and Tell (Xu et al., 2015).

Both are an image encoder (a grid of feature vectors, :mod:`.image_encoders`) and an LSTM
decoder that emits one word per step:

- :class:`ShowAndTellDecoder`: the mean of the grid, projected to the word-embedding size,
  is the LSTM's first input; then the words. No attention: the baseline.
- :class:`ShowAttendTellDecoder`: at every step :class:`~.attention.SoftAttention` scores each
  grid cell against the previous hidden state; the softmax weights (alpha) give a context
  vector, a sigmoid gate computed from the same state scales it, and the LSTM reads the
  previous word with the context. Training adds the doubly stochastic penalty
  ``alpha_c * mean_cells (1 - sum_t alpha_t)^2``, which pushes the caption to spread its
  looks over the image rather than stare at one place. The paper sums over cells; beside
  a cross-entropy averaged per word that is N (196) times stronger, and on Scenes it
  flattened the maps to near uniform, so the mean is used, as in sgrvinod's widely used
  PyTorch implementation. Each cell's
  features are extended by its (x, y) centre (``cell_coordinates``, on by default): the
  context then says where the model looked as well as what it saw.

  Two options of :class:`CaptionerConfig`, off in older checkpoints:

  - ``coverage``: the attention score also reads how much each cell has been looked at
    so far in this caption (Tu et al., 2016; See et al., 2017). A four-object caption must
    visit four objects once each; without it, the only record of where the model has been
    is what the LSTM state remembers, and captions named an already-described object
    again where they should have moved on.
  - ``cell_context``: each cell's key is refined by a residual 3x3 convolution over the
    grid of keys, so a cell on an object's edge also reads the cells next to it (the
    object's colour and shape span several 16-pixel cells).

A decoder works one step at a time on a ``state`` dict of batch-first tensors, so greedy
and beam search (:mod:`t2i_core.decoding`) drive both kinds alike and can reorder beams by
indexing every tensor of the state.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..checkpoint import PretrainedModel
from ..decoding.sampling import sample_sequences
from .attention import SoftAttention
from .image_encoders import build_image_encoder

CAPTION_MODELS = ("show-attend-tell", "show-and-tell")

State = dict[str, torch.Tensor]


@dataclass
class CaptionerConfig:
    """Sizes and choices of a captioner; saved in the checkpoint's ``config.json``."""

    kind: str = "show-attend-tell"  # or "show-and-tell"
    vocab_size: int = 32
    encoder: str = "small-cnn"  # or "efficientnet-lite0"
    image_size: int = 128  # input side for small-cnn; efficientnet-lite0 resizes to 224
    cnn_width: int = 32
    freeze_encoder: bool = True  # efficientnet-lite0 only; small-cnn always trains
    embed_dim: int = 64
    hidden_dim: int = 256
    attention_dim: int = 128
    score: str = "additive"  # "dot" or "general" (Luong)
    cell_coordinates: bool = True  # give each grid cell its (x, y) centre, so relations can be read
    dropout: float = 0.3
    alpha_c: float = 1.0  # weight of the doubly stochastic attention penalty
    coverage: bool = False  # the attention score reads each cell's attention so far (Show, Attend and Tell)
    cell_context: bool = False  # a residual 3x3 convolution over the grid of keys (Show, Attend and Tell)
    cell_layers: int = 1  # layers of the per-cell network from encoder features to keys (1: linear + ReLU)
    max_length: int = 36  # longest caption decoded, in words (a four-object Scenes caption has up to 34)

    def __post_init__(self):
        if self.kind not in CAPTION_MODELS:
            raise ValueError(f"unknown captioner kind {self.kind!r}; choose one of {CAPTION_MODELS}")
        if self.cell_layers not in (1, 2):
            raise ValueError(f"cell_layers must be 1 or 2, got {self.cell_layers}")
        if self.coverage and self.score != "additive":
            raise ValueError(f"coverage needs the additive attention score, not {self.score!r}")


def cell_coordinates(features: torch.Tensor) -> torch.Tensor:
    """The (x, y) centre of every cell of a square grid in [-1, 1], shaped like features (B, N, 2).

    A context vector is a weighted sum of cells; without their coordinates it says what
    was looked at but not where, and "to the left of" is about where.
    """
    b, n = features.shape[0], features.shape[1]
    side = round(n**0.5)
    if side * side != n:
        raise ValueError(f"cell coordinates need a square grid, got {n} cells")
    centres = (torch.arange(side, device=features.device, dtype=features.dtype) + 0.5) / side * 2 - 1  # (side,)
    y, x = torch.meshgrid(centres, centres, indexing="ij")  # row-major, like the grid
    return torch.stack([x.reshape(-1), y.reshape(-1)], dim=1).expand(b, n, 2)


class ShowAndTellDecoder(nn.Module):
    """Vinyals et al.: the image vector is the LSTM's input at step -1, then the words."""

    def __init__(self, config: CaptionerConfig, feature_dim: int):
        super().__init__()
        self.image = nn.Sequential(nn.Linear(feature_dim, config.embed_dim), nn.ReLU())
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.lstm = nn.LSTMCell(config.embed_dim, config.hidden_dim)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.hidden_dim, config.vocab_size)
        self.hidden_dim = config.hidden_dim

    def start(self, features: torch.Tensor) -> State:
        """The state after the LSTM has read the image; features (B, N, feature_dim)."""
        b = features.shape[0]
        zeros = features.new_zeros(b, self.hidden_dim)
        h, c = self.lstm(self.image(features.mean(1)), (zeros, zeros))  # (B, hidden_dim) each
        return {"h": h, "c": c, "cells": features.new_zeros(b, features.shape[1])}

    def step(self, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State, torch.Tensor]:
        """Read ``tokens`` (B,); returns logits (B, vocab), the new state and uniform weights (B, N).

        Show and Tell looks at the whole image at once; its 'attention' is uniform, which is
        also the chance level of the pointing metrics.
        """
        h, c = self.lstm(self.embed(tokens), (state["h"], state["c"]))
        logits = self.out(self.dropout(h))  # (B, vocab)
        cells = state["cells"]
        uniform = torch.full_like(cells, 1.0 / cells.shape[1])  # (B, N)
        return logits, {"h": h, "c": c, "cells": cells}, uniform


class ShowAttendTellDecoder(nn.Module):
    """Xu et al., soft attention: LSTM on [previous word; gated context] with attention from h."""

    def __init__(self, config: CaptionerConfig, feature_dim: int):
        super().__init__()
        self.coordinates = config.cell_coordinates
        extra = 2 if self.coordinates else 0
        d = config.attention_dim
        if config.cell_layers == 1:
            self.project = nn.Linear(feature_dim + extra, d)  # grid features -> keys/values
        else:  # a hidden layer per cell, computed once per image: the cell's colour class before attention averages cells
            self.project = nn.Sequential(nn.Linear(feature_dim + extra, 2 * d), nn.ReLU(), nn.Linear(2 * d, d))
        self.context_conv = nn.Conv2d(d, d, 3, padding=1) if config.cell_context else None
        self.coverage = config.coverage
        self.attention = SoftAttention(d, config.hidden_dim, config.attention_dim, score=config.score, coverage=config.coverage)
        self.init_h = nn.Linear(d, config.hidden_dim)
        self.init_c = nn.Linear(d, config.hidden_dim)
        self.gate = nn.Linear(config.hidden_dim, 1)  # the paper's beta: how much of the context to use
        self.embed = nn.Embedding(config.vocab_size, config.embed_dim)
        self.lstm = nn.LSTMCell(config.embed_dim + d, config.hidden_dim)
        self.dropout = nn.Dropout(config.dropout)
        # Deep output (Xu et al. eq. 7): the word is read off the state, the context and the previous word.
        self.out = nn.Linear(config.hidden_dim + d + config.embed_dim, config.vocab_size)

    def start(self, features: torch.Tensor) -> State:
        """Initial state from the mean of the grid; features (B, N, feature_dim)."""
        if self.coordinates:
            features = torch.cat([features, cell_coordinates(features)], dim=2)  # (B, N, feature_dim + 2)
        keys = torch.relu(self.project(features))  # (B, N, attention_dim)
        if self.context_conv is not None:
            b, n, d = keys.shape
            side = round(n**0.5)
            grid = keys.transpose(1, 2).reshape(b, d, side, side)  # (B, attention_dim, side, side), row-major cells
            keys = keys + torch.relu(self.context_conv(grid)).flatten(2).transpose(1, 2)  # (B, N, attention_dim)
        mean = keys.mean(1)  # (B, attention_dim)
        prepared = self.attention.prepare(keys)  # (B, N, attention_dim), reused at every step
        state = {"h": torch.tanh(self.init_h(mean)), "c": torch.tanh(self.init_c(mean)), "keys": keys, "prepared": prepared}
        if self.coverage:
            state["coverage"] = keys.new_zeros(keys.shape[:2])  # (B, N): no cell looked at yet
        return state

    def step(self, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State, torch.Tensor]:
        """Read ``tokens`` (B,); returns logits (B, vocab), the new state and alpha (B, N).

        alpha is computed from the state before this step, so it is where the model looked
        to choose the word these logits score.
        """
        keys = state["keys"]
        coverage = state.get("coverage")  # (B, N) or None
        context, alpha = self.attention(keys, state["h"], prepared=state["prepared"], coverage=coverage)  # (B, attention_dim), (B, N)
        context = torch.sigmoid(self.gate(state["h"])) * context  # (B, attention_dim)
        word = self.embed(tokens)  # (B, embed_dim)
        h, c = self.lstm(torch.cat([word, context], dim=1), (state["h"], state["c"]))  # (B, hidden_dim)
        logits = self.out(self.dropout(torch.cat([h, context, word], dim=1)))  # (B, vocab)
        new_state = {"h": h, "c": c, "keys": keys, "prepared": state["prepared"]}
        if coverage is not None:
            new_state["coverage"] = coverage + alpha  # (B, N)
        return logits, new_state, alpha


class Captioner(PretrainedModel):
    """Image encoder + caption decoder. ``config.kind`` picks Show and Tell or Show, Attend and Tell."""

    config_class = CaptionerConfig
    model_type = "captioner"

    def __init__(self, config: CaptionerConfig, pretrained_encoder: bool = False):
        super().__init__()
        self.config = config
        self.encoder = build_image_encoder(
            config.encoder, image_size=config.image_size, width=config.cnn_width,
            pretrained=pretrained_encoder, frozen=config.freeze_encoder,
        )
        decoder = ShowAttendTellDecoder if config.kind == "show-attend-tell" else ShowAndTellDecoder
        self.decoder = decoder(config, self.encoder.feature_dim)

    @property
    def grid_size(self) -> int:
        """Side of the attention grid (16 for small-cnn at 128 px, 14 for efficientnet-lite0)."""
        return self.encoder.grid_size

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, 3, H, W) in [0, 1] -> features (B, grid * grid, feature_dim)."""
        return self.encoder(images)

    def forward(self, captions: torch.Tensor, images: torch.Tensor | None = None, features: torch.Tensor | None = None,
                sample_length: int = 0, start_id: int = 1, end_id: int = 2) -> tuple[torch.Tensor, ...]:
        """Teacher-forced logits for ``captions``; with ``sample_length``, also one caption drawn per picture.

        Drawing in the same call lets DistributedDataParallel see one forward for both losses of
        self-critical training (``training/self_critical.py``).

        Args:
            captions: ids (B, T) as ``<start> w1 ... wn <end> <pad>...``.
            images: (B, 3, H, W) in [0, 1], or else
            features: the encoder's output (B, N, feature_dim), e.g. cached.
            sample_length: if > 0, also draw a caption of at most this many words from the model's softmax.
            start_id, end_id: the vocabulary's start and end tokens, for drawing.

        Returns:
            logits (B, T - 1, vocab) predicting ``captions[:, 1:]`` and alpha (B, T - 1, N); with
            ``sample_length`` also the drawn ids (B, sample_length) and their summed log-probabilities (B,).
        """
        if features is None:
            if images is None:
                raise ValueError("pass images or features")
            features = self.encode(images)
        state = self.decoder.start(features.float())
        logits, alphas = [], []
        for t in range(captions.shape[1] - 1):
            step_logits, state, alpha = self.decoder.step(captions[:, t], state)
            logits.append(step_logits)
            alphas.append(alpha)
        if sample_length > 0:
            sampled, log_prob = sample_sequences(self.decoder, features.float(), start_id, end_id, sample_length)
            return torch.stack(logits, 1), torch.stack(alphas, 1), sampled, log_prob
        return torch.stack(logits, 1), torch.stack(alphas, 1)

    def loss(self, logits: torch.Tensor, alphas: torch.Tensor, captions: torch.Tensor, pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """Cross-entropy on the words (padding ignored) plus the doubly stochastic penalty.

        Args:
            logits: (B, T - 1, vocab); alphas: (B, T - 1, N); captions: (B, T).

        Returns:
            (total loss, cross-entropy alone), both scalars.
        """
        targets = captions[:, 1:]  # (B, T - 1)
        cross_entropy = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=pad_id)
        if self.config.kind != "show-attend-tell" or self.config.alpha_c == 0:
            return cross_entropy, cross_entropy
        # Only the steps that emit a real word or the end token look at the image.
        valid = (targets != pad_id).float().unsqueeze(2)  # (B, T - 1, 1)
        coverage = (alphas * valid).sum(1)  # (B, N): how much each cell was looked at over the caption
        # Mean over cells, not the paper's sum: beside a per-word cross-entropy the sum is N
        # times stronger and flattened every map to near uniform (pointing 0.30 on Scenes).
        penalty = ((1.0 - coverage) ** 2).mean()
        return cross_entropy + self.config.alpha_c * penalty, cross_entropy
