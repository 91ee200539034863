"""Progress bars: live in a running notebook, silent in the built book.

Each test names the bug it guards against.
"""

import pytest

from collapse_utils import profiles, progress


@pytest.mark.parametrize("value, shown", [(None, True), ("1", False), ("true", False), ("0", True), ("", True)])
def test_enabled_follows_the_book_build(monkeypatch, value, shown):
    """Bug guarded: bars shown in the book build (widgets and blank gaps saved into the pages) and hidden in a
    notebook (the condition inverted), or a build flag of '0' read as a build."""
    if value is None:
        monkeypatch.delenv(profiles.BUILD_ENV, raising=False)
    else:
        monkeypatch.setenv(profiles.BUILD_ENV, value)
    assert progress.enabled() is shown


def test_a_notebook_bar_gets_every_option(monkeypatch):
    """Bug guarded: ``desc``, ``total``, ``leave`` or other tqdm options dropped on the way to the bar (a bar
    without its name, or one that stays on the page after its loop)."""
    import tqdm.auto

    seen = {}

    def spy(iterable, **kwargs):
        seen.update(kwargs, iterable=iterable)
        return "bar"

    monkeypatch.delenv(profiles.BUILD_ENV, raising=False)
    monkeypatch.setattr(tqdm.auto, "tqdm", spy)
    items = [1, 2]
    assert progress.progress(items, desc="runs", total=2, unit="run") == "bar"
    assert seen == {"iterable": items, "desc": "runs", "total": 2, "leave": False, "unit": "run"}
    progress.progress(items, leave=True)
    assert seen["leave"] is True and seen["desc"] is None


def test_the_book_build_gets_the_iterable_itself(monkeypatch):
    """Bug guarded: a disabled bar still created in the build (tqdm writes to stderr, which the build keeps),
    or the loop's items changed."""
    import tqdm.auto

    def spy(*args, **kwargs):
        raise AssertionError("no bar in the book build")

    monkeypatch.setenv(profiles.BUILD_ENV, "yes")
    monkeypatch.setattr(tqdm.auto, "tqdm", spy)
    items = iter(range(3))
    assert progress.progress(items, desc="x", total=3) is items
