"""The Gradio app in a real browser: Playwright driving Debian's Chromium against `python app.py`.

Every tab is used the way a person would, and photographed; the screenshots are kept
under the test's temporary folder (and copied to docs/ with T2I_SCREENSHOTS=docs).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from servers import CHROMIUM, CHROMIUM_ARGS, free_loopback_port, stop, wait_until_answering
from t2i_core.app.shipped import available

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    folder = tmp_path_factory.mktemp("app")
    port = free_loopback_port()
    log = (folder / "server.log").open("wb")
    env = {**os.environ, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_answering(f"http://127.0.0.1:{port}/", server, seconds=120)
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                tab = browser.new_page(viewport={"width": 1300, "height": 1200})
                tab.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
                tab.folder = folder
                yield tab
            finally:
                browser.close()
    finally:
        stop(server)
        log.close()
    assert "Traceback" not in (folder / "server.log").read_text(errors="replace")


def _screenshot(page, name: str) -> Path:
    path = page.folder / f"app-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("T2I_SCREENSHOTS"):
        shutil.copy(path, ROOT / os.environ["T2I_SCREENSHOTS"] / path.name)
    return path


def _open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


def test_the_page_opens_with_the_rose_pair_drawn_and_judged_and_every_tab_filled(page):
    """The cached examples fill each tab on first view, with no click; a word of a cached caption can be clicked."""
    if not available("text2image"):
        pytest.skip("no generator shipped")
    # this test runs first: nothing has been clicked on this page yet
    page.locator("#t2i-use-gallery img").first.wait_for(timeout=60_000)
    assert page.locator("#t2i-prompt textarea").input_value() == "a red flower with a yellow stem"
    assert page.locator("#t2i-use-gallery img").count() == 8 and page.locator("#t2i-glove-gallery img").count() == 8
    assert "stated attributes right" in page.locator("#t2i-verdicts").inner_text()
    alt = page.locator("#t2i-use-gallery img").first.get_attribute("alt")
    assert alt.startswith("1: petals red") and "stem yellow" in alt, alt  # the verdict is the image's alt text
    _screenshot(page, "first-view")
    # clicking another example shows its cached flowers and leaves the controls as they were
    page.get_by_role("button", name="a yellow flower with a red stem", exact=True).first.click()
    page.wait_for_function("() => { const img = document.querySelector('#t2i-use-gallery img'); return img && img.alt.includes('petals yellow'); }",
                           timeout=30_000)
    assert not page.locator("#t2i-masks input").is_checked() and not page.locator("#t2i-mask-gallery").is_visible()
    assert page.locator("#t2i-count input[type=number]").input_value() == "8"
    if available("dates"):
        _open_tab(page, "Dates")
        page.get_by_text("2020-03-03").first.wait_for(timeout=30_000)
    if "show-attend-tell" in available("caption"):
        _open_tab(page, "Image to caption")
        words = page.locator("#cap-words .token")
        words.first.wait_for(timeout=30_000)
        words.nth(1).click()  # the cached caption has no result object: the click recomputes it
        page.wait_for_function("() => document.querySelector('#cap-word-note').innerText.includes('Attention for')", timeout=30_000)
    if "attention" in available("vqa"):
        _open_tab(page, "Visual questions")
        assert page.locator("#vqa-question input").input_value() == "what color is the circle?"
        page.locator("#vqa-answer h2").first.wait_for(timeout=30_000)
    _open_tab(page, "Text to image")


def test_what_is_typed_as_the_page_opens_stays_while_the_examples_load(page):
    """The inputs hold their examples in the page itself; opening it loads only outputs, so early typing is kept.

    The page's first calls to the server are held until the visitor has typed, as on a slow
    connection or a busy server; then they are let through.
    """
    if not available("text2image"):
        pytest.skip("no generator shipped")
    calls = re.compile(r".*/gradio_api/(queue/join|run/predict).*")
    held, holding = [], True
    fresh = page.context.browser.new_page(viewport={"width": 1300, "height": 1200})
    try:
        fresh.route(calls, lambda route: held.append(route) if holding else route.continue_())
        fresh.goto(page.url, timeout=60_000)
        prompt = fresh.locator("#t2i-prompt textarea")
        prompt.wait_for(timeout=60_000)
        assert prompt.input_value() == "a red flower with a yellow stem"  # in the page, before any event ran
        for _ in range(300):  # the events run on load have been sent, and are held
            if held:
                break
            fresh.wait_for_timeout(100)
        assert held, "the page sent no event when it opened"
        prompt.fill("a blue flower with a white stem")
        holding = False
        for route in held:
            route.continue_()
        fresh.locator("#t2i-use-gallery img").first.wait_for(timeout=60_000)
        fresh.locator("#t2i-verdicts").get_by_text("stated attributes right").first.wait_for(timeout=30_000)
        fresh.wait_for_timeout(500)
        assert prompt.input_value() == "a blue flower with a white stem"
    finally:
        fresh.close()


def test_typing_a_prompt_draws_flowers(page):
    if not available("text2image"):
        pytest.skip("no generator shipped")
    _open_tab(page, "Text to image")
    page.locator("#t2i-prompt textarea").fill("a blue flower with a white stem")
    page.locator("#t2i-generate").click()
    # the galleries already hold the rose pair: wait for the new prompt's verdicts, not for any image
    for gallery in ("#t2i-use-gallery", "#t2i-glove-gallery"):
        page.wait_for_function(f"() => {{ const img = document.querySelector('{gallery} img'); return img && img.alt.includes('petals blue'); }}",
                               timeout=60_000)
    assert page.locator("#t2i-use-gallery img").count() >= 1
    # every picture of the new prompt loaded (not the rose pair's, still on screen while they load)
    page.wait_for_function("() => [...document.querySelectorAll('#t2i-use-gallery img, #t2i-glove-gallery img')]"
                           ".every(img => img.complete && img.naturalWidth > 0 && img.alt.includes('petals blue'))", timeout=60_000)
    page.locator("#t2i-swap").click()  # the twin, "a white flower with a blue stem", in the sliders
    page.wait_for_function("() => document.querySelector('#t2i-twin-verdicts').innerText.includes('a white flower with a blue stem')", timeout=60_000)
    assert page.locator("#t2i-twin textarea").input_value() == "a white flower with a blue stem"
    assert page.locator("#t2i-prompt textarea").input_value() == "a blue flower with a white stem", "the prompt of the galleries above stays"
    for slider in ("#t2i-use-slider", "#t2i-glove-slider"):
        page.wait_for_function(f"() => {{ const imgs = [...document.querySelectorAll('{slider} img')]; "
                               "return imgs.length >= 2 && imgs.every(img => img.complete && img.naturalWidth > 0); }", timeout=60_000)
    page.wait_for_timeout(500)
    _screenshot(page, "text-to-image")


def test_the_masks_checkbox_shows_the_masks_gallery_and_generate_fills_it(page):
    if not available("text2image"):
        pytest.skip("no generator shipped")
    _open_tab(page, "Text to image")
    gallery = page.locator("#t2i-mask-gallery")
    assert not gallery.is_visible()
    page.locator("#t2i-masks input").check()
    gallery.wait_for(state="visible", timeout=30_000)
    page.locator("#t2i-generate").click()
    page.locator("#t2i-mask-gallery img").first.wait_for(timeout=60_000)
    page.locator("#t2i-masks input").uncheck()
    gallery.wait_for(state="hidden", timeout=30_000)


def test_uploading_a_scene_captions_it_and_clicking_a_word_moves_the_heatmap(page, tmp_path):
    from t2i_core.data import load_world

    if "show-attend-tell" not in available("caption"):
        pytest.skip("no captioner shipped")
    scene = tmp_path / "scene.png"
    load_world("scenes", "test", size=2, seed=4).sample(1).image.save(scene)
    _open_tab(page, "Image to caption")
    page.locator("#cap-image input[type=file]").set_input_files(str(scene))
    page.locator("#cap-image img").first.wait_for(timeout=30_000)
    before = page.locator("#cap-summary").inner_text()  # the first example's caption, shown since the page opened
    page.locator("#cap-run").click()
    page.wait_for_function("before => { const t = document.querySelector('#cap-summary').innerText; return t !== before && t.includes('Click a word'); }",
                           arg=before, timeout=60_000)
    words = page.locator("#cap-words .token")
    words.nth(2).wait_for(timeout=60_000)
    heatmap = page.locator("#cap-heatmap img").first
    heatmap.wait_for(timeout=30_000)
    first_map = heatmap.get_attribute("src")
    page.locator("#cap-strip img").first.wait_for(timeout=30_000)
    words.nth(2).click()
    page.wait_for_function(
        "first => { const img = document.querySelector('#cap-heatmap img'); return img && img.src !== first; }",
        arg=first_map, timeout=30_000,
    )
    assert "Attention for" in page.locator("#cap-word-note").inner_text()
    page.wait_for_timeout(500)  # the new heatmap fades in
    _screenshot(page, "image-to-caption")


def test_the_round_trip_shows_both_sentences(page):
    if "show-attend-tell" not in available("caption") or "use" not in available("text2image"):
        pytest.skip("the round trip needs the USE generator and the captioner")
    _open_tab(page, "Round trip")
    page.locator("#rt-run").click()
    page.locator("#rt-image img").first.wait_for(timeout=60_000)
    page.wait_for_function("() => document.querySelector('#rt-table').innerText.includes('a red flower with a yellow stem')", timeout=60_000)
    page.wait_for_function("() => { const img = document.querySelector('#rt-image img'); return img.complete && img.naturalWidth > 0; }", timeout=60_000)
    flower = page.locator("#rt-image img").first
    assert flower.evaluate("img => img.naturalWidth") == 64  # sent at the generator's size...
    assert flower.bounding_box()["width"] >= 200  # ...and drawn at the box's, not as a 64-pixel stamp
    _screenshot(page, "round-trip")


def test_a_typed_date_shows_its_iso_form_and_attention_matrix(page):
    if not available("dates"):
        pytest.skip("no date translator shipped")
    _open_tab(page, "Dates")
    page.locator("#dates-text textarea, #dates-text input").first.fill("the 1st of may 1999")
    page.locator("#dates-run").click()
    page.wait_for_function("() => document.querySelector('#dates-summary').innerText.includes('1999-05-01')", timeout=60_000)
    page.locator("#dates-attention .js-plotly-plot").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)  # let plotly draw before the picture
    _screenshot(page, "dates")


def test_asking_about_a_rendered_scene_shows_the_answer_chart_and_maps(page):
    if "attention" not in available("vqa"):
        pytest.skip("no VQA model shipped")
    _open_tab(page, "Visual questions")
    # Test scene 50: a large pink star left of a small red triangle, a small blue diamond above
    # it. Position needs both hops (find the triangle, then look left of it).
    page.locator("#vqa-scene-seed input").first.fill("50")
    page.locator("#vqa-render").click()
    page.locator("#vqa-image img").first.wait_for(timeout=30_000)
    page.locator("#vqa-question textarea, #vqa-question input").first.fill("what is left of the triangle?")
    before = page.locator("#vqa-answer h2").inner_text()  # the first example's answer, shown since the page opened
    page.locator("#vqa-run").click()
    page.wait_for_function("before => { const h = document.querySelector('#vqa-answer h2'); return h && h.innerText !== before; }",
                           arg=before, timeout=60_000)
    assert "star" in page.locator("#vqa-answer").inner_text()
    page.locator("#vqa-chart .js-plotly-plot").first.wait_for(timeout=30_000)
    page.locator("#vqa-maps img").first.wait_for(timeout=30_000)
    page.wait_for_timeout(1000)
    _screenshot(page, "visual-questions")


def test_the_worlds_and_about_tabs_render(page):
    _open_tab(page, "Worlds")
    page.locator("#world-grid img").first.wait_for(timeout=60_000)
    _screenshot(page, "worlds")
    _open_tab(page, "About")
    page.get_by_text("Train them yourself").first.wait_for(timeout=30_000)
    _screenshot(page, "about")
