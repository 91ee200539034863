"""Checks of the built book in a real browser (headless Chromium driven by Playwright).

Used by ``tests/test_book.py`` on the quick-profile build, and runnable on any
build: ``.venv/bin/python tests/browser_checks.py _build/html`` (``--screenshots DIR``
also saves the top of every page at both widths).

Every page is opened twice with the **network blocked** (every request that is not
for a local file or localhost is aborted, and recorded): in a desktop window
(:data:`WINDOW`, a 2x screen) and on a phone (:data:`PHONE`, 390 CSS px wide, a 3x
touch screen). Each check returns a list of problems (empty when the page passes):

* :func:`site_problems` -- a ``reports/`` folder (build error logs) in the site;
* :func:`network_problems` -- a request to the network (a CDN script, font or stylesheet: the
  page needs it and cannot have it offline), a ``<script>`` or stylesheet from another host;
* console errors and uncaught exceptions while the page loads (``Identifier ... has already
  been declared``, a script that failed to load);
* :func:`raw_math` -- a formula shown as raw TeX (MathJax missing offline) or with a TeX error;
* :func:`wide_equations` -- a display equation cut off, or wider than its column with no way
  to scroll it and no cue that it scrolls; a page wider than the screen (desktop and phone);
* :func:`figure_numbering` -- a chapter page whose title has no chapter number, or whose figures
  are not numbered "Fig. N.1", "Fig. N.2", ... in order (N the chapter's number);
* :func:`uncaptioned_figures` -- a chapter's figure (live figures included) without a numbered
  caption, or an image whose alt text is a file name or a hash instead of what it shows;
* :func:`small_images` -- a figure shown at less than :data:`MIN_IMAGE_SCALE` of its own size
  in the desktop window (unreadable labels);
* :func:`blurry_images` -- a raster figure with fewer pixels than the 2x screen shows it on;
* :func:`phone_figures` -- on the phone, a figure whose smallest text (:data:`FIGURE_TEXT_PX`
  at the figure's own size: 9 pt at 100 dpi, the book's figure style) is shown under
  :data:`MIN_TEXT_PX` CSS px and that does not open at full size when tapped (a link to an
  image file at least as large as the figure);
* :func:`inline_images` -- images inlined into the page as data (live frames belong in files,
  loaded one at a time);
* :func:`dead_controls` -- a live figure's control that, moved, does not change the figure (or
  its full-size link), a slider without a readout, a choice offered as a range slider;
* :func:`progress_widgets`, :func:`blank_gaps`, :func:`wide_lines`, :func:`broken_links` --
  widget views saved into a page, empty output areas, code or printed output wider than the
  column, internal links (citations included) whose page or anchor does not exist.

:func:`check_book` also measures each page's weight: the bytes of the page and of every local
file it loads (figures, scripts, styles, fonts), as ``weights``.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

WINDOW = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
MAX_GAP_PX = 300
MIN_IMAGE_SCALE = 0.75
#: The smallest text of a book figure at its own size, in CSS px: 9 pt at 100 dpi
#: (``collapse_utils.plotting``: MIN_FONT_PT at DPI, shown at 1 CSS px per 1x pixel).
FIGURE_TEXT_PX = 9 * 100 / 72
#: The smallest text a reader should have to read on a phone, in CSS px.
MIN_TEXT_PX = 9.0
#: Pixels per CSS pixel a raster figure must have (at least this share of the window's 2x).
MIN_DENSITY = 1.9
#: Largest image that may be inlined as data in a page (icons), in characters of base64.
MAX_INLINE_IMAGE_CHARS = 20_000
MATH_WAIT_MS = 20_000
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


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


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("file", "data", "blob", "about", "chrome-error") or (parts.hostname or "") in LOCAL_HOSTS


def file_of(url: str) -> Path | None:
    parts = urlsplit(url)
    return Path(url2pathname(unquote(parts.path))) if parts.scheme == "file" else None


def image_width(path: Path) -> int | None:
    """Pixel width of a PNG (None for other formats: SVG scales, JPEG/GIF are not the book's)."""
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return struct.unpack(">I", head[16:20])[0]
    return None


class Visit:
    """One page opened in one browser context: its console errors, network requests and bytes."""

    def __init__(self, context, path: Path):
        self.errors: list[str] = []
        self.blocked: list[str] = []
        self.files: set[Path] = set()
        self.page = page = context.new_page()
        page.route("**/*", self._route)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught {e}"))
        page.on("requestfinished", self._finished)
        page.goto(path.resolve().as_uri(), wait_until="load")
        wait_for_math(page)

    def _route(self, route) -> None:
        url = route.request.url
        if is_local(url):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _finished(self, request) -> None:
        path = file_of(request.url)
        if path is not None and path.is_file():
            self.files.add(path)

    def weight(self) -> int:
        return sum(p.stat().st_size for p in self.files)

    def close(self) -> None:
        self.page.close()


def wait_for_math(page) -> None:
    """Wait until MathJax has typeset the page (when it loaded at all: offline, a CDN copy does not)."""
    if not page.query_selector(".math"):
        return
    try:
        page.wait_for_function(
            "() => window.MathJax && window.MathJax.startup && window.MathJax.startup.promise", timeout=5_000
        )
    except Exception:
        return  # MathJax never started: raw_math reports the formulas
    page.evaluate(f"() => Promise.race([MathJax.startup.promise, new Promise(r => setTimeout(r, {MATH_WAIT_MS}))])")


def site_problems(html_root: Path) -> list[str]:
    """Things in the site that readers must not get: build error logs."""
    problems = []
    if (html_root / "reports").exists():
        problems.append("the site has a reports/ folder (build error logs)")
    logs = [p for p in html_root.rglob("*.err.log")][:3]
    problems += [f"error log in the site: {p.relative_to(html_root)}" for p in logs]
    return problems


def network_problems(page, visit: Visit) -> list[str]:
    """Requests to other hosts (aborted: the page works offline or not at all) and remote scripts or styles."""
    problems = [f"fetches from the network: {url[:100]}" for url in sorted(set(visit.blocked))]
    remote = page.evaluate(
        """() => Array.from(document.querySelectorAll('script[src], link[rel~="stylesheet"][href]'))
            .map(e => e.src || e.href).filter(u => /^(https?:)?\\/\\//.test(u))"""
    )
    problems += [f"script or stylesheet from another host: {url[:100]}" for url in remote if not is_local(url)]
    return problems


def console_problems(visit: Visit) -> list[str]:
    return [f"console error: {e[:160]}" for e in dict.fromkeys(visit.errors)]


def raw_math(page) -> list[str]:
    """Formulas left as raw TeX (MathJax did not run) or typeset with an error."""
    found = page.evaluate(
        """() => {
        const math = Array.from(document.querySelectorAll('span.math, div.math'));
        const raw = math.filter(m => !m.querySelector('mjx-container'));
        const errors = Array.from(document.querySelectorAll('mjx-merror')).map(e => e.getAttribute('data-mjx-error') || e.textContent);
        return {total: math.length, raw: raw.length, first: raw.slice(0, 2).map(m => m.textContent.trim().slice(0, 60)),
                errors: errors.slice(0, 3)};
    }"""
    )
    problems = []
    if found["raw"]:
        problems.append(f"{found['raw']} of {found['total']} formulas shown as raw TeX (e.g. {found['first']})")
    problems += [f"formula with a TeX error: {e[:80]}" for e in found["errors"]]
    return problems


def wide_equations(page, where: str) -> list[str]:
    """Display equations cut off or overflowing without a scroll cue; a page that scrolls sideways."""
    found = page.evaluate(
        """() => {
        const out = [];
        const vw = document.documentElement.clientWidth;
        // the math block, and MathJax's container inside it (the theme makes that one scroll)
        const boxes = document.querySelectorAll('article div.math, article div.math mjx-container[display="true"]');
        for (const box of boxes) {
            if (box.offsetParent === null) continue;
            const r = box.getBoundingClientRect();
            const cs = getComputedStyle(box);
            const block = box.closest('div.math');
            const tex = (block.id ? '#' + block.id + ' ' : '') + 'at y = ' + Math.round(r.top + window.scrollY)
                + ' "' + block.textContent.trim().slice(0, 40) + '"';
            if (r.right > vw + 1) out.push('display equation box runs off the screen (' + Math.round(r.right) + ' px of ' + vw + '): ' + tex);
            if (box.scrollWidth > box.clientWidth + 1) {
                const what = Math.round(box.scrollWidth) + ' px wide in a ' + Math.round(box.clientWidth) + ' px column';
                if (!['auto', 'scroll'].includes(cs.overflowX)) out.push('display equation cut off or spilling (' + what + '): ' + tex);
                else if (cs.backgroundImage === 'none') out.push('display equation scrolls with no cue that it does (' + what + '): ' + tex);
            }
        }
        const doc = document.documentElement;
        if (doc.scrollWidth > vw + 1) {
            const culprits = Array.from(document.querySelectorAll('article *')).filter(e => {
                const r = e.getBoundingClientRect(); return r.width > 0 && r.right > vw + 1;
            }).filter(e => !Array.from(e.children).some(c => c.getBoundingClientRect().right > vw + 1)).slice(0, 3)
              .map(e => e.tagName.toLowerCase() + '.' + String(e.className).split(' ')[0] + ' "' + e.textContent.trim().slice(0, 40) + '"');
            out.push('the page is ' + doc.scrollWidth + ' px wide on a ' + vw + ' px screen (scrolls sideways): ' + culprits.join('; '));
        }
        return out;
    }"""
    )
    return [f"{where}: {f}" for f in found]


def figure_numbering(page) -> list[str]:
    """A chapter's figures are numbered per chapter: "Fig. N.1", "Fig. N.2", ... with N its number."""
    found = page.evaluate(
        """() => {
        const h1 = document.querySelector('article h1');
        const num = h1 && h1.querySelector('.section-number');
        return {chapter: num ? num.textContent.trim().replace(/\\.$/, '') : null,
                title: h1 ? h1.textContent.trim().slice(0, 60) : null,
                captions: Array.from(document.querySelectorAll('article figure figcaption .caption-number'))
                    .map(e => e.textContent.trim())};
    }"""
    )
    chapter = found["chapter"]
    if not chapter:
        return [f"the chapter's title has no chapter number ({found['title']!r}): figures cannot be numbered per chapter"]
    problems = []
    for k, caption in enumerate(found["captions"], start=1):
        if caption != f"Fig. {chapter}.{k}":
            problems.append(f"figure {k} of chapter {chapter} is numbered {caption!r}, not 'Fig. {chapter}.{k}'")
    return problems[:5]


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


#: JavaScript: a figure's own width in CSS px (its width attribute or style, else its pixel width).
_OWN_WIDTH = """const ownWidth = img => parseFloat(img.getAttribute('width')) || parseFloat(img.style.width)
    || img.naturalWidth;"""


def _figure_images(page) -> None:
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)", timeout=30_000)


