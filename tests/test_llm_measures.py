"""Chapter 4's like-for-like measures and the embedded language's new pieces (no experiment run).

Each test that exists to catch a bug names it in its docstring.
"""

from __future__ import annotations

import numpy as np
import pytest

from collapse_utils.llm import data, measures, model
from collapse_utils.llm.synthetic import LanguageConfig, SyntheticLanguage

LANG = SyntheticLanguage(LanguageConfig(vocab_size=80, seed=5))


@pytest.fixture(scope="module")
def tok_and_model():
    """A byte-level BPE tokenizer of the language and a small untrained OPT (losses need not be good)."""
    lines = LANG.write_corpus(6_000, seed=3).splitlines(keepends=True)
    tok = model.train_tokenizer(lines, 300)
    lm = model.small_opt(model.SmallModelConfig(hidden_size=16, layers=1, heads=2, ffn_dim=32, dropout=0.0), tok)
    return tok, lm


# --------------------------------------------------------------------------- the language
def test_word_scores_are_kept_per_language_text_and_fragments_for_the_last_texts_only():
    """Bugs: kept scores served for the other ``fragments`` rule (the open first and cut last word scored, or not),
    or for another language's text (a cache shared by languages: the blend's NLLs would be the first language's);
    a list handed out that a caller could change for every later call; no limit (every generation's texts kept
    in every worker); the oldest texts kept and the ones in use dropped (no reordering on use); the kept scores
    pickled into another process."""
    import pickle

    from collapse_utils.llm import synthetic

    def same(a, b) -> bool:  # unscored words' NLLs are NaN
        return [(w.start, w.end, w.word, w.tail) for w in a] == [(w.start, w.end, w.word, w.tail) for w in b] and \
            np.array_equal([w.nll for w in a], [w.nll for w in b], equal_nan=True)

    lang = SyntheticLanguage(LanguageConfig(vocab_size=80, seed=5))
    paragraphs = [line for line in lang.write_corpus(300, seed=9).split("\n") if line.strip() and "=" not in line]
    text = "\n".join(paragraphs[:3])[3:]  # a fragment that opens inside a word: the two rules differ
    fresh = SyntheticLanguage(LanguageConfig(vocab_size=80, seed=5))
    first = lang.word_scores(text, fragments=True)
    assert isinstance(first, tuple) and lang.word_scores(text, fragments=True) is first  # kept, not computed again
    unfragmented = lang.word_scores(text, fragments=False)
    assert same(unfragmented, fresh._word_scores(text, False)) and not same(unfragmented, first)
    other = lang.related(0.9)
    assert same(other.word_scores(text), SyntheticLanguage(other.config)._word_scores(text, True))
    assert not same(other.word_scores(text), first)
    texts = [lang.write_corpus(30, seed=100 + i) for i in range(synthetic.SCORED_TEXTS)]
    for t in texts:
        lang.word_scores(t)
        lang.word_scores(text)  # in use all along
    assert len(lang._scored) == synthetic.SCORED_TEXTS
    assert lang.word_scores(text) is first and (texts[0], True) not in lang._scored
    copy = pickle.loads(pickle.dumps(lang))
    assert not copy._scored and same(copy.word_scores(text), first) and len(lang._scored) == synthetic.SCORED_TEXTS


