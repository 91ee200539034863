"""What the book's pages need beyond Jupyter Book's defaults: offline math, no unused scripts,
sharp figures that open full size, and numbered live figures whose frames are files.

* **Math offline.** MathJax 3 comes from the Python package ``sphinx-mathjax-offline``
  (``requirements.txt``, installed by ``scripts/setup.sh``); ``mathjax_path`` in
  ``_config.yml`` names a file under ``_static/mathjax/``, and this extension copies the
  parts of MathJax a page can load (the TeX input with its extensions, the CommonHTML
  output and its fonts, the menu and its accessibility modules) there. No page
  fetches MathJax from a CDN, so formulas render from a downloaded copy of the site.
* **No unused scripts.** Nothing in the book runs thebe (no thebe launch button): its
  configuration script (added twice to every page by sphinx-thebe, which logs
  ``Identifier 'THEBE_JS_URL' has already been declared``), ``sphinx-thebe.js`` and its
  CSS are dropped, and so is the saved ipywidgets state, which nothing on a page renders
  (the CDN scripts that would use it are switched off by ``nb_ipywidgets_js: {}``).
* **Figures.** Notebook figures are 2x PNGs (``collapse_utils.plotting.style``): myst-nb
  gives them the width and height of the figure in CSS pixels. The height is dropped so
  that a figure narrowed to a phone's column keeps its shape; the width makes Sphinx wrap
  the image in a link to the full-size file, so a tap opens it full size. The site's PNGs
  are stored as palette images (``collapse_utils.plotting.compact_png``, about a third of
  the bytes).
* **No console error on a first visit**: the theme's colour mode starts at ``auto``
  (pydata-sphinx-theme otherwise logs ``Got invalid theme mode``).
* **Live figures** (``collapse_utils.live``). A live figure whose HTML names a figure
  (``data-figure-name``, ``data-caption``) is wrapped in a figure node with that caption
  (MyST, like any caption) when the page is read, so it is numbered per chapter like the
  other figures and ``{numref}`` reaches it. When the page is written, its frames (PNG
  data URIs) become files ``_images/live-<sha256>.png``: the page loads the frame it
  shows, a frame is loaded when a control asks for it, and a frame drawn twice is stored once.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shutil
from importlib import metadata
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.transforms import SphinxTransform
from sphinx.util.osutil import relative_uri

#: The package that ships MathJax 3 (3.2.2) for offline use, and where its files are.
MATHJAX_DIST = "sphinx-mathjax-offline"
MATHJAX_DIR = "sphinx-mathjax-offline/static/mathjax"
#: The parts of MathJax that a page may load: the combined TeX/CommonHTML component, the TeX
#: extensions it loads on demand, the fonts, and the menu with its accessibility modules.
MATHJAX_PARTS = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2", "ui", "a11y", "sre")

_FIGURE = re.compile(r'<div class="live-figure"[^>]*\bdata-figure-name="([^"]*)"[^>]*\bdata-caption="([^"]*)"')
_DATA_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")


def mathjax_source() -> Path:
    """The MathJax folder of the installed package; a clear error when it is missing."""
    try:
        dist = metadata.distribution(MATHJAX_DIST)
    except metadata.PackageNotFoundError:
        raise ExtensionError(
            f"MathJax for offline pages is not installed: the package {MATHJAX_DIST!r} "
            "(requirements.txt) is missing; run `bash scripts/setup.sh`"
        ) from None
    path = Path(dist.locate_file(MATHJAX_DIR))
    if not (path / MATHJAX_PARTS[0]).is_file():
        raise ExtensionError(f"{MATHJAX_DIST!r} is installed but {path / MATHJAX_PARTS[0]} is missing")
    return path


def check_mathjax_path(app: Sphinx, config) -> None:
    """``mathjax_path`` must name the copy this extension serves, not a CDN."""
    path = config.mathjax_path
    if "//" in path or not path.startswith("mathjax/") or path[len("mathjax/"):] not in MATHJAX_PARTS:
        raise ExtensionError(f"mathjax_path must name MathJax under _static/mathjax/ (e.g. mathjax/tex-chtml.js), got {path!r}")
    mathjax_source()


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source, target = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        src, dst = source / part, target / part
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def compact_images(app: Sphinx, exception: Exception | None) -> None:
    """Store the site's notebook figures as palette PNGs (live frames already are)."""
    if exception is not None or app.builder.format != "html":
        return
    from collapse_utils.plotting import compact_png

    for path in sorted((Path(app.outdir) / "_images").glob("*.png")):
        if path.name.startswith("live-"):
            continue
        data = path.read_bytes()
        small = compact_png(data)
        if small is not data:
            path.write_bytes(small)


