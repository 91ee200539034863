"""The browser checks themselves: each one must fail on a small page that has its bug, and pass on a good one.

These run in seconds on hand-made pages (the full book build is tests/test_book.py). They need the
system's Chromium; without it they are skipped (CI has it: scripts/setup.sh installs it).
"""

import base64
import io
import json
from pathlib import Path

import pytest

from browser_checks import check_book, chromium_path

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="no Chromium (apt-get install chromium)")

HEAD = ('<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">'
        "<style>img { max-width: 100%; height: auto; }</style>")


def png(width: int, height: int, noise: bool = False) -> bytes:
    """A PNG of one colour (a few hundred bytes), or of noise (as large as a PNG gets)."""
    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    if noise:
        pixels = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(buffer, format="PNG")
    else:
        Image.new("RGB", (width, height), (200, 220, 240)).save(buffer, format="PNG")
    return buffer.getvalue()


def page(body: str, scripts: str = "") -> str:
    return f"<!doctype html><html><head>{HEAD}{scripts}</head><body><article>{body}</article></body></html>"


def chapter(captions: list[str], number: str = "1. ") -> str:
    figures = "".join(
        f'<figure><a href="../_images/big.png"><img src="../_images/big.png" width="700" alt="A plot of {c}">'
        f'</a><figcaption><span class="caption-number">{c} </span>text</figcaption></figure>'
        for c in captions
    )
    title = f'<span class="section-number">{number}</span>' if number else "1. "
    return page(f"<h1>{title}A chapter</h1>{figures}")


@pytest.fixture()
def site(tmp_path):
    root = tmp_path / "html"
    (root / "_images").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "_images" / "big.png").write_bytes(png(1400, 700))
    (root / "_images" / "small.png").write_bytes(png(700, 350))
    return root


def problems_of(root: Path, name: str) -> list[str]:
    return check_book(root)[name]


def test_a_good_chapter_passes(site):
    (site / "notebooks" / "01_x.html").write_text(chapter(["Fig. 1.1", "Fig. 1.2"]))
    assert check_book(site) == {"notebooks/01_x.html": []}


def test_figure_numbering_per_chapter(site):
    """Bugs guarded: figures numbered through the book (Fig. 42), chapters without a number."""
    (site / "notebooks" / "01_x.html").write_text(chapter(["Fig. 1.1", "Fig. 42"]))
    assert any("numbered 'Fig. 42', not 'Fig. 1.2'" in p for p in problems_of(site, "notebooks/01_x.html"))
    (site / "notebooks" / "01_x.html").write_text(chapter(["Fig. 1"], number=""))
    assert any("title has no chapter number" in p for p in problems_of(site, "notebooks/01_x.html"))


def test_blurry_and_phone_illegible_figures(site):
    """Bugs guarded: a 1x figure (blurry on a 2x screen); a figure whose text is tiny on a phone with no link to
    the full image, or a link to something that is not the image."""
    body = ('<figure><img src="_images/small.png" alt="A 1x plot"><figcaption>Fig. 1.1</figcaption></figure>'
            '<figure><a href="other.html"><img src="_images/big.png" width="700" alt="A linked plot"></a></figure>')
    (site / "other.html").write_text(page(body))
    found = problems_of(site, "other.html")
    assert any("blurry figure: A 1x plot" in p for p in found)
    assert any("A 1x plot: its text is about" in p and "no link" in p for p in found)
    assert any("A linked plot" in p and "does not lead to an image file" in p for p in found)


def test_offline_math_cdn_scripts_console_errors(site):
    """Bugs guarded: MathJax from a CDN (raw TeX offline), a script from another host, a script that declares a
    constant twice (the thebe error), a reports/ folder in the site."""
    scripts = ('<script defer src="https://cdn.example.org/mathjax/tex-chtml.js"></script>'
               '<script>const X = 1;</script><script>const X = 1;</script>')
    (site / "math.html").write_text(page('<p><span class="math">\\(x^2\\)</span></p>', scripts))
    (site / "reports").mkdir()
    report = check_book(site)
    found = report["math.html"]
    assert any("fetches from the network: https://cdn.example.org" in p for p in found)
    assert any("script or stylesheet from another host" in p for p in found)
    assert any("1 of 1 formulas shown as raw TeX" in p for p in found)
    assert any("console error" in p and "already been declared" in p for p in found)
    assert report["(site)"] == ["the site has a reports/ folder (build error logs)"]


def test_wide_equations(site):
    """Bugs guarded: a display equation cut off (no scroll), one that scrolls with no cue, a page wider than a
    phone."""
    wide = '<div class="math" style="overflow-x:{o}"><span style="display:inline-block;width:900px">x</span></div>'
    (site / "cut.html").write_text(page(wide.format(o="hidden")))
    (site / "bare.html").write_text(page(wide.format(o="auto")))
    (site / "spill.html").write_text(page('<p style="width:600px">a wide paragraph</p>'))
    report = check_book(site)
    assert any("display equation cut off or spilling" in p for p in report["cut.html"])
    assert any("scrolls with no cue" in p for p in report["bare.html"])
    assert any("phone: the page is" in p and "scrolls sideways" in p for p in report["spill.html"])
    assert not any("desktop" in p for p in report["spill.html"])


def test_live_figures(site):
    """Bugs guarded: a choice on a range slider, a control that does not change the frame, frames inlined as
    data, a live figure without a numbered caption."""
    frame = "data:image/png;base64," + base64.b64encode(png(140, 77, noise=True)).decode()
    other = "data:image/png;base64," + base64.b64encode(png(1400, 771)).decode()
    data = {"names": ["show"], "words": ["show"], "labels": {"show": ["samples", "classes"]},
            "frames": {"0": frame, "1": frame}, "alt": "x"}
    body = ('<div class="live-figure" id="f"><input class="live-control live-slider" type="range" data-param="show" '
            'min="0" max="1" value="0"><output data-param="show">samples</output>'
            f'<img class="live-frame" width="700" src="{frame}" alt="A live plot">'
            f'<script type="application/json" class="live-data">{json.dumps(data)}</script></div>'
            '<script>document.querySelector("#f input").addEventListener("input", e => {'
            f'document.querySelector("#f img").src = "{other}"; }});</script>')
    (site / "notebooks" / "01_x.html").write_text(chapter(["Fig. 1.1"]).replace("</article>", body + "</article>"))
    found = problems_of(site, "notebooks/01_x.html")
    assert any("the choice 'show' (samples, classes) is a range slider" in p for p in found)
    assert any("inlined into the page as data" in p for p in found)
    assert any("live figure without a caption: A live plot" in p for p in found)
    assert not any("does not change the figure" in p for p in found)
    dead = body.replace('"{other}"'.format(other=other), '"{frame}"'.format(frame=frame))
    (site / "notebooks" / "01_x.html").write_text(chapter(["Fig. 1.1"]).replace("</article>", dead + "</article>"))
    assert any("moving 'show' does not change the figure" in p for p in problems_of(site, "notebooks/01_x.html"))