def test_word_scores_agree_with_score():
    """Bug: the per-word scores (used for pairing) and the text score disagree (a word scored in one only),
    or heading words (drawn at random, not by the chain) are scored."""
    a, b, c = LANG.words[2:5]
    crafted = f" {a} {b} .\n = = {a.capitalize()} {b} {c} = = \n {c} {a} ."
    scored = [w for w in LANG.word_scores(crafted, fragments=False) if w.scored]
    assert len(scored) == 6 and all(w.start < crafted.index("\n") or w.start > crafted.rindex("\n") for w in scored)
    assert LANG.score([crafted], fragments=False).words[0] == 6
    text = LANG.write_corpus(400, seed=1)[5:-3]  # a fragment: open first line, cut last word
    ws = [w for w in LANG.word_scores(text) if w.scored]
    s = LANG.score([text])
    assert s.words[0] == len(ws) and np.isclose(s.nll[0], np.mean([w.nll for w in ws]))
    for w in ws:
        assert text[w.start : w.end] == LANG.words[w.word]
    heading_words = {t for line in text.split("\n") if "=" in line.split() for t in line.split()}
    assert heading_words  # the fragment holds a heading, whose words are never scored
    lines = text.split("\n")
    offsets = np.cumsum([0] + [len(line) + 1 for line in lines[:-1]])
    for line, off in zip(lines, offsets):
        if "=" in line.split():
            assert not any(off <= w.start < off + len(line) for w in ws)


def test_sentence_final_words_make_sentence_ends_predictable():
    """Bug: the sentence-final words do not end sentences more often than the others."""
    t = LANG.transition
    final, other = LANG.final[2:], ~LANG.final[2:]
    assert final.any() and other.any()
    assert np.allclose(t[2:][final, 0], LANG.config.p_final) and np.allclose(t[2:][other, 0], LANG.config.p_period)
    assert np.allclose(t.sum(axis=1), 1.0)
    assert (t[:2, :2] == 0).all()  # punctuation never follows punctuation


def test_pretraining_split_is_disjoint_from_the_recursion_data(tok_and_model):
    """Bug: the pretraining corpus shares text with the fine-tuning, validation or test splits (a hidden anchor)."""
    tok, _ = tok_and_model
    splits = LANG.write_splits({"pretrain": 8_000, "train": 3_000, "valid": 800, "test": 800}, seed=2)
    assert list(splits) == ["pretrain", "train", "valid", "test"]
    para = {k: {ln for ln in v.split("\n") if ln.strip() and "=" not in ln.split()} for k, v in splits.items()}
    others = para["train"] | para["valid"] | para["test"]
    assert para["pretrain"] and not (para["pretrain"] & others)
    pre = data.make_blocks(splits["pretrain"].splitlines(keepends=True), tok, 16)
    for name in ("train", "valid", "test"):
        blocks = data.make_blocks(splits[name].splitlines(keepends=True), tok, 16)
        measures.check_disjoint(blocks, pre, name)  # raises on a shared block
    # train, valid and test are written as synthetic_corpus writes them (same seeds)
    assert splits["train"] == LANG.write_corpus(3_000, seed=2 * 1000 + 0)
    assert len(splits["pretrain"].split()) > 7_000


def test_check_disjoint_finds_a_shared_block():
    """Bug: Figure 11's reference may contain training blocks without anyone noticing."""
    a = np.arange(40).reshape(5, 8)
    measures.check_disjoint(a[:2], a[2:])
    with pytest.raises(ValueError, match="1 of 2 blocks"):
        measures.check_disjoint(a[[0, 3]], a[2:])


def test_truth_writer_beam_search_follows_the_repetition_penalty():
    """Bug: the perfect-model writer ignores the penalty or the prompt's words (it must penalise both, as HF does)."""
    lang = LANG
    best = int(np.argmax(lang.transition[0]))  # the likeliest first word of a sentence
    greedy = lang.continue_texts([" ."], 1, num_beams=1, repetition_penalty=1.0)[0].split()
    assert greedy == [lang.words[best]]
    # with the word already in the prompt and a strong penalty, greedy search picks another word
    p = lang.transition[0]
    second = int(np.argsort(-p)[1])
    penalty = 1.0 + np.log(p[second]) / np.log(p[best]) + 0.5  # p[best] ** penalty < p[second]
    prompt = f" {lang.words[best]} ."
    out = lang.continue_texts([prompt], 1, num_beams=1, repetition_penalty=penalty)[0].split()
    assert out == [lang.words[second]]
    # beam search with 3 beams scores at least as well as greedy (without a penalty)
    prompts = [lang.write_corpus(40, seed=s)[:120] for s in range(6)]
    g = lang.score(lang.continue_texts(prompts, 12, num_beams=1, repetition_penalty=1.0)).nll
    b = lang.score(lang.continue_texts(prompts, 12, num_beams=3, repetition_penalty=1.0)).nll
    assert np.nanmean(b) <= np.nanmean(g) + 1e-9


