"""Greedy and beam search: beam 1 is greedy, beams find better sequences, nothing is lost."""

import math

import torch

from t2i_core.decoding import beam_search, greedy_decode
from t2i_core.models.captioning import Captioner, CaptionerConfig

START, END = 1, 2


class TableDecoder:
    """A decoder whose next-word probabilities depend only on the previous word.

    ``table[prev]`` is a probability row over the vocabulary; the 'attention' is one-hot
    on cell ``prev % cells``, so maps differ from word to word.
    """

    def __init__(self, table: dict[int, list[float]], vocab: int, cells: int = 4):
        self.rows = torch.full((vocab, vocab), 1e-9)
        for prev, row in table.items():
            self.rows[prev] = torch.tensor(row)
        self.cells = cells

    def start(self, features):
        return {"features": features}

    def step(self, tokens, state):
        logits = self.rows[tokens].log()  # (B, V)
        alpha = torch.nn.functional.one_hot(tokens % self.cells, self.cells).float()  # (B, N)
        return logits, state, alpha


def test_beam_search_with_beam_one_equals_greedy_on_a_real_decoder():
    config = CaptionerConfig(vocab_size=15, image_size=32, cnn_width=8, embed_dim=8, hidden_dim=16, attention_dim=8)
    for seed in range(3):
        torch.manual_seed(seed)
        model = Captioner(config).eval()
        features = model.encode(torch.rand(6, 3, 32, 32))
        greedy = greedy_decode(model.decoder, features, START, END, max_length=12)
        beam = beam_search(model.decoder, features, START, END, beam_size=1, max_length=12)
        for g, b in zip(greedy, beam):
            assert g.tokens == b.tokens
            assert torch.allclose(g.attention, b.attention)
            assert math.isclose(g.score, b.score, rel_tol=1e-4, abs_tol=1e-4)


def test_beam_search_escapes_the_greedy_trap():
    # From <start>: word 3 (0.5) or word 4 (0.4). After 3 nothing is likely; after 4 the end is.
    decoder = TableDecoder({START: [0, 0, 0.05, 0.5, 0.4, 0.05], 3: [0, 0, 0.3, 0.35, 0, 0.35], 4: [0, 0, 0.99, 0.005, 0.005, 0],
                            5: [0, 0, 1, 0, 0, 0]}, vocab=6)
    features = torch.zeros(1, 4, 1)
    greedy = greedy_decode(decoder, features, START, END, max_length=5)[0]
    beam = beam_search(decoder, features, START, END, beam_size=3, max_length=5)[0]
    assert greedy.tokens[0] == 3
    assert beam.tokens == [4] and beam.finished
    assert beam.score > greedy.score


def test_a_decoder_that_never_ends_still_returns_its_best_sequence():
    # The end token has (almost) no probability; word 3 is always the likeliest.
    decoder = TableDecoder({p: [0, 0, 0, 0.7, 0.3] for p in range(5)}, vocab=5)
    for beam_size in (1, 3):
        result = beam_search(decoder, torch.zeros(2, 4, 1), START, END, beam_size=beam_size, max_length=7)
        for r in result:
            assert r.tokens == [3] * 7 and not r.finished
            assert r.attention.shape == (7, 4)
            assert math.isclose(r.score, 7 * math.log(0.7), rel_tol=1e-4)


def test_every_emitted_word_has_its_own_map_that_sums_to_one():
    decoder = TableDecoder({START: [0, 0, 0, 1, 0, 0], 3: [0, 0, 0, 0, 1, 0], 4: [0, 0, 0, 0, 0, 1], 5: [0, 0, 1, 0, 0, 0]}, vocab=6)
    result = beam_search(decoder, torch.zeros(1, 4, 1), START, END, beam_size=2, max_length=10)[0]
    assert result.tokens == [3, 4, 5] and result.finished
    assert torch.allclose(result.attention.sum(1), torch.ones(3))
    # The map that chose word k was computed after reading word k-1: <start>, 3, 4.
    assert result.attention.argmax(1).tolist() == [START % 4, 3 % 4, 4 % 4]


def test_length_penalty_favours_the_longer_finished_caption():
    # <start> -> end (0.55) or 3 (0.45); 3 -> 4 -> end with high probability.
    decoder = TableDecoder({START: [0, 0, 0.55, 0.45, 0, 0], 3: [0, 0, 0.01, 0, 0.99, 0], 4: [0, 0, 0.99, 0, 0, 0.01]}, vocab=6)
    features = torch.zeros(1, 4, 1)
    plain = beam_search(decoder, features, START, END, beam_size=2, max_length=6)[0]
    penalised = beam_search(decoder, features, START, END, beam_size=2, max_length=6, length_penalty=2.0)[0]
    assert plain.tokens == [] and penalised.tokens == [3, 4]


def test_batched_beam_search_equals_one_image_at_a_time():
    config = CaptionerConfig(vocab_size=15, image_size=32, cnn_width=8, embed_dim=8, hidden_dim=16, attention_dim=8)
    torch.manual_seed(4)
    model = Captioner(config).eval()
    features = model.encode(torch.rand(4, 3, 32, 32))
    together = beam_search(model.decoder, features, START, END, beam_size=3, max_length=9)
    for i in range(4):
        alone = beam_search(model.decoder, features[i : i + 1], START, END, beam_size=3, max_length=9)[0]
        assert alone.tokens == together[i].tokens
        assert torch.allclose(alone.attention, together[i].attention, atol=1e-5)
