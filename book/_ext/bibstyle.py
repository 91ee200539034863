"""An author-year bibliography for the book, to match its author-year citations.

sphinxcontrib-bibtex cites author-year (``bibtex_reference_style: author_year``),
but pybtex's stock styles label the bibliography with numbers or alpha codes.
This extension registers the pybtex style ``authoryear``: entries sorted by
author and year and labelled "Shumailov et al., 2024".
"""

from __future__ import annotations

import re
from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _plain(text: str) -> str:
    return re.sub(r"[{}\\]", "", text)


def _who(entry) -> str:
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_plain(" ".join(p.last_names)) for p in persons]
    if not names:
        return entry.key
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


class AuthorYearLabels(BaseLabelStyle):
    """Labels "Author, year", "Author and Other, year" or "Author et al., year" (a, b, ... for repeats)."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        base = [f"{_who(e)}, {e.fields.get('year', 'n.d.')}" for e in entries]
        counts = Counter(base)
        seen: Counter = Counter()
        for label in base:
            if counts[label] > 1:
                seen[label] += 1
                yield f"{label}{chr(ord('a') + seen[label] - 1)}"
            else:
                yield label


class AuthorYearStyle(PlainStyle):
    default_label_style = "authoryear"
    default_sorting_style = "author_year_title"


def setup(app):
    register_plugin("pybtex.style.labels", "authoryear", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