def test_truth_writer_sampling_is_a_fresh_sample():
    """Bug: sampling from the truth does not reproduce the source (its NLL must sit at the entropy rate)."""
    lang = SyntheticLanguage(LanguageConfig(vocab_size=60, seed=2))
    texts = lang.continue_texts([" ."] * 200, 60, sample=True, seed=4)
    assert abs(lang.score(texts).mean_nll - lang.entropy_rate()) < 0.1
    beam = lang.continue_texts([" ."] * 20, 60, num_beams=3, repetition_penalty=3.0)
    assert lang.score(beam).mean_nll < lang.score(texts).mean_nll  # beam search writes likelier text
    with pytest.raises(ValueError, match="num_beams"):
        lang.continue_texts([" ."], 3, num_beams=0)
    with pytest.raises(ValueError, match="repetition_penalty"):
        lang.continue_texts([" ."], 3, repetition_penalty=0)


# --------------------------------------------------------------------------- words and tokens
def test_token_nll_matches_sequence_nll(tok_and_model):
    """Bug: the per-token losses are shifted by one or include the unscored first token."""
    tok, lm = tok_and_model
    blocks = data.make_blocks(LANG.write_corpus(800, seed=4).splitlines(keepends=True), tok, 20)[:6]
    tn = measures.token_nll(lm, blocks, batch_size=4)
    assert tn.shape == blocks.shape and np.isnan(tn[:, 0]).all() and np.isfinite(tn[:, 1:]).all()
    np.testing.assert_allclose(np.nanmean(tn, axis=1), model.sequence_nll(lm, blocks), rtol=1e-5)


def test_model_and_truth_are_scored_on_the_same_words(tok_and_model):
    """Bug: the model's per-word loss counts heading, layout or unscored tokens that the truth skips (or vice versa)."""
    tok, lm = tok_and_model
    blocks = data.make_blocks(LANG.write_corpus(3_000, seed=6).splitlines(keepends=True), tok, 48)[:12]
    pairing = measures.pair_words(LANG, tok, blocks)
    tn = measures.token_nll(lm, blocks)
    assert pairing.words > 100
    for i, block in enumerate(blocks):
        text, spans = measures.token_spans(tok, block)
        assert text == pairing.texts[i] == tok.decode(block)
        scored = [w for w in LANG.word_scores(text) if w.scored]
        ids = np.flatnonzero(pairing.block == i)
        # every paired word is a word the truth scores, with its true NLL
        truth = {(w.start, w.end): w.nll for w in scored}
        for wid in ids:
            toks = np.flatnonzero(pairing.token_word[i] == wid)
            a, b = spans[toks[0], 0], spans[toks[-1], 1]
            word = text[a:b].strip()
            start = text.index(word, a)
            assert np.isclose(truth[(start, start + len(word))], pairing.true_nll[wid])
            assert toks[0] > 0  # token 0 is not scored by the model
        # the truth's scored words are all paired except where the model has no score
        assert len(ids) >= len(scored) - 1
        # no token of a heading line belongs to a paired word
        for k in np.flatnonzero(pairing.token_word[i] >= 0):
            a, b = spans[k]
            line = text[: b].split("\n")[-1] + text[b:].split("\n")[0]
            assert "=" not in line.split(), f"token {k} of block {i} lies in a heading line: {line!r}"
    assert any("=" in t for t in pairing.texts)  # there were headings to skip
    loss = measures.paired_word_losses(pairing, tn)
    mask = pairing.token_word >= 0
    assert np.isclose(loss.model_nll * loss.words, tn[mask].sum())
    assert np.isclose(loss.true_nll, pairing.true_nll.mean()) and loss.words == pairing.words