def small_images(page) -> list[str]:
    _figure_images(page)
    found = page.evaluate(
        """(minScale) => {
        %s
        const out = [];
        for (const img of document.querySelectorAll('article img')) {
            if (img.naturalWidth < 80 || img.offsetParent === null) continue;  // icons, closed menus
            const shown = img.getBoundingClientRect().width;
            const scale = shown / ownWidth(img);
            if (scale < minScale) out.push((img.alt || img.src.slice(0, 60)).slice(0, 80) + ': shown at '
                + Math.round(100 * scale) + '%% (' + Math.round(shown) + ' of ' + Math.round(ownWidth(img)) + ' px)');
        }
        return out;
    }""" % _OWN_WIDTH,
        MIN_IMAGE_SCALE,
    )
    return [f"image too small: {f}" for f in found]


def blurry_images(page) -> list[str]:
    """Raster figures with fewer pixels than the (2x) screen shows them on."""
    _figure_images(page)
    found = page.evaluate(
        """(minDensity) => {
        const out = [];
        for (const img of document.querySelectorAll('article img')) {
            if (img.naturalWidth < 80 || img.offsetParent === null) continue;
            if (/\\.svg(\\?|$)/.test(img.currentSrc) || img.currentSrc.startsWith('data:image/svg')) continue;
            const density = img.naturalWidth / img.getBoundingClientRect().width;
            if (density < minDensity) out.push((img.alt || img.src.slice(0, 60)).slice(0, 70) + ': '
                + density.toFixed(2) + ' pixels per CSS px on a ' + window.devicePixelRatio + 'x screen');
        }
        return out;
    }""",
        MIN_DENSITY,
    )
    return [f"blurry figure: {f}" for f in found[:5]] + (
        [f"... and {len(found) - 5} more blurry figures"] if len(found) > 5 else []
    )


