"""Real text: a wikitext-shaped folder of the standard library's docstrings, and the chapter's pipeline on it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from collapse_utils.llm import data, experiment, realtext
from collapse_utils.llm.config import Setting

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return realtext.write_folder(tmp_path_factory.mktemp("rt") / "docs", (1_200, 500, 700), 3_000, seed=0)


def _articles(path):
    return {line.strip() for line in path.read_text().splitlines() if line.startswith(" = ")}


def test_the_folder_has_the_wikitext_shape_and_disjoint_articles(folder):
    """Bugs guarded: a module's article in two splits (the test text seen in training), code examples or tables
    kept as prose, splits smaller than asked, or a folder the corpus loader cannot read."""
    splits = {s: _articles(folder / f"{s}.txt") for s in realtext.SPLITS}
    for a in realtext.SPLITS:
        assert splits[a], a
        for b in realtext.SPLITS:
            if a < b:
                assert not splits[a] & splits[b], (a, b)
    words = {s: len((folder / f"{s}.txt").read_text().split()) for s in realtext.SPLITS}
    assert words["train"] >= 1_200 and words["valid"] >= 500 and words["test"] >= 700 and words["pretrain"] >= 3_000
    text = (folder / "train.txt").read_text()
    assert ">>>" not in text and "\n    " not in text
    paragraphs = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(" = ")]
    assert all(len(p.split()) >= 8 for p in paragraphs)
    assert len(set(paragraphs)) == len(paragraphs)  # no paragraph twice
    corpus = data.read_wikitext_folder(folder)
    assert corpus.pretrain is not None and corpus.source == "folder"


def test_paragraphs_drop_code_and_fragments():
    """Bug guarded: doctest lines, indented code or one-word fragments read as prose."""
    doc = "Return the thing.\n\nThis function returns the thing that you asked for, every time.\n\n>>> f(1)\n2\n\n  indented code here\n"
    assert realtext._paragraphs(doc) == ["This function returns the thing that you asked for, every time."]


def _doc(name: str) -> str:
    return f'"""The {name} docstring says what {name} does, in a sentence long enough to be prose."""'


MODULE = f"""{_doc("module")}
import sys
if sys.version_info >= (3,):
    class Shown:
        {_doc("Shown")}
        def method(self):
            {_doc("method")}
            def inner():
                {_doc("inner")}
try:
    import missing
except ImportError:
    def fallback():
        {_doc("fallback")}
match sys.platform:
    case "never":
        def matched():
            {_doc("matched")}
def _private():
    {_doc("_private")}
def later():
    {_doc("later")}
value = [lambda: 0 for _ in range(2)]
"""


def test_the_modules_and_docstrings_read_are_those_of_a_full_walk(tmp_path):
    """Bugs guarded: the faster walks leaving out definitions under an ``except`` handler or a ``match`` case, or
    taking them in another order than ``ast.walk``'s breadth-first one (another text for the same Python); skipped
    folders (tests, site-packages, private packages) entered, private modules read, a package's ``__init__`` lost."""
    import ast

    for rel in ("mod.py", "pkg/__init__.py", "pkg/sub.py", "pkg/_hidden.py", "_private/mod.py", "test/mod.py",
                "site-packages/big/mod.py", "tests/mod.py", "idlelib/mod.py", "pkg/data.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(MODULE)
    assert realtext.module_files(tmp_path) == {"mod": tmp_path / "mod.py", "pkg": tmp_path / "pkg/__init__.py",
                                               "pkg.sub": tmp_path / "pkg/sub.py"}  # fmt: skip
    tree = ast.parse(MODULE)
    walked = [ast.get_docstring(tree)] + [
        ast.get_docstring(n) for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")
    ]  # fmt: skip
    assert realtext.article(tmp_path / "mod.py") == walked
    names = [p.split()[1] for p in walked]
    assert names == ["module", "later", "Shown", "method", "fallback", "matched", "inner"]  # breadth first


def test_too_little_text_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="too few words"):
        realtext.write_folder(tmp_path / "x", (10_000_000, 10, 10), 10)
    with pytest.raises(ValueError, match="words"):
        realtext.write_folder(tmp_path / "y", (0, 10, 10), 10)


@pytest.mark.slow
def test_the_pipeline_runs_on_real_text(folder, tmp_path):
    """Bugs guarded: truth-based measures computed on text without a known source, the folder's pretraining text
    ignored, or the strict recipe's validation continuations not written on real text."""
    cfg = replace(
        experiment.profile_config("quick"), data=str(folder), settings=(Setting(1, 0.0),), generations=1, runs=1,
        checkpoint="generated", max_train_blocks=12, max_valid_blocks=4, max_test_blocks=6,
    )  # fmt: skip
    r = experiment.run_experiment(cfg, tmp_path / "out", verbose=False, progress=False, cache_dir=tmp_path / "c")
    t = r.table
    assert len(t) == 2 and np.isfinite(t["test_perplexity"]).all()
    assert "test_word_nll" not in t and "coverage_rare" not in t
    assert any("separate pretraining corpus" in n for n in r.notes)
    assert (r.output / Setting(1, 0.0).name / "run0" / "gen0" / "valid_synthetic.npy").exists()