def test_paired_losses_refuse_a_mismatched_shape(tok_and_model):
    tok, _ = tok_and_model
    blocks = data.make_blocks(LANG.write_corpus(500, seed=6).splitlines(keepends=True), tok, 16)[:3]
    pairing = measures.pair_words(LANG, tok, blocks)
    with pytest.raises(ValueError, match="shape"):
        measures.paired_word_losses(pairing, np.zeros((3, 15)))


# --------------------------------------------------------------------------- frequency bands
def test_frequency_bands_follow_the_training_counts():
    """Bug: the bands are computed from the wrong end of the ranking, or unseen tokens are not rare."""
    rng = np.random.default_rng(0)
    p = 1.0 / np.arange(1, 41) ** 1.2
    blocks = rng.choice(40, size=(200, 16), p=p / p.sum())
    bands = measures.frequency_bands(blocks, vocab_size=50)
    counts = np.bincount(blocks.ravel(), minlength=50)
    assert (bands.band[40:] == 0).all()  # never seen
    assert bands.band[0] == 2 and bands.band[np.argmax(counts)] == 2
    frequent = counts[bands.band == 2].sum() / counts.sum()
    rare = counts[bands.band == 0].sum() / counts.sum()
    assert 0.5 <= frequent < 0.5 + counts.max() / counts.sum() + 1e-9
    assert 0 < rare <= 0.1
    assert counts[bands.band == 2].min() >= counts[bands.band == 1].max() >= counts[bands.band == 0].max()
    assert "frequent" in bands.describe()
    with pytest.raises(ValueError, match="vocabulary"):
        measures.frequency_bands(blocks, vocab_size=10)
    with pytest.raises(ValueError, match="rare_share"):
        measures.frequency_bands(blocks, vocab_size=50, frequent_share=0.6, rare_share=0.5)


def test_band_losses_add_up_to_the_total():
    """Bug: the frequency-band losses do not add up to the total loss (weights or counts wrong)."""
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, 30, size=(20, 12))
    tn = rng.exponential(2.0, size=blocks.shape)
    tn[:, 0] = np.nan
    bands = measures.frequency_bands(blocks, 30)
    bl = measures.band_losses(tn, blocks, bands)
    assert np.isclose(bl.contribution.sum(), bl.total) and np.isclose(bl.total, np.nanmean(tn))
    assert np.isclose(bl.share.sum(), 1.0) and bl.tokens.sum() == np.isfinite(tn).sum()
    which = bands.of(blocks)
    for b in range(3):
        sel = (which == b) & np.isfinite(tn)
        if sel.any():
            assert np.isclose(bl.mean[b], tn[sel].mean())
    d = bl.as_dict()
    assert np.isclose(sum(d[f"test_nll_{n}_contribution"] for n in measures.BAND_NAMES), d["test_nll_total"])


# --------------------------------------------------------------------------- coverage
def test_coverage_and_its_sampling_baseline():
    """Bug: tail coverage read without its baseline (a fresh sample of the source also misses rare words)."""
    lang = SyntheticLanguage(LanguageConfig(vocab_size=300, seed=1))
    bands = measures.word_bands(lang)
    assert (bands[:2] == -1).all() and (bands[lang.tail] == 0).all() and (bands == 2).sum() < (bands == 0).sum()
    base = measures.fresh_coverage(lang, 3_000, seed=0, bands=bands)
    assert base[2] == 1.0 and 0.0 < base[0] < base[1] <= 1.0
    text = lang.write_corpus(3_500, seed=9)
    cov = measures.coverage(lang, [text], bands)
    assert np.all(np.abs(cov - base) < 0.12)  # the source itself sits at its baseline
    assert measures.fresh_coverage(lang, 30_000, seed=0, bands=bands)[0] > base[0]  # more text, more tail
    few = " " + " ".join(lang.words[w] for w in np.flatnonzero(bands == 2)) + " ."
    assert measures.coverage(lang, [few], bands)[0] == 0.0


