"""Greedy and beam search for step-wise decoders, batched, returning each word's attention.

A decoder here is anything with ``start(features) -> state`` and
``step(tokens (B,), state) -> (logits (B, V), state, alpha (B, N))`` where ``state`` is a
dict of batch-first tensors (see :mod:`t2i_core.models.captioning`). Beam search keeps
``beam_size`` hypotheses per input as rows ``b * beam_size + k`` and reorders the state by
indexing every tensor, so it needs nothing else from the decoder.

A hypothesis that has emitted the end token is finished: it keeps its score and grows no
more. One that reaches ``max_length`` without the end token is still returned (the best
one, if none finished better), so every input gets a sequence.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Decoded:
    """One decoded sequence: word ids (no start or end token), each word's attention, its score.

    ``attention`` is (len(tokens), N): the weights the decoder used to choose each word.
    ``score`` is the summed log-probability (end token included when emitted);
    ``finished`` says whether the end token was emitted within ``max_length``.
    """

    tokens: list[int]
    attention: torch.Tensor
    score: float
    finished: bool


def _length_penalty(length: torch.Tensor, alpha: float) -> torch.Tensor:
    """GNMT's ``((5 + length) / 6) ** alpha``; alpha 0 ranks by the plain summed log-probability."""
    return ((5.0 + length.float()) / 6.0) ** alpha


@torch.no_grad()
def beam_search(
    decoder,
    features: torch.Tensor,
    start_id: int,
    end_id: int,
    beam_size: int = 3,
    max_length: int = 24,
    length_penalty: float = 0.0,
) -> list[Decoded]:
    """The best sequence for each of the B inputs.

    Args:
        decoder: see the module docstring.
        features: encoder output (B, N, D).
        beam_size: hypotheses kept per input; 1 is greedy decoding.
        max_length: most steps; a hypothesis without the end token by then has
            ``max_length`` words and ``finished=False``.
        length_penalty: GNMT alpha; finished hypotheses are ranked by score divided by
            ``((5 + words) / 6) ** alpha``, so alpha > 0 favours longer captions.

    Returns:
        B :class:`Decoded`, in input order.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    b, n = features.shape[0], features.shape[1]
    k = beam_size
    rows = torch.arange(b, device=features.device).repeat_interleave(k)  # (B * K,)
    state = decoder.start(features)
    state = {name: value[rows] for name, value in state.items()}  # every tensor (B * K, ...)
    tokens = torch.full((b * k,), start_id, dtype=torch.long, device=features.device)
    # Only beam 0 is alive at first, or the K beams would all be the same hypothesis.
    scores = torch.full((b, k), float("-inf"), device=features.device)
    scores[:, 0] = 0.0
    finished = torch.zeros(b, k, dtype=torch.bool, device=features.device)
    lengths = torch.zeros(b, k, dtype=torch.long, device=features.device)  # words emitted, end excluded
    history = torch.zeros(b, k, 0, dtype=torch.long, device=features.device)
    alphas = torch.zeros(b, k, 0, n, device=features.device)
    for _ in range(max_length):
        logits, state, alpha = decoder.step(tokens, state)
        log_probs = torch.log_softmax(logits.float(), dim=1).view(b, k, -1)  # (B, K, V)
        vocab = log_probs.shape[2]
        # A finished hypothesis continues only with the end token, at no cost: its score stays put.
        done_row = torch.full((vocab,), float("-inf"), device=features.device)
        done_row[end_id] = 0.0
        log_probs = torch.where(finished.unsqueeze(2), done_row, log_probs)
        candidates = (scores.unsqueeze(2) + log_probs).view(b, k * vocab)  # (B, K * V)
        scores, flat = candidates.topk(k, dim=1)  # (B, K)
        parent, word = flat // vocab, flat % vocab  # (B, K) each
        was_finished = finished.gather(1, parent)
        history = torch.cat([history.gather(1, parent.unsqueeze(2).expand(-1, -1, history.shape[2])), word.unsqueeze(2)], 2)
        alpha = alpha.view(b, k, n).gather(1, parent.unsqueeze(2).expand(-1, -1, n))  # (B, K, N)
        alphas = torch.cat([alphas.gather(1, parent.view(b, k, 1, 1).expand(-1, -1, alphas.shape[2], n)), alpha.unsqueeze(2)], 2)
        lengths = lengths.gather(1, parent) + (~was_finished & (word != end_id)).long()
        finished = was_finished | (word == end_id)
        rows = (parent + torch.arange(b, device=features.device).unsqueeze(1) * k).view(-1)  # (B * K,)
        state = {name: value[rows] for name, value in state.items()}
        tokens = word.view(-1)
        if bool(finished.all()):
            break
    # Hypotheses that could not even finish (-inf) are never chosen over live ones.
    ranked = scores / _length_penalty(lengths, length_penalty)
    best = ranked.argmax(1)  # (B,)
    results = []
    for i in range(b):
        j = int(best[i])
        length = int(lengths[i, j])
        results.append(
            Decoded(
                tokens=[int(t) for t in history[i, j, :length]],
                attention=alphas[i, j, :length].cpu(),
                score=float(scores[i, j]),
                finished=bool(finished[i, j]),
            )
        )
    return results


def greedy_decode(decoder, features: torch.Tensor, start_id: int, end_id: int, max_length: int = 24) -> list[Decoded]:
    """The most likely word at every step, for each of the B inputs (features (B, N, D))."""
    b = features.shape[0]
    state = decoder.start(features)
    tokens = torch.full((b,), start_id, dtype=torch.long, device=features.device)
    words: list[torch.Tensor] = []
    maps: list[torch.Tensor] = []
    scores = torch.zeros(b, device=features.device)
    done = torch.zeros(b, dtype=torch.bool, device=features.device)
    with torch.no_grad():
        for _ in range(max_length):
            logits, state, alpha = decoder.step(tokens, state)
            log_probs = torch.log_softmax(logits.float(), dim=1)
            tokens = log_probs.argmax(1)  # (B,)
            scores += torch.where(done, torch.zeros_like(scores), log_probs.gather(1, tokens[:, None]).squeeze(1))
            words.append(tokens)
            maps.append(alpha)
            done = done | (tokens == end_id)
            if bool(done.all()):
                break
    words_t = torch.stack(words, 1)  # (B, T)
    maps_t = torch.stack(maps, 1)  # (B, T, N)
    results = []
    for i in range(b):
        row = words_t[i].tolist()
        length = row.index(end_id) if end_id in row else len(row)
        results.append(Decoded(tokens=row[:length], attention=maps_t[i, :length].cpu(), score=float(scores[i]), finished=end_id in row))
    return results
