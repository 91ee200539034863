"""Checks of the built book in a real browser (headless Chromium driven by Playwright).

Used by ``tests/test_book.py`` on the quick-profile build, and runnable on any
build: ``.venv/bin/python tests/browser_checks.py _build/html``.

Each check returns a list of problems (empty when the page passes):

* :func:`progress_widgets` -- progress-bar or other widget views saved into a page;
* :func:`blank_gaps` -- an output area taller than :data:`MAX_GAP_PX` with nothing visible in it;
* :func:`small_images` -- an image shown at less than :data:`MIN_IMAGE_SCALE` of its natural
  width in a :data:`WINDOW` wide window;
* :func:`wide_lines` -- visible code or printed output wider than the text column;
* :func:`dead_sliders` -- a live slider that, moved, does not change the figure it drives;
* :func:`broken_links` -- an internal link (citations included) whose page or anchor does not exist;
* :func:`uncaptioned_figures` -- a chapter's figure without a numbered caption, or an image whose alt
  text is a file name or a hash instead of what it shows.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

WINDOW = {"width": 1400, "height": 900}
MAX_GAP_PX = 300
MIN_IMAGE_SCALE = 0.75
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The system's Chromium, if installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def pages(html_root: Path) -> list[Path]:
    """Every page of the book (Sphinx's search and index pages, and redirect stubs, aside)."""
    skip = {"search.html", "genindex.html"}
    return sorted(
        p for p in html_root.rglob("*.html")
        if p.name not in skip and "_static" not in p.parts and "_sources" not in p.parts
        and 'http-equiv="refresh"' not in p.read_text(errors="replace")[:2000].lower()
    )


def progress_widgets(page) -> list[str]:
    found = page.evaluate(
        """() => {
        const sel = 'script[type="application/vnd.jupyter.widget-view+json"], .widget-hprogress, '
                  + '.widget-progress, .jupyter-widgets, progress';
        return Array.from(document.querySelectorAll(sel)).map(e => e.tagName + '.' + e.className).slice(0, 5);
    }"""
    )
    return [f"widget view saved in the page: {f}" for f in found]


def blank_gaps(page) -> list[str]:
    """Outputs of one cell that take more than MAX_GAP_PX of height and show nothing (hidden widgets, say)."""
    found = page.evaluate(
        """(maxGap) => {
        const out = [];
        const media = 'img, svg, canvas, video, iframe, input, table';
        const shows = el => el.innerText.trim().length > 0 || el.matches(media) || el.querySelector(media);
        for (const cell of document.querySelectorAll('.cell_output')) {
            let blank = 0;
            for (const child of cell.children) {
                if (!shows(child)) blank += child.getBoundingClientRect().height;
            }
            const r = cell.getBoundingClientRect();
            if (!shows(cell) && r.height > blank) blank = r.height;
            if (blank > maxGap) out.push(Math.round(blank) + ' px blank in the outputs of a cell at y = '
                + Math.round(r.top + window.scrollY));
        }
        return out;
    }""",
        MAX_GAP_PX,
    )
    return [f"blank gap: {f}" for f in found]


def small_images(page) -> list[str]:
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=30_000)
    found = page.evaluate(
        """(minScale) => {
        const out = [];
        for (const img of document.querySelectorAll('article img')) {
            if (img.naturalWidth < 80 || img.offsetParent === null) continue;  // icons, closed menus
            const shown = img.getBoundingClientRect().width;
            const scale = shown / img.naturalWidth;
            if (scale < minScale) out.push((img.alt || img.src.slice(0, 60)).slice(0, 80) + ': shown at '
                + Math.round(100 * scale) + '% (' + Math.round(shown) + ' of ' + img.naturalWidth + ' px)');
        }
        return out;
    }""",
        MIN_IMAGE_SCALE,
    )
    return [f"image too small: {f}" for f in found]


def wide_lines(page) -> list[str]:
    """Visible code or printed output wider than the text column (a horizontal scroll bar)."""
    found = page.evaluate(
        """() => {
        const out = [];
        for (const pre of document.querySelectorAll('article pre')) {
            if (pre.offsetParent === null || !pre.innerText.trim()) continue;
            if (pre.scrollWidth > pre.clientWidth + 2) {
                const kind = pre.closest('.cell_output') ? 'output' : 'code';
                const line = pre.innerText.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '');
                out.push(kind + ' wider than the column: ' + line.slice(0, 70));
            }
        }
        return out;
    }"""
    )
    return found