def phone_figures(page, path: Path) -> list[str]:
    """On a phone: figure text at MIN_TEXT_PX or more, or a tap opens the figure at full size."""
    _figure_images(page)
    found = page.evaluate(
        """(textPx) => {
        %s
        const out = [];
        for (const img of document.querySelectorAll('article img')) {
            if (img.naturalWidth < 80 || img.offsetParent === null) continue;
            const text = textPx * img.getBoundingClientRect().width / ownWidth(img);
            const link = img.closest('a[href]');
            out.push({alt: (img.alt || img.src.slice(0, 60)).slice(0, 70), text: text, own: ownWidth(img),
                      href: link ? link.href : null});
        }
        return out;
    }""" % _OWN_WIDTH,
        FIGURE_TEXT_PX,
    )
    problems = []
    for f in found:
        if f["text"] >= MIN_TEXT_PX:
            continue
        small = f"{f['alt']}: its text is about {f['text']:.1f} px on a phone"
        if not f["href"]:
            problems.append(f"{small}, and a tap does not open it at full size (no link to the image)")
            continue
        target = file_of(f["href"])
        if target is None or not target.is_file() or target.suffix.lower() not in (".png", ".svg", ".jpg", ".jpeg"):
            problems.append(f"{small}, and its link does not lead to an image file: {f['href'][:80]}")
            continue
        width = image_width(target)
        if width is not None and width < f["own"] - 1:
            problems.append(f"{small}, and its full-size image is smaller ({width} px) than the figure ({f['own']:.0f} px)")
    return problems[:6] + ([f"... {len(problems) - 6} more figures illegible on a phone"] if len(problems) > 6 else [])


