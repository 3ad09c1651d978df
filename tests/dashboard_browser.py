"""The dashboard driven in headless Chromium: the walk shared by the local server's test and the Docker image's."""

from __future__ import annotations

from pathlib import Path

import pytest

from servers import CHROMIUM, CHROMIUM_ARGS

BENCHMARK_TAB = "Benchmark results"


def skip_without_a_browser() -> None:
    """Skip the calling test where Chromium or Playwright is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    pytest.importorskip("playwright", reason="playwright is not installed (pip install -r requirements-dev.txt)")


def drive_the_dashboard(url: str, tmp_path: Path, *, benchmark_results: bool) -> Path:
    """Open the dashboard at `url`, change a sentence, click the PCA map, reopen the link, open the benchmark.

    benchmark_results says whether the server reads a benchmark results file (the shipped one)
    or none. Returns the screenshot of the page after the click.
    """
    # Imported here: the dashboard's other tests use this module's names without a browser.
    from playwright.sync_api import sync_playwright

    screenshot = tmp_path / "dashboard.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            page.goto(url, timeout=60_000)
            page.get_by_text("Does the encoder read word order?").first.wait_for(timeout=60_000)
            values = page.locator('[data-testid="stMetricValue"]')
            values.nth(1).wait_for(timeout=60_000)
            assert values.count() == 2
            glove = page.locator('[data-testid="stMetric"]', has_text="glove-avg").locator('[data-testid="stMetricValue"]')
            assert glove.inner_text().strip() == "1.000"

            sentence_b = page.get_by_label("Sentence B")
            sentence_b.fill("a dog runs across the park")
            sentence_b.press("Enter")
            page.wait_for_function(
                """() => [...document.querySelectorAll('[data-testid="stMetric"]')]
                    .some(m => m.innerText.includes('glove-avg') && !m.innerText.includes('1.000'))""",
                timeout=30_000,
            )
            page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=30_000)
            page.wait_for_function("() => location.search.includes('sentence_b=')", timeout=30_000)  # the URL follows

            # A click on a point of the glove-avg map: its sentence's neighbours appear, and the URL names it.
            point = page.locator(".st-key-projection_glove-avg .scatterlayer .trace .point").nth(2)
            point.wait_for(timeout=30_000)
            point.scroll_into_view_if_needed()
            page.wait_for_timeout(1000)  # plotly's layout settles
            box = point.bounding_box()
            # A mouse click where the point is: plotly takes clicks on its drag layer above the markers.
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_function("() => location.search.includes('neighbours_of=')", timeout=30_000)
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
            page.wait_for_timeout(1500)  # let plotly and the table draw before the picture
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=str(screenshot), full_page=True)

            # The URL reopens the same view in a new page; opening a tab computes it and goes into the URL.
            link = page.url
            again = browser.new_page(viewport={"width": 1400, "height": 2400})
            again.goto(link, timeout=60_000)
            again.get_by_text("The sentences closest to it").wait_for(timeout=60_000)  # the neighbours table is back
            again.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=30_000)
            assert again.get_by_label("Sentence B").input_value() == "a dog runs across the park"
            assert "neighbours_of=" in again.url
            again.get_by_role("tab", name=BENCHMARK_TAB).click()
            if benchmark_results:  # the shipped results, drawn as charts
                again.get_by_text("Mean cosine of the anchor with its paraphrase and with its swap").wait_for(timeout=30_000)
                again.locator('[data-testid="stPlotlyChart"]', has=again.locator(".main-svg")).last.wait_for(timeout=30_000)
            else:
                again.get_by_text("No benchmark results yet").wait_for(timeout=30_000)
            again.wait_for_function("() => location.search.includes('tab=Benchmark')", timeout=30_000)
            assert again.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
    picture = screenshot.read_bytes()
    assert picture[:8] == b"\x89PNG\r\n\x1a\n" and len(picture) > 20_000
    return screenshot
