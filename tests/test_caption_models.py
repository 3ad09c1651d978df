"""Captioner building blocks: attention scores, encoders, decoders, the loss, checkpoints."""

import pytest
import torch

from t2i_core.models.attention import SCORES, SoftAttention
from t2i_core.models.captioning import Captioner, CaptionerConfig
from t2i_core.models.image_encoders import EfficientNetLite0Grid, SmallCNN


@pytest.mark.parametrize("score", SCORES)
def test_every_score_gives_weights_that_sum_to_one_and_respect_the_mask(score):
    torch.manual_seed(0)
    attention = SoftAttention(key_dim=12, query_dim=20, attention_dim=8, score=score)
    keys, query = torch.randn(3, 7, 12), torch.randn(3, 20)  # (B, N, key_dim), (B, query_dim)
    mask = torch.ones(3, 7, dtype=torch.bool)
    mask[:, 5:] = False
    context, weights = attention(keys, query, mask=mask)
    assert context.shape == (3, 12) and weights.shape == (3, 7)
    assert torch.allclose(weights.sum(1), torch.ones(3))
    assert torch.all(weights[:, 5:] == 0)
    assert torch.allclose(context, torch.einsum("bn,bnd->bd", weights, keys), atol=1e-6)


def test_dot_score_prefers_the_key_that_points_along_the_query():
    attention = SoftAttention(key_dim=4, query_dim=4, attention_dim=4, score="dot")
    keys = torch.eye(4).unsqueeze(0) * 5  # (1, 4, 4): four orthogonal keys
    _, weights = attention(keys, torch.tensor([[0.0, 0.0, 3.0, 0.0]]))
    assert weights.argmax(1).item() == 2 and weights[0, 2] > 0.99


def test_prepared_keys_give_the_same_attention_as_raw_keys():
    torch.manual_seed(1)
    attention = SoftAttention(6, 6, 5, score="additive")
    keys, query = torch.randn(2, 9, 6), torch.randn(2, 6)
    assert torch.allclose(attention(keys, query)[1], attention(keys, query, prepared=attention.prepare(keys))[1])


def test_unknown_score_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown attention score 'cosine'"):
        SoftAttention(4, 4, 4, score="cosine")


def test_small_cnn_gives_a_16x16_grid_at_128_pixels():
    features = SmallCNN(width=16, image_size=128)(torch.rand(2, 3, 128, 128))
    assert features.shape == (2, 256, 32)


def test_efficientnet_lite0_gives_a_frozen_14x14_grid_of_imagenet_features():
    encoder = EfficientNetLite0Grid(pretrained=True)
    encoder.train()
    assert not encoder.training, "a frozen encoder keeps its batch-norm statistics"
    assert not any(p.requires_grad for p in encoder.parameters())
    image = torch.zeros(1, 3, 128, 128)
    image[:, 0, 20:60, 20:60] = 1.0  # a red square in the top-left quarter
    features = encoder(image)  # (1, 196, 112)
    assert features.shape == (1, 196, 112)
    grid = features[0].view(14, 14, 112)  # row-major cells: row 0 is the top of the image
    background = grid[9:13, 9:13].reshape(-1, 112).mean(0)
    distance = (grid - background).norm(dim=2)  # (14, 14)
    # ImageNet features see the square where it is; a random initialisation would see nothing.
    assert distance[3:8, 3:8].mean() > 3 * distance[9:13, 9:13].mean()

def test_the_colour_grid_adds_each_cells_colours_after_the_unchanged_imagenet_features():
    from t2i_core.models.image_encoders import ColourGrid, colour_cells

    image = torch.full((1, 3, 128, 128), 0.5)  # grey
    image[0, :, 20, 20] = torch.tensor([1.0, 0.0, 0.0])  # one red pixel, in cell (2, 2) of a 14x14 grid of 128 -> 140 pixels
    cells = colour_cells(image, 14).view(14, 14, 6)  # (row, column, mean RGB + most saturated RGB), in [-1, 1]
    assert torch.allclose(cells[2, 2, 3:], torch.tensor([1.0, -1.0, -1.0]))  # the pixel's colour, however small
    assert cells[2, 2, 0] > 0 and cells[2, 2, 0] < 0.1  # ... while the mean barely moves
    assert cells[5, 5].abs().max() == 0  # grey everywhere else
    encoder = ColourGrid(pretrained=True)
    encoder.train()
    assert not encoder.training and encoder.frozen and not any(p.requires_grad for p in encoder.parameters())
    features = encoder(image)  # (1, 196, 118)
    assert features.shape == (1, 196, 118) and encoder.feature_dim == 118
    assert torch.equal(features[..., :112], EfficientNetLite0Grid(pretrained=True)(image))  # what the world detector reads


