"""The built book in a real browser: headless Chromium renders the plotly figures and math, with no
JavaScript error and no request leaving the local server (the site works offline).

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); skipped without them.
The site is served by ``http.server`` on 127.0.0.1 from a thread, as a reader's browser would see it.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from study.test_study import fitted_run, study  # noqa: F401 - fixtures of the report test

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="headless Chromium not installed (apt-get install chromium chromium-driver)",
)

CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

#: Every figure was drawn by plotly.js (SVG) with its interactive mode bar (zoom, pan, download).
PLOTS_RENDERED = """
const divs = Array.from(document.querySelectorAll('.plotly-graph-div'));
return divs.length > 0 && divs.every(
  d => d.classList.contains('js-plotly-plot') && d.querySelector('svg.main-svg') && d.querySelector('.modebar'));
"""


PAGE_LOADED = "return document.readyState === 'complete'"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="splkit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def serve(html_dir: Path):
    """Serve ``html_dir`` on 127.0.0.1 (a free port) from a daemon thread; returns (server, base URL)."""
    handler = functools.partial(_QuietHandler, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def load(driver, url: str, base: str, ready: str = PLOTS_RENDERED) -> tuple[list[dict], list[str]]:
    """Open ``url``, wait until the script ``ready`` returns true; return the page's console errors and
    every URL it requested outside ``base``."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")  # drop entries of earlier pages
    driver.get_log("performance")
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(ready))
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    foreign = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            requested = message["params"]["request"]["url"]
            # chrome:// (the browser's own pages), data: and blob: never touch the network
            if requested.startswith(("http:", "https:", "ws:", "wss:", "ftp:")) and not requested.startswith(
                base
            ):
                foreign.append(requested)
    return errors, foreign


def check_site_in_browser(driver, html_dir: Path, min_figure_pages: int = 1) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    server, base = serve(html_dir)
    try:
        # index.html redirects to the introduction
        intro_ready = "return location.pathname.endsWith('/intro.html') && document.readyState === 'complete'"
        errors, foreign = load(driver, f"{base}/index.html", base, ready=intro_ready)
        assert not errors, f"JavaScript errors on the index: {errors}"
        assert not foreign, f"the index requested resources from the network: {foreign}"
        assert driver.find_elements("css selector", "table"), "the introduction has no headline table"

        for page in sorted(html_dir.glob("*.html")):  # the other book pages: methods, checklist, search…
            if page.name == "index.html":
                continue
            errors, foreign = load(driver, f"{base}/{page.name}", base, ready=PAGE_LOADED)
            assert not errors, f"JavaScript errors on {page.name}: {errors}"
            assert not foreign, f"{page.name} requested resources from the network: {foreign}"

        figure_pages = sorted(
            p for p in (html_dir / "notebooks").glob("*.html") if "plotly-graph-div" in p.read_text()
        )
        assert len(figure_pages) >= min_figure_pages, "no notebook page has a plotly figure"
        for page in figure_pages:
            url = f"{base}/notebooks/{page.name}"
            errors, foreign = load(driver, url, base)
            assert not errors, f"JavaScript errors on {page.name}: {errors}"
            assert not foreign, f"{page.name} requested resources from the network: {foreign}"
            n_plots = driver.execute_script(
                "return document.querySelectorAll('.js-plotly-plot svg.main-svg').length"
            )
            assert n_plots > 0
            if driver.execute_script("return document.querySelectorAll('.math').length") > 0:
                WebDriverWait(driver, 30).until(
                    lambda d: d.execute_script("return document.querySelectorAll('mjx-container').length > 0")
                )
    finally:
        server.shutdown()
        server.server_close()


def test_fake_book_renders_figures_and_math_offline(browser, fake_book):
    _, html_dir = fake_book
    check_site_in_browser(browser, html_dir)
    # the fake chapter has math: MathJax (served from _static) turned it into mjx-container nodes
    assert "_static/mathjax/tex-chtml.js" in (html_dir / "notebooks" / "01_cohort.html").read_text()


@pytest.mark.slow
def test_smoke_book_renders_figures_offline(browser, smoke_run):
    _, html_dir = smoke_run
    check_site_in_browser(browser, html_dir)


#: Every image of the page was decoded (a broken base64 PNG has naturalWidth 0).
IMAGES_RENDERED = """
const images = Array.from(document.images);
return document.readyState === 'complete' && images.length > 0
  && images.every(i => i.complete && i.naturalWidth > 0);
"""


def test_per_patient_report_renders_offline(browser, tmp_path, fitted_run, study):  # noqa: F811
    """``splkit.study.report`` pages: images decoded, no JavaScript error, no request off the server."""
    import copy

    from splkit.study.report import write_reports

    _, cohort = fitted_run
    new = copy.copy(cohort)
    new.table = (
        cohort.table[cohort.table["cohort"] == "validation"].iloc[:2].drop(columns=["label", "cohort"])
    )
    scores = study.predict_proba(new).add_suffix("_probability").assign(ood=[False, True])
    paths = write_reports(study, new, scores, tmp_path / "reports")
    server, base = serve(tmp_path / "reports")
    try:
        for path in paths:  # the index (links only), then one page per patient (three images each)
            ready = (
                "return document.readyState === 'complete'" if path.name == "index.html" else IMAGES_RENDERED
            )
            errors, foreign = load(browser, f"{base}/{path.name}", base, ready=ready)
            assert not errors, f"JavaScript errors on {path.name}: {errors}"
            assert not foreign, f"{path.name} requested resources from the network: {foreign}"
        rendered = browser.execute_script("return document.images.length")
        assert rendered == 3, "image with contour, Grad-CAM overlay and SHAP waterfall"
    finally:
        server.shutdown()
        server.server_close()