# --------------------------------------------------------------------------- Figure 11
def test_reference_perplexity_refuses_training_blocks(tok_and_model):
    """Bug: Figure 11's reference is scored on blocks the generation-0 model trained on."""
    tok, lm = tok_and_model
    blocks = data.make_blocks(LANG.write_corpus(1_500, seed=8).splitlines(keepends=True), tok, 16)
    train, valid = blocks[:20], blocks[20:26]
    ref = measures.reference_perplexity(lm, valid, train)
    np.testing.assert_allclose(np.log(ref), model.sequence_nll(lm, valid), rtol=1e-5)
    with pytest.raises(ValueError, match="training blocks"):
        measures.reference_perplexity(lm, blocks[15:22], train)


def test_perplexity_shift_table():
    rng = np.random.default_rng(0)
    ref = rng.lognormal(2.0, 0.3, 2000)
    table = measures.perplexity_shift({0: ref, 1: ref / 4, 2: ref * 4}, ref)
    assert list(table["generation"]) == ["reference", 0, 1, 2]
    assert all(" " in c for c in table.columns[1:])  # readable names, not internal ones
    above = table["share above the reference median"].tolist()
    assert above[0] == pytest.approx(0.5, abs=0.01) and above[2] < 0.01 and above[3] > 0.99
    assert table.iloc[0, 3] == pytest.approx(0.01, abs=0.005)


# --------------------------------------------------------------------------- writer comparison and sentences
def test_distinct_n_ignores_headings():
    assert measures.distinct_n([" = A = \n a b a b"], 1) == 0.5
    assert measures.distinct_n(["a b c d"], 2) == 1.0
    with pytest.raises(ValueError, match="n must be"):
        measures.distinct_n(["a"], 0)
    from collapse_utils.llm import textmetrics

    for count in (textmetrics.distinct_n, textmetrics.repetition):  # no n-grams of 0 words (a made-up share)
        with pytest.raises(ValueError, match="n must be"):
            count(["a b"], 0)


def _table(model_nll: float, model_d2: float, model_d1: float = 0.02):
    import pandas as pd

    cols = measures.WRITER_COLUMNS
    rows = {
        "a fresh sample of the source": [0.05, 0.20, 0.40, 2.0],
        "the perfect model": [0.02, 0.04, 0.07, 1.3],
        "generation 0": [model_d1, model_d2, model_d2 * 1.75, model_nll],
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols)


def test_writer_sentence_both_outcomes():
    """Bug: the sentence says the model writes the language whatever the numbers say."""
    args = ("generation 0", "the perfect model", "a fresh sample of the source", 0.2)
    good = measures.writer_sentence(_table(1.35, 0.04), *args)
    bad = measures.writer_sentence(_table(2.5, 0.01, 0.01), *args)
    mixed = measures.writer_sentence(_table(1.35, 0.01), *args)
    assert good.startswith("On every measure") and "within 20%" in good
    assert bad.startswith("On no measure")
    assert "but not in distinct 2-grams" in mixed
    assert "below that of a fresh sample" in good and "1.30 against 2.00" in good


def test_impossible_pairs_are_counted_apart_from_the_nll():
    """Bug: one word pair the chain cannot write (". ." in a model's text) makes the text's mean true NLL
    infinite, so the writer table compares infinities; or such pairs are dropped without being counted."""
    lang = SyntheticLanguage(vocab_size=50, seed=0)
    a, b = lang.words[2:4]
    s = lang.score([f" {a} {b} . . {a} ."], fragments=False)
    assert s.impossible[0] == 1 and np.isfinite(s.nll[0]) and np.isfinite(s.mean_nll)
    assert s.words[0] == 5  # a|".", b|a, "."|b, a|"." (after the impossible "." | "."), "."|a
    assert np.isclose(s.impossible_rate, 1 / 6)
    clean = lang.score([f" {a} {b} . {a} ."], fragments=False)
    assert clean.impossible[0] == 0 and clean.impossible_rate == 0.0


