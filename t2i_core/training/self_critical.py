"""Self-critical sequence training (Rennie et al., 2017) of a captioner on the naming reward.

Teacher forcing trains each word given the reference's earlier words; the measure that
matters on Scenes is a whole caption that names every object. Where two objects stand
almost one above the other, the canonical caption's left-to-right order hangs on a pixel or
two (of the 74 test scenes the 64000-scene captioner with coverage and a weight average got
wrong, 49 had two objects less than 5 pixels apart in x; those scenes are 18% of the
multi-object test scenes and their error rate is 10 times that of the rest). Trained to
predict an order it cannot see, the model hedges between the two objects, and its caption
mixes them: one object named twice, or a colour of one with the shape of the other.

Self-critical training rewards the caption, not the order: for each Scenes picture the
model draws a caption from its own softmax, and greedy decoding gives the baseline; the
loss is ``-(reward(drawn) - reward(greedy)) * log p(drawn)``, so drawn captions that name
more of the scene than the model's own best guess become likelier, in whatever order. The
reward (:func:`naming_reward`) is the share of the reference's (colour, shape) pairs the
caption names, less the share of pairs it names that the scene does not hold. It is added
to the usual cross-entropy and attention supervision (``CaptionTaskConfig.self_critical``
is its weight), which keep the grammar and the maps, as mixed objectives do (Paulus et al.,
2018). Flowers and other pictures whose reference names no (colour, shape) pair are left
to the cross-entropy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from ..data.vocabulary import Vocabulary
from ..evaluation.captioning import named_colour_shapes


def naming_reward(words: Sequence[str], reference: Sequence[str]) -> float:
    """(pairs of ``reference`` named - pairs named that ``reference`` lacks) / pairs of ``reference``, in [-inf, 1].

    A pair is a colour word followed by a shape word (:func:`named_colour_shapes`), counted
    with multiplicity. The reference must name at least one pair.
    """
    wanted, named = named_colour_shapes(reference), named_colour_shapes(words)
    total = sum(wanted.values())
    if total == 0:
        raise ValueError("the reference names no (colour, shape) pair")
    right = sum(min(count, named[pair]) for pair, count in wanted.items())
    return (right - (sum(named.values()) - right)) / total


def _words(ids: torch.Tensor, vocabulary: Vocabulary) -> list[list[str]]:
    """Word lists of a batch of ids (B, T), each up to its end token."""
    return [vocabulary.decode(row) for row in ids.tolist()]


def self_critical_loss(sampled: torch.Tensor, sample_log_prob: torch.Tensor, captions: torch.Tensor, vocabulary: Vocabulary,
                       baseline: Callable[[list[int]], Sequence[Sequence[str]]]) -> tuple[torch.Tensor | None, dict[str, float]]:
    """The policy-gradient loss of the drawn captions against the greedy baseline, over the rows whose reference names pairs.

    Args:
        sampled: drawn ids (B, T); sample_log_prob: their summed log-probabilities (B,), with the graph;
        captions: the references as ``<start> ... <end> <pad>`` ids (B, T'');
        baseline: the greedy captions (word lists) of the given rows of the batch; it is called
            once, with the rows that name pairs, so pictures left to the cross-entropy
            (flowers) are never decoded.

    Returns:
        (loss or None when no row names a pair, logs with the mean rewards).
    """
    references = _words(captions, vocabulary)
    rows = [i for i, words in enumerate(references) if named_colour_shapes(words)]
    if not rows:
        return None, {}
    drawn, best = _words(sampled[rows], vocabulary), baseline(rows)
    reward = torch.tensor([naming_reward(d, references[i]) for d, i in zip(drawn, rows, strict=True)], device=sample_log_prob.device)
    baseline_reward = torch.tensor([naming_reward(g, references[i]) for g, i in zip(best, rows, strict=True)], device=sample_log_prob.device)
    loss = -((reward - baseline_reward) * sample_log_prob[rows]).mean()
    return loss, {"sampled_reward": reward.mean().item(), "greedy_reward": baseline_reward.mean().item()}
