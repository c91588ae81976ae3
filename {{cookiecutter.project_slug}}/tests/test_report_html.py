"""report.html in a real browser (headless Chromium): every table and plot shows, nothing is fetched."""

import base64
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import pytest
from test_report import BASELINE, OTHER, run_report, write_run, write_sweep

from {{ cookiecutter.package_name }}.reporting import html_page, statistics
from {{ cookiecutter.package_name }}.reporting.runs import load_runs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium or chromium-browser executable; `make browser-packages` installs it"
)
# Run after the load event, by when every image has loaded or failed: the count lands in the DOM that
# --dump-dom prints. Only the copy the browser checks gets it; report.html itself has no script.
PROBE = """<script>
addEventListener("load", () => {
  const images = [...document.images];
  document.body.dataset.images = images.length;
  document.body.dataset.imagesLoaded = images.filter((i) => i.complete && i.naturalWidth > 0).length;
});
</script>"""
HOSTILE_ERROR = "RuntimeError: <script>alert(1)</script> & more"
# Every line a page's console.* call or an uncaught exception leaves in Chromium's log.
CONSOLE_LINE = re.compile(r"^.*:CONSOLE[:(].*$", re.MULTILINE)


def chromium(tmp_path: Path, url: str, *flags: str) -> subprocess.CompletedProcess:
    """One headless Chromium run, with its own profile so that parallel tests do not share one."""
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        + [f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0", *flags, url],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )


def rendered_dom(tmp_path: Path, page: Path) -> tuple[str, list[str]]:
    """The DOM after load of a copy of `page` with the probe, and the console lines the browser logged."""
    probed = tmp_path / "probed.html"
    probed.write_text(
        page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    result = chromium(tmp_path, probed.as_uri(), "--dump-dom")
    return result.stdout, CONSOLE_LINE.findall(result.stderr)


def body_count(dom: str, name: str) -> int:
    found = re.search(rf'<body[^>]*\sdata-{name}="(\d+)"', dom)
    assert found, f"the probe did not run: no data-{name} on <body>"
    return int(found.group(1))


@pytest.fixture
def report_dir(tmp_path, capsys) -> Path:
    """A report with a baseline, learning curves and a run of each kind that report.html lists."""
    sweep = write_sweep(tmp_path / "sweep", {"model=linear": BASELINE, "model=mlp": OTHER})
    history = "epoch,val/acc\n0,0.5\n1,0.7\n"
    for seed in (1, 2):
        metrics = {"test/acc": 0.97 + seed / 100, "test/loss": 0.03}
        # Seed 1 was resumed once: trained in two segments.
        resumed = {"segments": [{}, {}]} if seed == 1 else {}
        write_run(sweep / f"cnn_{seed}", ["model=cnn", f"seed={seed}"], metrics, history=history, **resumed)
    write_run(sweep / "mlp_4", ["model=mlp", "seed=4"], status="failed", error=HOSTILE_ERROR)
    write_run(sweep / "mlp_1_early", ["model=mlp", "seed=1"], {"test/acc": 0.1}, finished_at="2000-01-01")
    assert run_report(capsys, sweep, "--baseline", "model=linear", "--out", tmp_path / "report")[0] == 0
    return tmp_path / "report"


def test_report_html_references_nothing_outside_itself(report_dir):
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert f"<title>Report: {report_dir.parent / 'sweep'}</title>" in page
    for outside in ("http:", "https:", "<link", "<script", "url(", "@import"):
        assert outside not in page
    sources = re.findall(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]*)""", page)
    assert all(source.startswith("data:image/png;base64,") for source in sources)
    # Each plot whole: a browser shows a truncated PNG as far as it goes and reports it loaded.
    embedded = sorted(base64.b64decode(source.split(",", 1)[1], validate=True) for source in sources)
    assert embedded == sorted(path.read_bytes() for path in report_dir.glob("*.png")) and len(embedded) == 3
    # The run's error is text on the page, not markup.
    assert "RuntimeError: &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page


def test_a_column_added_to_the_summary_is_shown(tmp_path):
    write_sweep(tmp_path, {"model=linear": BASELINE, "model=mlp": OTHER})
    runs = load_runs([tmp_path])
    summary = statistics.summarize(runs, ["test/acc"], "model=linear")
    # Columns that a later statistic might add, named nothing the summary has yet.
    summary.insert(len(summary.columns), "p_future", [float("nan"), 0.0004])
    summary.insert(len(summary.columns), "runs_needed", [0, 7])
    page = html_page.page(summary, runs, "model=linear", [])
    assert ">p future</th>" in page and "&lt;0.001" in page
    assert ">runs needed</th>" in page and ">7</td>" in page
    # The comparison's own columns, as they are today.
    assert ">p holm</th>" in page and ">seeds needed</th>" in page
    assert ">direction</th>" not in page and ">note</th>" not in page


@needs_chromium
def test_report_html_renders_every_table_and_figure(report_dir, tmp_path):
    dom, console = rendered_dom(tmp_path, report_dir / "report.html")
    assert console == []
    figures = sorted(path.name for path in report_dir.glob("*.png"))
    assert figures == ["curves_val-acc.png", "metric_test-acc.png", "metric_test-loss.png"]
    assert body_count(dom, "images") == body_count(dom, "images-loaded") == len(figures)
    # Two metrics, then the runs, the failed, the resumed and the repeated runs.
    assert dom.count("<table") == 6
    for heading in ("test/acc (higher is better)", "test/loss (lower is better)", "Learning curves"):
        assert f"<h2>{heading}</h2>" in dom
    for heading in (
        "Runs (9)",
        "Failed or unfinished runs (1)",
        "Resumed runs (1)",
        "Repeats, not counted (1)",
    ):
        assert f"<h2>{heading}</h2>" in dom
    # model=mlp against the baseline, as report.md has it (tests/test_report.py checks these numbers).
    for value in ("model=linear (baseline)", "0.9600 ± 0.0100", "[0.9352, 0.9848]", "+0.0400", "0.0548"):
        assert f">{value}</td>" in dom
    assert "Welch's t-test" in dom and "alert(1)" in dom and dom.count("<script") == 1


@needs_chromium
def test_report_html_screenshot_is_not_blank(report_dir, tmp_path):
    screenshot = tmp_path / "report.png"
    result = chromium(
        tmp_path,
        (report_dir / "report.html").as_uri(),
        f"--screenshot={screenshot}",
        "--window-size=1280,2000",
    )
    assert CONSOLE_LINE.findall(result.stderr) == []
    image = matplotlib.image.imread(screenshot)
    assert image.shape[:2] == (2000, 1280)
    colours = {tuple(pixel) for pixel in image.reshape(-1, image.shape[-1])[::97].tolist()}
    assert len(colours) > 10


@needs_chromium
def test_the_browser_checks_catch_a_broken_page(tmp_path):
    """The checks above pass only if they can fail: a missing image and a console error are seen."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
        '<img src="missing.png"><script>console.error("broken")</script></body></html>'
    )
    dom, console = rendered_dom(tmp_path, page)
    assert (body_count(dom, "images"), body_count(dom, "images-loaded")) == (1, 0)
    assert len(console) == 1 and '"broken"' in console[0]
