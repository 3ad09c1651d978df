"""Soft attention over a set of keys, with a choice of score function.

A query (a decoder state) scores every key (a grid cell of an image, a source token);
the softmax of the scores are the attention weights (alpha), and the weighted sum of the
values is the context. Three score functions:

- ``additive`` (Bahdanau et al., 2015): ``v^T tanh(W_k k + W_q q)``; with ``coverage``,
  ``v^T tanh(W_k k + W_q q + w_c c)`` where ``c`` is how much each key has been attended
  so far (Tu et al., 2016, "Modeling coverage for neural machine translation"; See et al.,
  2017): the score can then see what the decoder has already looked at
- ``dot`` (Luong et al., 2015): ``k . q`` (the query is projected to the key size first
  when the two differ)
- ``general`` (Luong et al., 2015): ``k^T W q``

Nothing here knows about images: the captioner attends over grid cells, a translator can
attend over encoder states with the same modules.
"""

from __future__ import annotations

import torch
from torch import nn

SCORES = ("additive", "dot", "general")


class AdditiveScore(nn.Module):
    """Bahdanau's score ``v^T tanh(W_k k + W_q q)``, optionally ``+ w_c coverage`` inside the tanh."""

    def __init__(self, key_dim: int, query_dim: int, attention_dim: int, coverage: bool = False):
        super().__init__()
        self.key = nn.Linear(key_dim, attention_dim)
        self.query = nn.Linear(query_dim, attention_dim)
        self.v = nn.Linear(attention_dim, 1)
        self.coverage = nn.Linear(1, attention_dim, bias=False) if coverage else None

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        """W_k k, computed once per sequence: keys (B, N, key_dim) -> (B, N, attention_dim)."""
        return self.key(keys)

    def forward(self, prepared: torch.Tensor, query: torch.Tensor, coverage: torch.Tensor | None = None) -> torch.Tensor:
        """prepared keys (B, N, attention_dim), query (B, query_dim), coverage (B, N) -> scores (B, N)."""
        hidden = prepared + self.query(query).unsqueeze(1)  # (B, N, attention_dim)
        if self.coverage is not None:
            if coverage is None:
                raise ValueError("this score was built with coverage: pass the attention so far (B, N)")
            hidden = hidden + self.coverage(coverage.unsqueeze(2))  # (B, N, attention_dim)
        return self.v(torch.tanh(hidden)).squeeze(2)


class DotScore(nn.Module):
    """Luong's dot score ``k . q``; a linear map brings the query to the key size if they differ."""

    def __init__(self, key_dim: int, query_dim: int, attention_dim: int | None = None):
        super().__init__()
        self.query = nn.Identity() if key_dim == query_dim else nn.Linear(query_dim, key_dim, bias=False)

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        return keys

    def forward(self, keys: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """keys (B, N, key_dim), query (B, query_dim) -> scores (B, N)."""
        return torch.bmm(keys, self.query(query).unsqueeze(2)).squeeze(2)


class GeneralScore(nn.Module):
    """Luong's general score ``k^T W q``."""

    def __init__(self, key_dim: int, query_dim: int, attention_dim: int | None = None):
        super().__init__()
        self.weight = nn.Linear(query_dim, key_dim, bias=False)

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        return keys

    def forward(self, keys: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """keys (B, N, key_dim), query (B, query_dim) -> scores (B, N)."""
        return torch.bmm(keys, self.weight(query).unsqueeze(2)).squeeze(2)


def make_score(name: str, key_dim: int, query_dim: int, attention_dim: int, coverage: bool = False) -> nn.Module:
    """The score module called ``name`` (one of :data:`SCORES`); only ``additive`` reads coverage."""
    classes = {"additive": AdditiveScore, "dot": DotScore, "general": GeneralScore}
    if name not in classes:
        raise ValueError(f"unknown attention score {name!r}; choose one of {SCORES}")
    if coverage:
        if name != "additive":
            raise ValueError(f"coverage needs the additive score, not {name!r}")
        return AdditiveScore(key_dim, query_dim, attention_dim, coverage=True)
    return classes[name](key_dim, query_dim, attention_dim)


class SoftAttention(nn.Module):
    """Scores, softmax weights and the context vector, returned together.

    Returning the weights with the context is what lets every caller draw the maps
    without reaching into the module. A decoder that attends over the same keys at every
    step passes ``prepare(keys)`` once as ``prepared``; the additive score's key projection
    is then not recomputed at each step.
    """

    def __init__(self, key_dim: int, query_dim: int, attention_dim: int, score: str = "additive", coverage: bool = False):
        super().__init__()
        self.score_name = score
        self.score = make_score(score, key_dim, query_dim, attention_dim, coverage=coverage)
        self.uses_coverage = coverage

    def prepare(self, keys: torch.Tensor) -> torch.Tensor:
        """What the score needs of ``keys`` (B, N, key_dim) that does not depend on the query."""
        return self.score.prepare(keys)

    def forward(
        self,
        keys: torch.Tensor,
        query: torch.Tensor,
        mask: torch.Tensor | None = None,
        prepared: torch.Tensor | None = None,
        coverage: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend over ``keys`` with ``query``.

        Args:
            keys: (B, N, key_dim), also the values.
            query: (B, query_dim).
            mask: optional bool (B, N), True where a key may be attended (padding off).
            prepared: ``self.prepare(keys)``, if already computed.
            coverage: (B, N), the weights of the earlier steps summed; required when built with coverage.

        Returns:
            context (B, key_dim) and weights (B, N), each row of weights summing to 1.
        """
        if prepared is None:
            prepared = self.prepare(keys)
        scores = self.score(prepared, query, coverage) if self.uses_coverage else self.score(prepared, query)  # (B, N)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1)  # (B, N)
        context = torch.bmm(weights.unsqueeze(1), keys).squeeze(1)  # (B, key_dim)
        return context, weights