def inline_images(html_text: str) -> list[str]:
    """Large base64 data (inlined images, live frames) in the page's HTML: the page downloads all of it at once."""
    sizes = [len(m) for m in re.findall(r"[A-Za-z0-9+/=]{%d,}" % MAX_INLINE_IMAGE_CHARS, html_text)]
    if not sizes:
        return []
    return [f"{len(sizes)} images or frames ({sum(sizes) * 3 // 4 // 1024} kB) inlined into the page as data: "
            "store them as files"]


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
    """Figures of a chapter (live ones included) without a numbered caption, or with alt text that says nothing."""
    found = page.evaluate(
        r"""() => {
        const out = [];
        for (const img of document.querySelectorAll('article img')) {
            if (img.naturalWidth < 80 || img.offsetParent === null) continue;
            const alt = (img.getAttribute('alt') || '').trim();
            const name = (img.getAttribute('src') || '').split('/').pop().slice(0, 24);
            if (!alt || /^[0-9a-f]{16,}/.test(alt) || /\.(png|jpg|svg)$/.test(alt))
                out.push('no alt text that says what it shows: ' + (alt || name));
            const live = img.closest('.live-figure') ? 'live figure' : 'figure';
            const fig = img.closest('figure');
            if (!fig || !fig.querySelector('figcaption'))
                out.push(live + ' without a caption: ' + (alt || name).slice(0, 80));
            else if (!/Fig\. \d/.test(fig.querySelector('figcaption').innerText))
                out.push(live + ' without a number: ' + (alt || name).slice(0, 80));
        }
        return out;
    }"""
    )
    return found


def _is_number(label: str) -> bool:
    try:
        float(label)
    except ValueError:
        return False
    return True