def _tiny(kind="show-attend-tell", **overrides):
    config = CaptionerConfig(kind=kind, vocab_size=12, image_size=32, cnn_width=8, embed_dim=8, hidden_dim=16, attention_dim=8, **overrides)
    torch.manual_seed(0)
    return Captioner(config)


@pytest.mark.parametrize("kind", ["show-attend-tell", "show-and-tell"])
def test_teacher_forcing_shapes_and_maps_summing_to_one(kind):
    model = _tiny(kind)
    captions = torch.tensor([[1, 5, 6, 7, 2], [1, 8, 2, 0, 0]])  # (B, T), padded with 0
    logits, alphas = model(captions, images=torch.rand(2, 3, 32, 32))
    assert logits.shape == (2, 4, 12) and alphas.shape == (2, 4, 16)
    assert torch.allclose(alphas.sum(2), torch.ones(2, 4), atol=1e-5)


def test_padding_does_not_count_in_the_loss():
    model = _tiny(alpha_c=0.0)
    captions = torch.tensor([[1, 5, 6, 2, 0, 0]])
    logits, alphas = model(captions, images=torch.rand(1, 3, 32, 32))
    changed = logits.clone()
    changed[:, 3:] = torch.randn_like(changed[:, 3:]) * 50  # logits at padded targets
    assert torch.allclose(model.loss(logits, alphas, captions)[0], model.loss(changed, alphas, captions)[0])


def test_doubly_stochastic_penalty_averages_over_cells_and_reaches_the_attention():
    model = _tiny(alpha_c=1.0)
    captions = torch.tensor([[1, 5, 6, 2]])
    logits, alphas = model(captions, images=torch.rand(1, 3, 32, 32))
    total, cross_entropy = model.loss(logits, alphas, captions)
    expected = ((1 - alphas[0].sum(0)) ** 2).mean()  # (1 - sum over steps) per cell, mean over cells
    assert torch.allclose(total - cross_entropy, expected, atol=1e-5)
    total.backward()
    assert model.decoder.attention.score.v.weight.grad.abs().sum() > 0


def test_captioner_round_trips_through_safetensors(tmp_path):
    model = _tiny(score="general").eval()
    model.save_pretrained(tmp_path)
    loaded = Captioner.from_pretrained(tmp_path)
    assert loaded.config == model.config
    captions = torch.tensor([[1, 4, 2]])
    images = torch.rand(1, 3, 32, 32)
    assert torch.allclose(model(captions, images=images)[0], loaded(captions, images=images)[0])


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown captioner kind"):
        CaptionerConfig(kind="show-and-dance")


def test_coverage_score_reads_what_was_attended_before_and_needs_it():
    torch.manual_seed(2)
    attention = SoftAttention(6, 6, 5, score="additive", coverage=True)
    keys, query = torch.randn(2, 9, 6), torch.randn(2, 6)
    none_yet = attention(keys, query, coverage=torch.zeros(2, 9))[1]
    looked = torch.zeros(2, 9)
    looked[:, 3] = 1.0  # cell 3 was attended fully at an earlier step
    after = attention(keys, query, coverage=looked)[1]
    assert not torch.allclose(none_yet, after)  # the score reads the coverage
    changed = torch.ones(9, dtype=torch.bool)
    changed[3] = False
    # Only cell 3's score moved, so every other cell keeps its share of the rest of the mass.
    ratios = after[:, changed] / none_yet[:, changed]  # (2, 8)
    assert torch.allclose(ratios, ratios[:, :1].expand_as(ratios), rtol=1e-4)
    with pytest.raises(ValueError, match="pass the attention so far"):
        attention(keys, query)
    with pytest.raises(ValueError, match="coverage needs the additive"):
        SoftAttention(6, 6, 5, score="dot", coverage=True)
    with pytest.raises(ValueError, match="coverage needs the additive"):
        CaptionerConfig(score="general", coverage=True)


