"""Sampling a sequence from a step-wise decoder, keeping the graph of its log-probability.

Self-critical training (``training/self_critical.py``) needs captions drawn from the model
itself and the gradient of their log-probability; greedy and beam search
(:mod:`~t2i_core.decoding.beam_search`) return the best sequence without a graph. The
decoder protocol is the same: ``start(features) -> state`` and ``step(tokens, state) ->
(logits, state, alpha)``.
"""

from __future__ import annotations

import torch


def sample_sequences(decoder, features: torch.Tensor, start_id: int, end_id: int, max_length: int,
                     generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """One sequence per input, each word drawn from the decoder's softmax.

    Args:
        features: encoder output (B, N, D).
        max_length: most words; a sequence without the end token by then stops there.
        generator: torch generator for the draws (None: the global one).

    Returns:
        tokens (B, max_length) with the end token where it was drawn and 0 after it, and the
        summed log-probability of each sequence's words, end token included (B,), differentiable.
    """
    b = features.shape[0]
    state = decoder.start(features)
    tokens = torch.full((b,), start_id, dtype=torch.long, device=features.device)
    alive = torch.ones(b, dtype=torch.bool, device=features.device)
    words, log_prob = [], features.new_zeros(b)
    for _ in range(max_length):
        logits, state, _ = decoder.step(tokens, state)
        log_probs = torch.log_softmax(logits.float(), dim=1)  # (B, V)
        tokens = torch.multinomial(log_probs.detach().exp(), 1, generator=generator).squeeze(1)  # (B,)
        log_prob = log_prob + torch.where(alive, log_probs.gather(1, tokens[:, None]).squeeze(1), 0.0)
        words.append(torch.where(alive, tokens, 0))
        alive = alive & (tokens != end_id)
        if not bool(alive.any()):
            break
    sampled = torch.stack(words, 1)  # (B, T <= max_length)
    return torch.nn.functional.pad(sampled, (0, max_length - sampled.shape[1])), log_prob