def dead_controls(page) -> list[str]:
    """Move every control of every live figure and check that its figure (and its full-size link) changes."""
    problems = []
    for f, figure in enumerate(page.query_selector_all(".live-figure")):
        img = figure.query_selector("img.live-frame")
        data = json.loads(figure.query_selector("script.live-data").text_content())
        controls = figure.query_selector_all(".live-control, input.live-slider")
        seen = set()
        for control in controls:
            name = control.get_attribute("data-param")
            if name in seen:
                continue
            seen.add(name)
            labels = data["labels"][name]
            if len(labels) < 2:
                continue
            tag = control.evaluate("e => e.tagName")
            kind = control.get_attribute("type") or ""
            before = img.get_attribute("src")
            if tag == "INPUT" and kind == "range":
                if not all(_is_number(label) for label in labels):
                    problems.append(f"live figure {f}: the choice '{name}' ({', '.join(labels[:3])}) is a range slider, "
                                    "not buttons or a menu")
                value = int(control.input_value())
                control.fill(str(value - 1 if value == len(labels) - 1 else value + 1))
                readout = figure.query_selector(f'output[data-param="{name}"]')
                if readout is None or not readout.inner_text():
                    problems.append(f"live figure {f}: slider '{name}' shows no value")
            elif tag == "SELECT":
                index = control.evaluate("e => e.selectedIndex")
                control.select_option(index=1 if index == 0 else 0)
            elif tag == "FIELDSET":
                buttons = control.query_selector_all("label")
                checked = int(control.evaluate("e => e.querySelector('input:checked').value"))
                buttons[1 if checked == 0 else 0].click()
            else:
                problems.append(f"live figure {f}: control '{name}' of an unknown kind ({tag})")
                continue
            after = img.get_attribute("src")
            if after == before:
                problems.append(f"live figure {f}: moving '{name}' does not change the figure")
            link = img.evaluate("e => { const a = e.closest('a[href]'); return a ? a.href : null; }")
            if link is not None and link != img.evaluate("e => e.src"):
                problems.append(f"live figure {f}: after moving '{name}' its full-size link shows another frame")
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


def check_book(
    html_root: Path,
    chapters_with_sliders: tuple[str, ...] = (),
    screenshots: Path | None = None,
    weights: dict[str, int] | None = None,
) -> dict[str, list[str]]:
    """Open every page in headless Chromium, offline, at desktop and phone width; ``{page: problems}``.

    ``weights`` (if given) receives each page's weight in bytes (the page and the local files
    it loaded in the desktop window); ``screenshots`` (a folder) receives the top of each page
    at both widths.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise RuntimeError("no Chromium found: install the system package (e.g. `apt-get install chromium`)")
    html_root = Path(html_root)
    report: dict[str, list[str]] = {}
    site = site_problems(html_root)
    if site:
        report["(site)"] = site
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            desktop = browser.new_context(viewport=WINDOW, device_scale_factor=2)
            phone = browser.new_context(viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)
            for path in pages(html_root):
                name = str(path.relative_to(html_root))
                chapter = path.parent.name == "notebooks"
                visit = Visit(desktop, path)
                page = visit.page
                if screenshots is not None:
                    page.screenshot(path=str(screenshots / f"{path.stem}-1400.png"))
                problems = network_problems(page, visit) + raw_math(page) + wide_equations(page, "desktop")
                problems += progress_widgets(page) + blank_gaps(page) + small_images(page) + blurry_images(page)
                problems += wide_lines(page) + inline_images(path.read_text(errors="replace"))
                problems += broken_links(page, path.resolve(), html_root)
                if chapter:
                    problems += figure_numbering(page) + uncaptioned_figures(page)
                if path.stem in chapters_with_sliders and not page.query_selector(".live-figure"):
                    problems.append("no live figure in the rendered page")
                problems += dead_controls(page)
                problems += console_problems(visit)
                if weights is not None:
                    weights[name] = visit.weight()
                visit.close()
                visit = Visit(phone, path)
                if screenshots is not None:
                    visit.page.screenshot(path=str(screenshots / f"{path.stem}-390.png"))
                problems += wide_equations(visit.page, "phone") + phone_figures(visit.page, path)
                problems += [f"phone: {e}" for e in console_problems(visit)]
                visit.close()
                report[name] = list(dict.fromkeys(problems))
        finally:
            browser.close()
    return report


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Check a built book in headless Chromium, offline.")
    parser.add_argument("html", nargs="?", default="_build/html", type=Path)
    parser.add_argument("--screenshots", type=Path, default=None, help="folder for the top of each page at both widths")
    args = parser.parse_args()
    root = args.html
    chapters = tuple(p.stem for p in (root / "notebooks").glob("*.html"))
    weights: dict[str, int] = {}
    bad = 0
    for name, problems in check_book(root, chapters_with_sliders=chapters, screenshots=args.screenshots,
                                     weights=weights).items():
        weight = f" [{weights[name] / 1e6:.2f} MB loaded]" if name in weights else ""
        print(f"{name}: {'ok' if not problems else f'{len(problems)} problem(s)'}{weight}")
        for problem in problems:
            print(f"    {problem}")
        bad += bool(problems)
    sys.exit(1 if bad else 0)