def uncaptioned_figures(page) -> list[str]:
    """Figures of a chapter without a numbered caption, or images whose alt text does not describe them."""
    found = page.evaluate(
        r"""() => {
        const out = [];
        for (const img of document.querySelectorAll('article img')) {
            if (img.naturalWidth < 80 || img.offsetParent === null) continue;
            const alt = (img.getAttribute('alt') || '').trim();
            const name = (img.getAttribute('src') || '').split('/').pop().slice(0, 24);
            if (!alt || /^[0-9a-f]{16,}/.test(alt) || /\.(png|jpg|svg)$/.test(alt))
                out.push('no alt text that says what it shows: ' + (alt || name));
            if (img.closest('.live-figure')) continue;
            const fig = img.closest('figure');
            if (!fig || !fig.querySelector('figcaption'))
                out.push('figure without a caption: ' + (alt || name).slice(0, 80));
            else if (!/Fig\. \d/.test(fig.querySelector('figcaption').innerText))
                out.push('figure without a number: ' + (alt || name).slice(0, 80));
        }
        return out;
    }"""
    )
    return found


def dead_sliders(page) -> list[str]:
    """Move every live slider one step and check that its figure changes."""
    problems = []
    figures = page.query_selector_all(".live-figure")
    for f, figure in enumerate(figures):
        img = figure.query_selector("img.live-frame")
        for slider in figure.query_selector_all("input.live-slider"):
            name = slider.get_attribute("data-param")
            top = int(slider.get_attribute("max"))
            if top == 0:
                continue
            before = img.get_attribute("src")
            value = int(slider.input_value())
            slider.fill(str(value - 1 if value == top else value + 1))
            after = img.get_attribute("src")
            readout = figure.query_selector(f'output[data-param="{name}"]').inner_text()
            if after == before:
                problems.append(f"live figure {f}: moving '{name}' does not change the figure")
            if not readout:
                problems.append(f"live figure {f}: slider '{name}' shows no value")
    return problems


_IDS = {}


def _ids(path: Path) -> set[str]:
    if path not in _IDS:
        _IDS[path] = set(re.findall(r'\bid="([^"]+)"', path.read_text(errors="replace")))
    return _IDS[path]


def broken_links(page, path: Path, html_root: Path) -> list[str]:
    hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))")
    problems = []
    for href in sorted(set(hrefs)):
        parts = urlsplit(href)
        if parts.scheme or href.startswith(("//", "mailto:", "javascript:")):
            continue
        target = path if not parts.path else (path.parent / unquote(parts.path)).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            problems.append(f"link to a missing page: {href}")
            continue
        if parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _ids(target):
            problems.append(f"link to a missing anchor: {href}")
    return problems


def check_book(html_root: Path, chapters_with_sliders: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """Open every page in headless Chromium and run every check; ``{page: problems}``."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("no Chromium found: install the system package (e.g. `apt-get install chromium`)")
    report: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport=WINDOW, offline=True)
            for path in pages(html_root):
                page = context.new_page()
                page.goto(path.resolve().as_uri(), wait_until="load")
                problems = progress_widgets(page) + blank_gaps(page) + small_images(page) + wide_lines(page)
                problems += dead_sliders(page) + broken_links(page, path.resolve(), html_root)
                if path.parent.name == "notebooks":
                    problems += uncaptioned_figures(page)
                if path.stem in chapters_with_sliders and not page.query_selector(".live-figure"):
                    problems.append("no live slider in the rendered page")
                report[str(path.relative_to(html_root))] = problems
                page.close()
        finally:
            browser.close()
    return report


if __name__ == "__main__":
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    bad = 0
    chapters = tuple(p.stem for p in (root / "notebooks").glob("*.html"))
    for name, problems in check_book(root, chapters_with_sliders=chapters).items():
        print(f"{name}: {'ok' if not problems else f'{len(problems)} problem(s)'}")
        for problem in problems:
            print(f"    {problem}")
        bad += bool(problems)
    sys.exit(1 if bad else 0)