def test_sampled_writer_sentence_both_outcomes():
    """Bug: the sentence says generation 0 writes the language whatever its samples look like, or it hides
    the fresh samples' own spread and the impossible word pairs."""
    import pandas as pd

    cols = [*measures.WRITER_COLUMNS, measures.IMPOSSIBLE_COLUMN]
    rows = {"fresh": [0.067, 0.25, 0.49, 1.96, 0.0], "close": [0.062, 0.245, 0.48, 2.08, 0.0005],
            "far": [0.045, 0.19, 0.3, 2.5, 0.0], "mixed": [0.045, 0.245, 0.48, 2.0, 0.0]}
    t = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    spread = {"distinct words": 0.03, "true NLL per word": 0.02}
    good = measures.sampled_writer_sentence(t, "close", "fresh", 0.15, spread)
    bad = measures.sampled_writer_sentence(t, "far", "fresh", 0.15)
    mixed = measures.sampled_writer_sentence(t, "mixed", "fresh", 0.15)
    assert "within 15% of fresh on every measure" in good and "the largest difference: -7% in distinct words" in good
    assert "differ from each other by up to 3%" in good and "About 5 in 10,000" in good
    assert "outside 15% of fresh on every measure" in bad and "None of its word pairs" in bad
    assert "but not in distinct words (-33%)" in mixed


def test_band_sentence_both_outcomes():
    """Bug: the sentence says the rare tokens suffered most whatever happened."""
    first = {"rare": 5.0, "middle": 3.0, "frequent": 1.0}
    tail_first = measures.band_sentence(first, {"rare": 7.0, "middle": 3.3, "frequent": 1.05}, 5)
    head_first = measures.band_sentence(first, {"rare": 5.1, "middle": 3.3, "frequent": 2.0}, 5)
    assert "the rare tokens, the tail, suffered most" in tail_first and "rare tokens +40%" in tail_first
    assert "the frequent tokens suffered most, not the rare ones" in head_first
    assert measures.band_sentence(first, first, 2, "5 epochs").startswith("With 5 epochs, from generation 0")
    tiny_fall = measures.band_sentence(first, {"rare": 4.99, "middle": 3.3, "frequent": 1.05}, 5)
    assert "rare tokens >-0.5%" in tiny_fall and "-0%" not in tiny_fall  # a small change is not printed as none


def test_settings_sentence_ranks_settings():
    labels = {"a": "A", "b": "B", "c": "C"}
    s = measures.settings_sentence({"a": 5.0, "b": 1.0, "c": 3.0}, labels)
    assert "changed by +1.0 with B, +3.0 with C and +5.0 with A (smallest to largest)" in s
    assert "No setting" in measures.settings_sentence({}, labels)


def test_settings_sentence_says_when_runs_cannot_rank():
    """Bugs: ties ranked as "least" and "most" (+0.8 and +0.8); an order claimed where the runs overlap."""
    labels = {"a": "A", "b": "B"}
    tie = measures.settings_sentence({"a": 0.81, "b": 0.79}, labels)
    assert "changed by the same +0.8 with" in tie and "smallest" not in tie
    overlap = measures.settings_sentence({"a": 1.0, "b": 2.0}, labels, ranges={"a": (0.2, 1.8), "b": (1.5, 2.5)})
    assert "changed by +1.0 with A and +2.0 with B" in overlap and "do not settle the order" in overlap
    apart = measures.settings_sentence({"a": 1.0, "b": 2.0}, labels, ranges={"a": (0.8, 1.2), "b": (1.5, 2.5)})
    assert "the ranges do not overlap" in apart
    shares = measures.settings_sentence({"a": -0.114, "b": -0.021}, labels, metric="the coverage", digits=2)
    assert "changed by -0.11 with A and -0.02 with B" in shares


