"""Can the generator learn colours from the text at all? Trained on the attribute guide's loss alone.

Run: ``python benchmarks/text2image_guide_only.py [--steps 300] [--encoder use]``.
No discriminator: the projected recipe's generator (from scratch, seed 0) is trained for
``--steps`` steps, batch 32, to lower the frozen attribute guide's cross-entropy
(``t2i_core/training/attribute_guide.py``) on its images against what random training
captions state, under three settings of conditioning augmentation: the condition sampled
with the KL term at 0.5 (the recipe's default until this was measured), sampled without
the KL term, and the text's mean as the condition. It prints, per block of 50 steps, how
often the guide reads the stated petal and stem colour off the generator's images: a
supervised upper bound of how fast the text can steer colours, whatever the GAN does.
One torch thread; about two minutes per setting on this 2-core machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from t2i_core.data import load_world  # noqa: E402
from t2i_core.models.text2image_gan import Text2ImageConfig, Text2ImageGenerator  # noqa: E402
from t2i_core.training.attribute_guide import fit_attribute_guide, guide_loss, guide_view  # noqa: E402
from t2i_core.training.text2image_task import CaptionedFlowers, caption_embeddings, kl_divergence, recipe_config  # noqa: E402

SETTINGS = {"sampled, KL 0.5": (True, 0.5), "sampled, no KL": (True, 0.0), "the text's mean": (False, 0.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--encoder", default="use")
    parser.add_argument("--lr", type=float, default=2e-4)
    args = parser.parse_args()
    if args.steps % 50:
        parser.error("--steps must be a multiple of 50")
    torch.set_num_threads(1)
    data = CaptionedFlowers(load_world("flowers", "train", size=20000, seed=0))
    embeddings = torch.from_numpy(caption_embeddings(args.encoder, data.captions))  # (C, D)
    guide, record = fit_attribute_guide(data.images, data.labels)
    print(f"guide fitted in {record['seconds']} s, held-out accuracy {record['held_out_accuracy']}")
    stated = torch.from_numpy(data.caption_labels)  # (C, A)
    for name, (sampled, kl_weight) in SETTINGS.items():
        torch.manual_seed(0)
        generator = Text2ImageGenerator(Text2ImageConfig(text_dim=embeddings.shape[1], **recipe_config("projected").model))
        generator.conditioning.standardize.fit(embeddings)
        optimizer = torch.optim.Adam(generator.parameters(), lr=args.lr, betas=(0.0, 0.99))
        right = []
        started = time.time()
        for _ in range(args.steps):
            ids = torch.randint(len(data.captions), (32,))
            out = generator(embeddings[ids], torch.randn(32, generator.config.noise_dim), sample_condition=sampled)
            loss = guide_loss(guide, out.images, stated[ids]) + kl_weight * kl_divergence(out.mean, out.log_variance)
            with torch.no_grad():
                logits = guide(guide_view(out.images, guide.config.image_size))
                right.append([(logits[a].argmax(1) == stated[ids, k]).float().mean().item() for k, a in enumerate(("petal_colour", "stem_colour"))])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        blocks = np.asarray(right).reshape(-1, 50, 2).mean(1)
        print(f"{name:16s} petal / stem colour read as stated, per 50 steps: "
              + "  ".join(f"{p:.2f}/{s:.2f}" for p, s in blocks) + f"  ({time.time() - started:.0f} s)")


if __name__ == "__main__":
    main()
