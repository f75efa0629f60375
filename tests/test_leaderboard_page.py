"""The leaderboard page (benchmarks/reports/leaderboard_page.py) in a real headless browser.

Built from the committed ``reports/matbench_gpu`` and ``reports/phonon_gpu`` runs. Debian's chromium, driven by
playwright's Python package (never a downloaded browser); the browser test skips, saying
why, only where chromium or playwright is absent. The screenshot goes to
``$CLOUD_TEST_ARTIFACTS`` (default: the test's tmp folder) and its path is printed.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from benchmarks.reports import leaderboard_page

REPO = Path(__file__).resolve().parents[1]
RUNS = [REPO / "reports" / "matbench_gpu", REPO / "reports" / "phonon_gpu"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("page") / "index.html"
    assert leaderboard_page.main([*map(str, RUNS), "--html", str(out)]) == 0
    return out


def test_page_is_self_contained(page_file):
    text = page_file.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<script src" not in text and "<link" not in text
    assert "composition_rf" in text and '"mark":"\\u2248 best"' in text


def test_cli_refuses_a_folder_without_summary(tmp_path, capsys):
    assert leaderboard_page.main([str(tmp_path), "--html", str(tmp_path / "x.html")]) == 2
    assert "no summary.json" in capsys.readouterr().err


def _browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian: apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; the browser used "
                    "is the system chromium, none is downloaded)")
    return sync_playwright


def _column(page, header: str) -> list[str]:
    idx = page.eval_on_selector_all("th", "hs => hs.map(h => h.textContent)").index(header)
    return page.eval_on_selector_all(
        "#body tr", f"rs => rs.map(r => r.children[{idx}].textContent)")


def test_page_in_headless_chromium(page_file, tmp_path):
    sync_playwright = _browser()
    shots = Path(os.environ.get("CLOUD_TEST_ARTIFACTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1600, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri())
        n_rows = page.locator("#body tr").count()
        assert n_rows > 14  # 7 models x 2 tasks and the paper's rows

        page.click("th[data-key=mean]")
        means = [float(v) for v in _column(page, "mean") if v != "—"]
        assert means == sorted(means)
        page.click("th[data-key=mean]")
        desc = [float(v) for v in _column(page, "mean") if v != "—"]
        assert desc == sorted(desc, reverse=True)

        page.select_option("#family", "phonon")
        assert 0 < page.locator("#body tr").count() < n_rows
        assert set(_column(page, "family")) == {"phonon"}
        page.select_option("#family", "matbench")
        page.uncheck("#paper")
        assert 0 < page.locator("#body tr").count() < n_rows
        assert page.locator("#body tr.paper").count() == 0
        page.fill("#text", "jdft2d")
        assert set(_column(page, "task")) == {"matbench_jdft2d"}

        path = shots / "leaderboard_page.png"
        page.screenshot(path=str(path), full_page=True)
        page.locator("a.parity").first.click()
        assert page.locator("#modal svg circle").count() > 10
        plot = shots / "leaderboard_parity.png"
        page.screenshot(path=str(plot))
        browser.close()
    print(f"screenshots: {path}, {plot}")
    assert path.stat().st_size > 10_000 and plot.stat().st_size > 10_000
    assert not errors, errors
    assert all(u.startswith("file://") for u in requests), requests
