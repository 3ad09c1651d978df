"""Models, one file per concept; each is a ``PretrainedModel`` with a config dataclass and its own inference.

- ``attention``: :class:`SoftAttention` over a set of keys (additive, dot or general score).
- ``image_encoders``: pictures to grids of feature vectors (``efficientnet-lite0``, ``small-cnn``).
- ``captioning``: Show and Tell and Show, Attend and Tell, with the decoders beam search drives.
- ``date_translator``: the character seq2seq with attention, its greedy ``generate`` and
  :func:`translate_texts` (strings in, ISO dates and attention out).
- ``vqa``: the VQA baseline and stacked attention, with question encoding, the encoder
  check and the answer list saved beside the weights.
- ``text2image_gan``: GAN-INT-CLS with residual attention (generator and discriminator).
- ``residual_attention``: the residual attention module the generator uses.
- ``projected_discriminator``: a discriminator on a frozen pretrained feature network.
- ``latent_encoder``: BicycleGAN's encoder, the noise that redraws a real flower.
- ``flower_classifier``: the flower attribute classifier, the judge of the generators.
- ``world_detector``: is this picture from the model's world? A Mahalanobis detector.

Models import data, decoding and checkpoint, never pipelines, evaluation or training.
"""