def drop_unused_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Remove thebe's scripts and CSS and the saved widget state from a page (nothing uses them)."""
    if not context.get("default_mode"):
        context["default_mode"] = "auto"  # the theme's colour mode on a first visit (else a console error)
    scripts = context.get("script_files")
    if isinstance(scripts, list):
        scripts[:] = [
            js for js in scripts
            if "sphinx-thebe" not in (getattr(js, "filename", None) or "")
            and "THEBE_JS_URL" not in (getattr(js, "attributes", {}).get("body") or "")
            and getattr(js, "attributes", {}).get("type") != "application/vnd.jupyter.widget-state+json"
        ]
    styles = context.get("css_files")
    if isinstance(styles, list):
        styles[:] = [css for css in styles if "sphinx-thebe" not in (getattr(css, "filename", None) or "")]


class LiveFigures(SphinxTransform):
    """Wrap each named live figure's output in a captioned figure node (numbered like the others)."""

    default_priority = 200

    def apply(self, **kwargs) -> None:
        from myst_parser.parsers.sphinx_ import MystParser
        from sphinx.util.docutils import new_document

        for raw in list(self.document.findall(nodes.raw)):
            found = _FIGURE.search(raw.astext())
            if not found:
                continue
            name, caption_text = html.unescape(found.group(1)), html.unescape(found.group(2))
            # the output's mime bundle (text/html beside text/plain): the figure holds all of it
            bundle = raw
            while bundle.parent is not None and bundle.get("nb_element") != "mime_bundle":
                bundle = bundle.parent
            if bundle.parent is None:
                bundle = raw
            figure = nodes.figure(classes=["live-figure-wrapper"])
            bundle.replace_self(figure)
            figure += bundle
            sub = new_document(self.document.get("source", ""), self.document.settings)
            MystParser().parse(caption_text, sub)
            paragraph = next(iter(sub.findall(nodes.paragraph)), None)
            children = list(paragraph.children) if paragraph is not None else [nodes.Text(caption_text)]
            figure += nodes.caption(caption_text, "", *children)
            if name:
                figure["names"].append(nodes.fully_normalize_name(name))
                self.document.note_explicit_target(figure, figure)


def frames_to_files(app: Sphinx, doctree, docname: str) -> None:
    """Write the PNG frames of live figures to ``_images/live-<sha256>.png`` and point the page at them."""
    if app.builder.format != "html":
        return
    out = Path(app.outdir) / "_images"
    page = app.builder.get_target_uri(docname)

    def to_file(match: re.Match) -> str:
        data = base64.b64decode(match.group(1))
        name = f"live-{hashlib.sha256(data).hexdigest()[:32]}.png"
        out.mkdir(parents=True, exist_ok=True)
        path = out / name
        if not path.exists():
            path.write_bytes(data)
        return relative_uri(page, f"_images/{name}")

    for raw in list(doctree.findall(nodes.raw)):
        text = raw.astext()
        if 'class="live-figure"' in text and "data:image/png;base64," in text:
            raw.replace_self(nodes.raw("", _DATA_PNG.sub(to_file, text), format=raw.get("format", "html")))


def notebook_images(app: Sphinx, doctree, docname: str) -> None:
    """2x figures keep their width (a link to the full image follows from it) but not a fixed height."""
    for image in doctree.findall(nodes.image):
        if "width" in image and "height" in image:
            del image["height"]


def drop_thebe_config(app: Sphinx, doctree, docname: str) -> None:
    for raw in list(doctree.findall(nodes.raw)):
        if "text/x-thebe-config" in raw.astext():
            raw.parent.remove(raw)


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", check_mathjax_path)
    app.add_transform(LiveFigures)
    app.connect("doctree-resolved", frames_to_files, priority=900)
    app.connect("doctree-resolved", notebook_images, priority=900)
    app.connect("doctree-resolved", drop_thebe_config, priority=900)
    app.connect("html-page-context", drop_unused_assets, priority=900)
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", compact_images)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
