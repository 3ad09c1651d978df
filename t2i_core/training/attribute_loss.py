"""The cross-entropy that holds generated flowers to what their captions state.

Shared by the discriminator's attribute heads (TAC-GAN, ``text2image_task.py``), the
condition probe and the frozen attribute guide (``attribute_guide.py``): each reads an image
or a condition into logits per attribute, and each is scored against one column of a label
table, (B, A) in the order of ``ATTRIBUTE_VALUES``, with -1 where a caption is silent.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data.flowers import ATTRIBUTE_VALUES

# Head -> its column in the label tables. The discriminator's colour heads are "petal" and
# "stem"; every other reader names its heads after the attributes themselves.
HEAD_COLUMNS = {"petal": 0, "stem": 1, **{a: i for i, a in enumerate(ATTRIBUTE_VALUES)}}


def attribute_loss(logits: dict[str, torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each head (B, classes) against its column of labels (B, A), summed over heads.

    -1 (a caption silent on the attribute) is skipped; a head with no label in the batch adds
    0, not the NaN of an empty mean.
    """
    total = 0.0
    for name, head in logits.items():
        target = labels[:, HEAD_COLUMNS[name]]  # (B,)
        summed = F.cross_entropy(head, target, ignore_index=-1, reduction="sum")
        total = total + summed / (target >= 0).sum().clamp_min(1)
    return total
