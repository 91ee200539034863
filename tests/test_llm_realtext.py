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
