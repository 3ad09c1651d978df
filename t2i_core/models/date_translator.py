"""The date translator: characters of a written date in, the ISO ``YYYY-MM-DD`` out.

A character-level seq2seq with attention (Bahdanau et al., 2015; Luong et al., 2015):

- :class:`DateEncoder`: a character embedding and a bidirectional LSTM (or GRU); its
  states, one per input character, are the keys the decoder attends over.
- :class:`DateDecoder`: an LSTM cell run once per output character. At step t it reads
  the previous character and the previous attentional vector (Luong's input feeding),
  then its new state attends over the encoder states with
  :class:`~t2i_core.models.attention.SoftAttention` (additive, dot or general, the same
  module the captioner uses), and ``tanh(W [h_t; context_t])`` predicts the character.
- :class:`DateTranslator`: both, with ``generate`` (greedy decoding of the 10 output
  characters, with the attention row of every one).
- :func:`translate_texts`: strings in, ISO strings, attention and log-probabilities out,
  in batches, through the character vocabularies saved with the model.

The output is always 10 characters (``YYYY-MM-DD``), so the decoder runs exactly
``output_length`` steps and needs no end token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..checkpoint import PretrainedModel
from ..data.characters import CharacterVocabulary
from .attention import SCORES, SoftAttention

ENCODER_CELLS = ("lstm", "gru")


@dataclass
class DateTranslatorConfig:
    """Sizes of a date translator; saved as ``config.json`` next to the weights."""

    source_vocab_size: int = 64  # characters people type, with the 4 special tokens
    target_vocab_size: int = 15  # 0-9, "-" and the 4 special tokens
    embedding_dim: int = 32
    encoder_cell: str = "lstm"  # "lstm" or "gru", bidirectional either way
    encoder_hidden: int = 64  # per direction: keys are 2 * encoder_hidden wide
    decoder_hidden: int = 128
    attention_dim: int = 64  # the additive score's hidden size (dot and general ignore it)
    score: str = "additive"  # one of attention.SCORES
    dropout: float = 0.1
    max_input_length: int = 64  # longer input is refused: no date people write is this long
    output_length: int = 10  # len("YYYY-MM-DD")

    def __post_init__(self):
        if self.encoder_cell not in ENCODER_CELLS:
            raise ValueError(f"unknown encoder cell {self.encoder_cell!r}; choose one of {ENCODER_CELLS}")
        if self.score not in SCORES:
            raise ValueError(f"unknown attention score {self.score!r}; choose one of {SCORES}")


class DateEncoder(nn.Module):
    """Character ids -> one state per character from a bidirectional LSTM or GRU."""

    def __init__(self, config: DateTranslatorConfig):
        super().__init__()
        self.embedding = nn.Embedding(config.source_vocab_size, config.embedding_dim, padding_idx=0)
        rnn = nn.LSTM if config.encoder_cell == "lstm" else nn.GRU
        self.rnn = rnn(config.embedding_dim, config.encoder_hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, source: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """source (B, N) ids right-padded with 0, lengths (B,) -> states (B, N, 2H), summary (B, 2H).

        Packing keeps the backward direction from reading the padding first; ``summary``
        is the last state of each direction (forward at the last character, backward at
        the first), concatenated.
        """
        embedded = self.dropout(self.embedding(source))  # (B, N, E)
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, final = self.rnn(packed)
        states, _ = pad_packed_sequence(outputs, batch_first=True, total_length=source.size(1))  # (B, N, 2H)
        hidden = final[0] if isinstance(final, tuple) else final  # (2, B, H): LSTM returns (h, c)
        summary = torch.cat([hidden[0], hidden[1]], dim=1)  # (B, 2H)
        return states, summary


class DateDecoder(nn.Module):
    """An LSTM cell with input feeding that attends over the encoder states at every step."""

    def __init__(self, config: DateTranslatorConfig):
        super().__init__()
        key_dim, hidden = 2 * config.encoder_hidden, config.decoder_hidden
        self.embedding = nn.Embedding(config.target_vocab_size, config.embedding_dim)
        self.init_h = nn.Linear(key_dim, hidden)
        self.init_c = nn.Linear(key_dim, hidden)
        self.cell = nn.LSTMCell(config.embedding_dim + hidden, hidden)
        self.attention = SoftAttention(key_dim, hidden, config.attention_dim, score=config.score)
        self.combine = nn.Linear(hidden + key_dim, hidden)
        self.out = nn.Linear(hidden, config.target_vocab_size)
        self.dropout = nn.Dropout(config.dropout)
        self.hidden_size = hidden

    def start(self, summary: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The state before the first step: (h, c, attentional vector), each (B, hidden)."""
        h, c = torch.tanh(self.init_h(summary)), torch.tanh(self.init_c(summary))
        return h, c, torch.zeros_like(h)

    def step(
        self,
        previous: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        keys: torch.Tensor,
        prepared: torch.Tensor,
        mask: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """One output character.

        Args:
            previous: (B,) ids of the previous character (``<start>`` at the first step).
            state: (h, c, attentional vector) from the last step, each (B, hidden).
            keys: encoder states (B, N, key_dim); prepared: ``attention.prepare(keys)``.
            mask: (B, N) bool, True on real characters.

        Returns:
            logits (B, V), attention weights (B, N) summing to 1 per row, the new state.
        """
        h, c, feed = state
        x = torch.cat([self.dropout(self.embedding(previous)), feed], dim=1)  # (B, E + hidden)
        h, c = self.cell(x, (h, c))  # (B, hidden) each
        context, alpha = self.attention(keys, h, mask=mask, prepared=prepared)  # (B, key_dim), (B, N)
        feed = torch.tanh(self.combine(torch.cat([h, context], dim=1)))  # (B, hidden)
        logits = self.out(self.dropout(feed))  # (B, V)
        return logits, alpha, (h, c, feed)


class DateTranslator(PretrainedModel):
    """Encoder, attention decoder, teacher-forced ``forward`` and greedy ``generate``."""

    config_class = DateTranslatorConfig
    model_type = "date-translator"

    def __init__(self, config: DateTranslatorConfig):
        super().__init__()
        self.config = config
        self.encoder = DateEncoder(config)
        self.decoder = DateDecoder(config)

    def encode(self, source: torch.Tensor, lengths: torch.Tensor):
        """source (B, N), lengths (B,) -> keys (B, N, 2H), prepared keys, mask (B, N), decoder start state."""
        keys, summary = self.encoder(source, lengths)
        mask = torch.arange(source.size(1), device=source.device)[None, :] < lengths.to(source.device)[:, None]  # (B, N)
        return keys, self.decoder.attention.prepare(keys), mask, self.decoder.start(summary)

    def forward(self, source: torch.Tensor, lengths: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher forcing: target (B, T) ids -> logits (B, T, V) and attention (B, T, N).

        Step t reads target[:, t - 1] (``<start>`` for t = 0) and predicts target[:, t].
        """
        keys, prepared, mask, state = self.encode(source, lengths)
        start = torch.full_like(target[:, 0], 1)  # <start>
        inputs = torch.cat([start[:, None], target[:, :-1]], dim=1)  # (B, T)
        logits, alphas = [], []
        for t in range(target.size(1)):
            step_logits, alpha, state = self.decoder.step(inputs[:, t], state, keys, prepared, mask)
            logits.append(step_logits)
            alphas.append(alpha)
        return torch.stack(logits, dim=1), torch.stack(alphas, dim=1)

    @staticmethod
    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy per output character: logits (B, T, V), target (B, T)."""
        return F.cross_entropy(logits.reshape(-1, logits.size(-1)), target.reshape(-1))

    @torch.no_grad()
    def generate(self, source: torch.Tensor, lengths: torch.Tensor, start_id: int = 1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Greedy decoding of ``output_length`` characters.

        Returns ids (B, T), attention (B, T, N) (each row sums to 1 over the real input
        characters, 0 on padding) and the log-probability of each chosen character (B, T).
        Special tokens are never chosen: the output alphabet is the target characters.
        """
        keys, prepared, mask, state = self.encode(source, lengths)
        previous = torch.full((source.size(0),), start_id, dtype=torch.long, device=source.device)
        ids, alphas, log_probs = [], [], []
        for _ in range(self.config.output_length):
            logits, alpha, state = self.decoder.step(previous, state, keys, prepared, mask)
            logits[:, :4] = float("-inf")  # <pad> <start> <end> <unk> are not characters of a date
            scores = torch.log_softmax(logits, dim=1)  # (B, V)
            best, previous = scores.max(dim=1)  # (B,), (B,)
            ids.append(previous)
            alphas.append(alpha)
            log_probs.append(best)
        return torch.stack(ids, dim=1), torch.stack(alphas, dim=1), torch.stack(log_probs, dim=1)


@torch.no_grad()
def translate_texts(
    model: DateTranslator,
    source_vocabulary: CharacterVocabulary,
    target_vocabulary: CharacterVocabulary,
    texts: Sequence[str],
    batch_size: int = 256,
    device: torch.device | str = "cpu",
) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Greedy translations of non-empty ``texts`` no longer than the model's maximum.

    Returns, per text, (output string, attention (10, len(text)) float32 with rows summing
    to 1, log-probability of each output character (10,)). The caller checks lengths.
    """
    was_training = model.training
    model.eval()
    results = []
    for start in range(0, len(texts), batch_size):
        chunk = texts[start : start + batch_size]
        lengths = torch.tensor([len(t) for t in chunk], dtype=torch.long)
        source = torch.zeros(len(chunk), int(lengths.max()), dtype=torch.long)
        for i, text in enumerate(chunk):
            source[i, : len(text)] = torch.tensor(source_vocabulary.encode(text), dtype=torch.long)
        ids, attention, log_probs = model.generate(source.to(device), lengths.to(device))  # (B, T), (B, T, N), (B, T)
        ids, attention, log_probs = ids.cpu().numpy(), attention.float().cpu().numpy(), log_probs.float().cpu().numpy()
        for i, text in enumerate(chunk):
            results.append((target_vocabulary.decode(ids[i]), attention[i, :, : len(text)], log_probs[i]))
    model.train(was_training)
    return results