# --------------------------------------------------------------------------- the judge of an experiment
def test_judge_measures_a_model_and_a_text(tok_and_model):
    """Bug: the judge's band losses do not add up, or its baseline is not a fresh sample of the same size."""
    tok, lm = tok_and_model
    lines = LANG.write_splits({"train": 2_000, "valid": 600, "test": 600}, seed=4)
    blocks = {k: data.make_blocks(v.splitlines(keepends=True), tok, 24) for k, v in lines.items()}
    judge = measures.Judge(tok, blocks["train"], blocks["valid"], blocks["test"], LANG, seed=1)
    m, per_block = judge.model_metrics(lm)
    assert np.isclose(sum(m[f"test_nll_{b}_contribution"] for b in measures.BAND_NAMES), m["test_nll_total"])
    np.testing.assert_allclose(per_block, model.sequence_nll(lm, blocks["test"]), rtol=1e-5)
    assert m["test_words"] == judge.pairing.words and np.isfinite(m["test_word_nll_truth"])
    d = judge.data_metrics(tok.batch_decode(blocks["train"]))
    for b in measures.BAND_NAMES:  # the original training text sits near its sampling baseline
        assert abs(d[f"coverage_{b}"] - d[f"coverage_{b}_baseline"]) < 0.15
    fresh = judge.fresh_texts(len(blocks["train"]), 24)
    assert len(fresh) == len(blocks["train"])
    w = judge.written_metrics(fresh)
    assert abs(w["written_true_nll"] - LANG.entropy_rate()) < 0.3
    rows = judge.writer_profiles(continuation=24, num_beams=2, repetition_penalty=3.0)
    assert set(rows) == {measures.FRESH_ROW, measures.PERFECT_ROW}
    assert rows[measures.PERFECT_ROW]["true NLL per word"] < rows[measures.FRESH_ROW]["true NLL per word"]
    spread = judge.fresh_spread(continuation=24, samples=3)  # fresh samples differ from each other, a little
    assert set(spread) == set(measures.WRITER_COLUMNS)
    assert all(0 < v < 0.3 for v in spread.values()), spread
    assert judge.fresh_spread(24, 3, first=rows[measures.FRESH_ROW]) == spread  # the writer table's fresh sample
    ref = judge.reference(lm)
    assert ref.shape == (len(blocks["valid"]),) and (ref > 1).all()
    with pytest.raises(ValueError, match="training blocks"):
        measures.Judge(tok, blocks["train"], blocks["train"][:3], blocks["test"], LANG).reference(lm)


def test_decoding_sentence_both_outcomes():
    """Bug: the decoding sentence says beam search writes likelier text whatever the numbers say."""
    import pandas as pd

    cols = measures.WRITER_COLUMNS
    rows = {"fresh": [0.05, 0.20, 0.4, 2.0], "paper": [0.02, 0.05, 0.1, 1.3], "plain": [0.01, 0.01, 0.01, 0.9],
            "sample": [0.05, 0.19, 0.4, 2.05]}
    t = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    s = measures.decoding_sentence(t, "fresh", "paper", "plain", "sample")
    assert "even the perfect model writes text likelier than the source's (1.30 against 2.00" in s
    assert "25% of the source's share" in s and "repeats itself more" in s
    assert "Sampling writes text about as likely as the source's" in s
    t.loc["paper", cols[3]] = 2.6
    t.loc["plain", cols[1]] = 0.3
    s = measures.decoding_sentence(t, "fresh", "paper", "plain", "sample")
    assert "writes text less likely than the source's (2.60" in s and "repeats itself more" not in s