def test_coverage_state_is_the_sum_of_the_earlier_maps_and_cell_context_keeps_the_grid():
    model = _tiny(coverage=True, cell_context=True).eval()
    features = model.encode(torch.rand(2, 3, 32, 32))  # (2, 16, 16)
    state = model.decoder.start(features)
    assert torch.equal(state["coverage"], torch.zeros(2, 16))
    assert state["keys"].shape == (2, 16, 8)
    total = torch.zeros(2, 16)
    for token in (1, 5, 6):
        _, state, alpha = model.decoder.step(torch.full((2,), token), state)
        total = total + alpha
        assert torch.allclose(state["coverage"], total, atol=1e-6)
    # The 3x3 context: a change to one cell's features reaches its neighbours' keys, not far cells.
    moved = features.clone()
    moved[:, 5] += 3.0  # cell (1, 1) of the 4x4 grid
    delta = (model.decoder.start(moved)["keys"] - model.decoder.start(features)["keys"]).abs().sum(2)[0].view(4, 4)
    assert delta[0:3, 0:3].sum() > 0 and delta[3, 3] == 0
    logits, alphas = model(torch.tensor([[1, 5, 6, 2]] * 2), features=features)
    assert logits.shape == (2, 3, 12) and torch.allclose(alphas.sum(2), torch.ones(2, 3), atol=1e-5)


def test_beam_search_carries_the_coverage_of_each_hypothesis(tmp_path):
    from t2i_core.decoding.beam_search import beam_search  # only this test decodes

    model = _tiny(coverage=True, cell_context=True).eval()
    model.save_pretrained(tmp_path)
    loaded = Captioner.from_pretrained(tmp_path)
    assert loaded.config.coverage and loaded.config.cell_context
    features = model.encode(torch.rand(3, 3, 32, 32))
    decoded = beam_search(loaded.decoder, features, start_id=1, end_id=2, beam_size=3, max_length=8)
    for i, best in enumerate(decoded):
        # Teacher-forced, the same words score what the beam said and get the same maps: the
        # beam reordered each hypothesis's coverage with it.
        ids = torch.tensor([[1, *best.tokens] + ([2] if best.finished else [])])
        with torch.no_grad():
            logits, alphas = model(ids, features=features[i : i + 1])
        log_probs = torch.log_softmax(logits[0], dim=1).gather(1, ids[0, 1:, None]).sum()
        assert abs(float(log_probs) - best.score) < 1e-4
        assert torch.allclose(alphas[0, : len(best.tokens)], best.attention, atol=1e-5)


def test_a_two_layer_cell_network_is_per_cell_and_round_trips(tmp_path):
    model = _tiny(cell_layers=2).eval()
    assert [type(m).__name__ for m in model.decoder.project] == ["Linear", "ReLU", "Linear"]
    features = model.encode(torch.rand(2, 3, 32, 32))  # (2, 16, 16)
    keys = model.decoder.start(features)["keys"]
    assert keys.shape == (2, 16, 8) and bool((keys >= 0).all())
    moved = features.clone()
    moved[:, 5] += 3.0
    delta = (model.decoder.start(moved)["keys"] - keys).abs().sum(2)  # (2, 16)
    assert bool((delta[:, 5] > 0).all()) and float(delta[:, torch.arange(16) != 5].sum()) == 0.0  # no cell reads another
    model.save_pretrained(tmp_path)
    loaded = Captioner.from_pretrained(tmp_path)
    assert loaded.config.cell_layers == 2
    captions = torch.tensor([[1, 5, 6, 2]])
    assert torch.allclose(model(captions, features=features[:1])[0], loaded(captions, features=features[:1])[0])
    with pytest.raises(ValueError, match="cell_layers"):
        CaptionerConfig(cell_layers=3)
