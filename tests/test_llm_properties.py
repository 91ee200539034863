"""Chapter 4's parts, each through its own tests: configuration, presets, seeds, tokenisation, related languages,
the training loop's hidden state, sampling noise, text measures, estimates, the code identity and the command line.

Property-based tests use hypothesis with fixed, fast budgets where an invariant holds for a family of inputs. Each
test names the bug it guards against in its docstring. No experiment runs here (see ``test_llm_chapter.py``).
"""

from __future__ import annotations

import ast
import json
import math
from collections import Counter
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collapse_utils.llm import config as config_mod
from collapse_utils.llm import data, estimate, identity, measures, model, presets, results, runner, textmetrics
from collapse_utils.llm.__main__ import FIELDS, build_parser, config_from_args
from collapse_utils.llm.__main__ import main as cli_main
from collapse_utils.llm.config import ExperimentConfig, Setting, derived_seed, with_recipe
from collapse_utils.llm.synthetic import LanguageConfig, SyntheticLanguage

pytestmark = pytest.mark.usefixtures("one_thread")

FAST = settings(max_examples=25, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
BASE = ExperimentConfig(model="small", data="synthetic", language=LanguageConfig(vocab_size=60),
                        small=model.SmallModelConfig(max_positions=256))  # fmt: skip


# ------------------------------------------------------------------------------------ the configuration
@pytest.mark.parametrize(
    "change, name",
    [
        (dict(checkpoint="best"), "checkpoint"),
        (dict(init="scratch"), "init"),
        (dict(tokenization="words"), "tokenization"),
        (dict(select=0.0), "select"),
        (dict(select=1.5), "select"),
        (dict(select=math.nan), "select"),
        (dict(pretrain_language="english"), "pretrain_language"),
        (dict(pretrain_blend=1.5), "pretrain_blend"),
        (dict(pretrain_blend=-0.1), "pretrain_blend"),
        (dict(pretrain_blend=0.0), "pretrain_blend"),
        (dict(init="previous", keep_models="first"), "keep_models"),
        (dict(retained_blocks="fresh", data="wikitext-2-raw-v1"), "retained_blocks"),
        (dict(micro_batch_size=0), "micro_batch_size"),
        (dict(max_valid_blocks=0), "max_valid_blocks"),
        (dict(max_train_blocks=0), "max_train_blocks"),
        (dict(max_test_blocks=-1), "max_test_blocks"),
        (dict(synthetic_words=(10, 10)), "synthetic_words"),
        (dict(synthetic_words=(10, 0, 10)), "synthetic_words"),
        (dict(settings=()), "settings"),
        (dict(keep_models="some"), "keep_models"),
        (dict(fallback=1), "fallback"),
        (dict(seed=-1), "seed"),
        (dict(samples=-1), "samples"),
        (dict(gen_batch_size=0), "gen_batch_size"),
        (dict(new_tokens=0), "new_tokens"),
        (dict(block_size=1), "block_size"),
        (dict(block_size=200, new_tokens=100), "block_size"),
        (dict(min_lr=1e-3, lr=1e-4), "min_lr"),
        (dict(fallback_lr=0.0), "fallback_lr"),
        (dict(decoding="greedy"), "decoding"),
        (dict(data_schedule="keep"), "data_schedule"),
        (dict(pretrain_words=0), "pretrain_words"),
        (dict(generations=1.5), "generations"),
        (dict(runs=True), "runs"),
        (dict(max_grad_norm=0.0), "max_grad_norm"),
        (dict(settings=(Setting(2, 0.1), Setting(2, 0.1))), "settings"),
        (dict(settings=(Setting(2, 1.01),)), "retention"),
    ],
)
def test_bad_configurations_name_the_option(change, name):
    """Bug guarded: an option left unchecked (a run of minutes on a value that cannot work, or a wrong value used
    silently), or an error that does not say which option is wrong."""
    with pytest.raises(ValueError, match=name):
        replace(BASE, **change).validate()


def configs():
    return st.builds(
        lambda g, runs, pairs, beams, penalty, select, checkpoint, init, schedule, retained, decoding, blend, lang, tok:
        replace(BASE, generations=g, runs=runs, settings=tuple(dict.fromkeys(Setting(e, r) for e, r in pairs)),
                num_beams=beams, repetition_penalty=penalty, select=select, checkpoint=checkpoint, init=init,
                data_schedule=schedule, retained_blocks=retained, decoding=decoding, pretrain_blend=blend,
                pretrain_language=lang, tokenization=tok),
        st.integers(0, 12), st.integers(1, 6),
        st.lists(st.tuples(st.integers(1, 20), st.sampled_from([0.0, 0.1, 0.25, 1 / 3, 1.0])), min_size=1, max_size=3),
        st.integers(1, 6), st.floats(0.5, 4.0), st.sampled_from([1.0, 0.5, 0.25, 0.3]),
        st.sampled_from(config_mod.CHECKPOINTS), st.sampled_from(config_mod.INITS),
        st.sampled_from(config_mod.DATA_SCHEDULES), st.sampled_from(config_mod.RETAINED_BLOCKS),
        st.sampled_from(config_mod.DECODINGS), st.floats(0.05, 1.0), st.sampled_from(config_mod.PRETRAIN_LANGUAGES),
        st.sampled_from(config_mod.TOKENIZATIONS),
    )  # fmt: skip


@FAST
@given(configs())
def test_a_configuration_survives_its_json(c):
    """Bugs guarded: a field lost or changed on its way through config.json (a resumed or plotted run then reads
    another experiment than the one that ran), or a key that does not follow the configuration."""
    c = c.validate()
    text = json.dumps(c.to_json())
    back = ExperimentConfig.from_json(json.loads(text))
    assert back == c and back.key() == c.key()
    assert c.recipe == {"real": "authors", "generated": "strict", "last": "custom"}[c.checkpoint]


def test_the_key_follows_every_field():
    """Bug guarded: a field left out of the configuration's key, so an output folder (or a default folder name) is
    resumed by an experiment that differs in it."""
    other = dict(model="facebook/opt-125m", data="wikitext-2-raw-v1", generations=3, runs=2,
                 settings=(Setting(1, 0.0),), block_size=32, new_tokens=8, num_beams=3, repetition_penalty=2.0,
                 lr=1e-4, schedule="linear", min_lr=0.0, max_grad_norm=None, checkpoint="generated", init="previous",
                 batch_size=64, micro_batch_size=8, gen_batch_size=32, eval_batch_size=32, max_train_blocks=100,
                 max_valid_blocks=10, max_test_blocks=10, tokenization="text", data_schedule="accumulate",
                 retained_blocks="first", select=0.5, seed=3, fallback=False, fallback_lr=1e-2,
                 small=replace(BASE.small, layers=3), language=LanguageConfig(vocab_size=70),
                 synthetic_words=(1, 2, 3), pretrain_words=None, pretrain_language="same", pretrain_blend=0.5,
                 decoding="sample", keep_models="first", samples=1)  # fmt: skip
    assert set(other) == {f.name for f in fields(ExperimentConfig)}
    keys = {BASE.key()}
    for name, value in other.items():
        changed = replace(BASE, **{name: value})
        assert changed.key() not in keys, name
        keys.add(changed.key())


def test_folders_of_older_versions_are_read_as_what_they_ran():
    """Bugs guarded: config.json of a run made before the recipe fields (best_checkpoint=False, accumulate=True) read
    as the authors' recipe with the replace schedule, or unknown keys of a newer version refused."""
    d = BASE.to_json()
    del d["checkpoint"], d["data_schedule"]
    old = ExperimentConfig.from_json({**d, "best_checkpoint": False, "accumulate": True, "a_future_field": 1})
    assert old.checkpoint == "last" and old.data_schedule == "accumulate"
    assert ExperimentConfig.from_json({**d, "best_checkpoint": True}).checkpoint == "real"


def test_recipes_change_only_the_checkpoint_choice():
    """Bugs guarded: the strict recipe choosing on the real blocks (its one difference lost), a recipe changing other
    fields, or an unknown recipe name accepted."""
    strict = with_recipe(BASE, "strict")
    assert strict.checkpoint == "generated" and strict.recipe == "strict"
    assert replace(strict, checkpoint=BASE.checkpoint) == BASE
    assert with_recipe(strict, "authors") == BASE and BASE.recipe == "authors"
    assert config_mod.RECIPES["authors"] == {"checkpoint": "real"}
    with pytest.raises(ValueError, match="recipe"):
        with_recipe(BASE, "paper")


def test_setting_labels_say_what_readers_read():
    """Bug guarded: labels that say '1 epochs', or a share of original data printed as a fraction."""
    assert Setting(1, 0.0).label == "1 epoch, no original data"
    assert Setting(10, 0.1).label == "10 epochs, 10% original data"
    with pytest.raises(ValueError, match="5ep-keep0.1"):
        Setting.from_name("5 epochs")


# ------------------------------------------------------------------------------------ seeds
keys = st.lists(st.one_of(st.integers(0, 50), st.sampled_from(["train", "data", "write", "valid", "5ep-keep0.0"])),
                min_size=1, max_size=4)  # fmt: skip


@FAST
@given(st.integers(0, 2**20), keys, keys)
def test_derived_seeds_differ_when_their_keys_differ(seed, a, b):
    """Bugs guarded: a derived seed that ignores one of its keys (a run, a generation, what it is for), their order,
    or the base seed: chains that should be independent then draw the same random numbers."""
    sa = derived_seed(seed, *a)
    assert sa == derived_seed(seed, *a)
    assert sa != derived_seed(seed + 1, *a)
    if a != b:
        assert sa != derived_seed(seed, *b)
    if len(a) > 1 and a != a[::-1]:
        assert sa != derived_seed(seed, *a[::-1])


def test_chain_seeds_are_apart_per_use_and_shared_for_generation_0():
    """Bugs guarded: one seed for the batch order, the retained subset and the sampling noise of a generation (the
    retained subset then follows the batch order); generation 0's seed depending on a setting's retention (chains
    that should share generation 0 do not); a setting's seeds depending on its position in the list."""
    c = replace(BASE, settings=(Setting(2, 0.0), Setting(2, 0.1)))
    swapped = replace(c, settings=c.settings[::-1])
    seeds = Counter()
    for s in c.settings:
        for run in range(3):
            for g in range(1, 4):
                for what in ("train", "data", "write", "valid"):
                    seeds[runner.chain_seed(c, s, run, g, what)] += 1
                    assert runner.chain_seed(c, s, run, g, what) == runner.chain_seed(swapped, s, run, g, what)
    assert max(seeds.values()) == 1
    assert runner.gen0_seed(c, 2, 0) == runner.gen0_seed(replace(c, settings=(Setting(2, 0.5),)), 2, 0)
    assert len({runner.gen0_seed(c, e, r) for e in (1, 2) for r in (0, 1)}) == 4
    assert not set(seeds) & {runner.gen0_seed(c, 2, r) for r in range(3)}


# ------------------------------------------------------------------------------------ presets
def test_the_strict_variant_and_the_ablation_change_what_they_name():
    """Bugs guarded: the strict experiment or an ablation suspect changing more than it names (another setting, data,
    decoding), running at the wrong scale, or at a profile that cannot afford it."""
    for profile in ("quick", "book"):
        c = presets.profile_config(profile)
        first = replace(c, settings=c.settings[:1])
        strict = presets.strict_variant(c)
        assert strict == replace(first, checkpoint="generated")
        ab = presets.ablation(c, profile)
        assert list(ab) == list(presets.ABLATION)
        runs, gens = {"quick": (1, 1), "book": (2, c.generations)}[profile]
        for name, variant in ab.items():
            assert variant == replace(first, runs=min(runs, c.runs), generations=min(gens, c.generations),
                                      **presets.ABLATION[name]), name  # fmt: skip
    changed = {k for change in presets.ABLATION.values() for k in change}
    assert changed == {"init", "pretrain_language", "checkpoint"}
    assert presets.MORE_ABLATION["no checkpoint choice"] == {"checkpoint": "last"}
    assert presets.ABLATION["continue from the previous generation"] == {"init": "previous"}
    more = presets.ablation(presets.profile_config("book"), "book", suspects=presets.MORE_ABLATION)
    assert list(more) == ["no checkpoint choice"] and more["no checkpoint choice"].checkpoint == "last"
    for profile in ("gpu", "paper"):
        c = presets.profile_config(profile)
        assert presets.ablation(c, profile) == {} and presets.decoding_variant(c, profile) is None
        assert list(presets.chapter_experiments(c, profile, real_text_folder="/nonexistent")) == [presets.MAIN,
                                                                                                 presets.STRICT]


def test_the_chapter_runs_its_experiments_in_order():
    """Bug guarded: an experiment missing from the chapter's call (or one that runs under another name, so its
    folder and its figure disagree)."""
    c = presets.profile_config("book")
    names = list(presets.chapter_experiments(c, "book"))
    assert names == [presets.MAIN, presets.STRICT, presets.SAMPLING, *presets.ABLATION]
    assert presets.chapter_experiments(c, "book")[presets.MAIN] == c
    assert len({presets.slug(n) for n in names}) == len(names)
    assert presets.slug("The strict recipe!") == "the-strict-recipe"
    with pytest.raises(ValueError, match="letters or digits"):
        presets.slug(" -- ")


def test_the_real_text_experiment_is_written_once_and_strict(tmp_path, monkeypatch):
    """Bugs guarded: the real-text experiment running the authors' recipe, keeping original data, on the embedded
    language instead of the folder, at the book's scale in the quick profile, or with the embedded language's word
    tokenizer (English has no closed vocabulary); its folder written again at every call (a folder being read
    rewritten under a running chapter)."""
    c = presets.profile_config("quick")
    calls = []
    from collapse_utils.llm import realtext

    real = realtext.write_folder
    monkeypatch.setattr(realtext, "write_folder", lambda *a, **k: calls.append((a, k)) or real(*a, **k))
    folder = tmp_path / "docs"
    r = presets.real_text_experiment(c, folder, "quick")
    again = presets.chapter_experiments(c, "quick", real_text_folder=folder)[presets.REAL_TEXT]
    assert len(calls) == 1 and (folder / "DONE").exists() and again == r
    assert r.data == str(folder) and r.model == "small" and r.recipe == "strict"
    assert r.settings == (Setting(c.settings[0].epochs, 0.0),) and (r.runs, r.generations) == (1, 1)
    assert c.small.tokenizer == "words" and r.small == replace(c.small, tokenizer="bpe")  # English: no closed vocabulary
    corpus = data.read_wikitext_folder(folder)
    assert sum(len(x.split()) for x in corpus.train) >= 1_500 and corpus.pretrain
    assert presets.real_text_experiment(presets.profile_config("gpu"), folder, "gpu") is None


def test_profiles_keep_their_scale_and_their_seed(monkeypatch):
    """Bugs guarded: a profile that loses its caps (the quick profile reading every block), the book profile's
    settings not the paper's two and the one that separates them, COLLAPSE_SEED not reaching the experiment, or the
    embedded language tokenised by the BPE (most of the model's head spent on tokens that no text holds)."""
    quick, book = presets.profile_config("quick"), presets.profile_config("book")
    assert (quick.max_train_blocks, quick.max_valid_blocks, quick.max_test_blocks) == (32, 12, 24)
    assert (book.max_train_blocks, book.max_valid_blocks, book.max_test_blocks) == (64, 32, 64)
    assert book.settings[:2] == config_mod.PAPER_SETTINGS and book.settings[2] == Setting(10, 0.0)
    assert (book.runs, book.generations, book.small.dropout) == (5, 4, 0.0)
    assert quick.pretrain_language == book.pretrain_language == "related" and book.pretrain_blend == 0.95
    assert quick.small.tokenizer == book.small.tokenizer == "words"  # the embedded language's words, no unused token
    monkeypatch.setenv("COLLAPSE_SEED", "2")
    assert presets.profile_config("quick").seed == 2 * 1_000_003
    assert presets.profile_config("quick", seed=5).seed == 5


# ------------------------------------------------------------------------------------ tokenisation
LANG = SyntheticLanguage(LanguageConfig(vocab_size=60, seed=3))
LINES = LANG.write_corpus(1_500, seed=1).splitlines(keepends=True)


@pytest.fixture(scope="module", params=model.TOKENIZERS)
def tok(request):
    """Each of the small model's tokenizers, made from the same text (every test below holds for both)."""
    small = model.SmallModelConfig(vocab_size=300, tokenizer=request.param)
    return model.small_tokenizer(LINES, small)


def _pieces(text: str) -> list[str]:
    """``text`` split as both tokenizers split it first (GPT-2's byte-level pre-tokenizer)."""
    from tokenizers import pre_tokenizers

    return [p for p, _ in pre_tokenizers.ByteLevel(add_prefix_space=False).pre_tokenize_str(text)]


def test_the_word_tokenizer_makes_every_piece_of_its_text_one_token_and_holds_nothing_else():
    """Bugs guarded: pieces scored by their frequency (a rare word then cut into frequent pieces: `` kaka`` into `` ka``
    and ``ka``), characters as cheap as pieces (words spelled out), the 256 bytes or the BPE's merges added (tokens
    that no text holds, which the model's head pays for), the special tokens moved from OPT's ids, or a small model
    that asks for this tokenizer given the BPE."""
    lines = [" ka ka ka ka .\n", "\n", "ka ka ka lo .\n", " kaka .\n", "\n", " lo , ka .\n"] * 3 + [" kalo\n"]
    tok = model.word_tokenizer(lines)
    pieces = [p for line in lines for p in _pieces(line)]
    chars = {c for p in pieces for c in p} - set(pieces)
    assert len(tok) == 3 + len(set(pieces)) + len(chars)
    assert tok.convert_ids_to_tokens([0, 1, 2]) == ["<pad>", "</s>", "<unk>"] and tok.unk_token_id == 2
    for line in lines:
        ids = tok(line, add_special_tokens=False)["input_ids"]
        assert tok.convert_ids_to_tokens(ids) == _pieces(line) and tok.decode(ids) == line
    vocab = tok.get_vocab()
    assert vocab["Ġka"] < vocab["Ġlo"] < vocab["Ġkalo"]  # by frequency: the frequent pieces first
    assert model.small_tokenizer(lines, model.SmallModelConfig(tokenizer="words")).get_vocab() == vocab


def test_the_word_tokenizer_spells_out_what_its_text_lacks_and_decodes_it_back():
    """Bugs guarded: a word the pretraining text lacks turned into ``<unk>`` (the written text would lose it), cut into
    more tokens than its known pieces allow (characters preferred to a known piece), or decoded with spaces between
    its pieces; a character the text never uses not ``<unk>`` (a token the tokenizer does not have)."""
    tok = model.word_tokenizer(LINES)
    known = {p for line in LINES for p in _pieces(line)}
    words = [w for w in LANG.words[2:] if f"Ġ{w}" in known]
    a, b = next((a, b) for a in words for b in words if f"Ġ{a}{b}" not in known and len(b) > 1)
    text = f" {a}{b} {words[0]} .\n {a}{b}"
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.unk_token_id not in ids and tok.decode(ids) == text
    cut = tok.convert_ids_to_tokens(tok(f" {a}{b}", add_special_tokens=False)["input_ids"])
    assert "".join(cut) == f"Ġ{a}{b}" and 2 <= len(cut) <= 1 + len(b)
    assert "7" not in "".join(known) and tok("7", add_special_tokens=False)["input_ids"] == [tok.unk_token_id]


def test_the_tokenizer_puts_opts_separator_before_every_text(tok):
    """Bugs guarded: no ``</s>`` before a text encoded with special tokens (the authors' call), one added without them,
    or padding on the right (batched generation would continue the padding)."""
    ids = tok(" ka lo .")["input_ids"]
    assert ids[0] == tok.bos_token_id == tok.eos_token_id and tok.bos_token_id not in ids[1:]
    assert tok(" ka lo .", add_special_tokens=False)["input_ids"] == ids[1:]
    assert tok.padding_side == "left" and tok.pad_token_id == 0 and tok.decode(ids, skip_special_tokens=True) == " ka lo ."


@FAST
@given(st.integers(2, 40), st.integers(1, 30), st.booleans())
def test_capped_blocks_are_the_first_blocks_of_the_whole_text(tok, block_size, cap, special):
    """Bugs guarded: a cap (every profile has one) that tokenises too little text and returns fewer blocks than the
    text holds, or other blocks than the first ones; the remainder not dropped."""
    full = data.make_blocks(LINES, tok, block_size, special_tokens=special)
    capped = data.make_blocks(LINES, tok, block_size, max_blocks=cap, special_tokens=special)
    np.testing.assert_array_equal(capped, full[:cap])


def test_the_authors_tokenisation_is_every_line_on_its_own(tok):
    """Bugs guarded: the lines tokenised as one text (no ``</s>`` per line), blank lines dropped (the hub's wikitext
    keeps them as empty rows, each a lone ``</s>``), or special tokens added when they are off."""
    lines = [" = Title = \n", "\n", " ka lo .\n", "\n", "\n", " lo ka , ka .\n"] * 5
    ids = data.make_blocks(lines, tok, 4, special_tokens=True).ravel().tolist()
    expect = [i for line in lines for i in tok("" if line == "\n" else line)["input_ids"]]
    assert ids == expect[: len(ids)] and len(expect) - len(ids) < 4
    assert ids.count(tok.bos_token_id) == sum(1 for _ in lines[: ids.count(tok.bos_token_id)])
    plain = data.make_blocks(lines, tok, 4).ravel().tolist()
    assert tok.bos_token_id not in plain
    assert plain == [i for line in lines for i in tok(line, add_special_tokens=False)["input_ids"]][: len(plain)]
    text = "".join(data.decode_blocks(tok, data.make_blocks(lines, tok, len(expect), special_tokens=True)))
    assert text == "".join("" if line == "\n" else line for line in lines)


# ------------------------------------------------------------------------------------ related languages
@FAST
@given(st.floats(0.01, 1.0))
def test_a_related_language_blends_the_two_transition_tables(blend):
    """Bugs guarded: the blend weights swapped (blend 0.95 would be 95% the fine-tuning language), the other language
    drawn from the language's own seed (not another language), punctuation mixed in, or other words."""
    rel, other = LANG.related(blend), LANG.related(1.0)
    assert rel.words == LANG.words and (rel.final == LANG.final).all()
    np.testing.assert_allclose(rel.transition[:, 2:], (1 - blend) * LANG.transition[:, 2:]
                               + blend * other.transition[:, 2:], atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(rel.transition[:, :2], LANG.transition[:, :2], atol=1e-15)
    np.testing.assert_allclose(rel.transition.sum(axis=1), 1.0)
    assert not np.allclose(other.transition, LANG.transition, atol=0.05)
    assert not np.allclose(LANG.related(1.0, blend_seed=2).transition, other.transition, atol=0.05)


def test_cross_entropy_is_the_loss_of_a_perfect_model_of_the_other_language():
    """Bugs guarded: the cross-entropy computed with the two languages swapped, without the stationary weights (a plain
    mean over words), or from the pretraining language's own entropy; it not growing with the blend."""
    h = LANG.entropy_rate()
    assert LANG.cross_entropy(LANG) == pytest.approx(h, rel=1e-12)
    values = [LANG.cross_entropy(LANG.related(b)) for b in (0.1, 0.3, 0.6, 0.95)]
    assert h < values[0] and all(a < b for a, b in zip(values, values[1:]))
    rel = LANG.related(0.6)
    text = LANG.write_corpus(20_000, seed=11)
    under_rel = rel.score([text], fragments=False)
    assert under_rel.impossible.sum() == 0
    words = [w for w in rel.word_scores(text, fragments=False) if w.scored]
    nll = np.array([w.nll for w in words])
    se = nll.std() / math.sqrt(len(nll)) * 3  # neighbouring words are dependent: a generous 4 standard errors
    assert abs(nll.mean() - LANG.cross_entropy(rel)) < 4 * se
    assert abs(nll.mean() - rel.cross_entropy(LANG)) > 4 * se  # the other direction is another number
    with pytest.raises(ValueError, match="blend"):
        LANG.related(0.0)
    with pytest.raises(ValueError, match="blend"):
        rel.related(0.5)
    with pytest.raises(ValueError, match="same words"):
        LANG.cross_entropy(SyntheticLanguage(LanguageConfig(vocab_size=61)))


def test_the_experiment_pretrains_on_its_configured_related_language():
    """Bugs guarded: the pretraining language's blend or seed not the configured ones (another language than the page
    says), 'same' still blending, a corpus cache that hands one experiment another's pretraining text."""
    c = replace(BASE, synthetic_words=(300, 100, 100), pretrain_words=2_000, pretrain_blend=0.7)
    rel = runner.pretraining_language(c)
    assert rel.config.blend == 0.7 and rel.config.blend_seed == c.language.seed + 1
    assert rel.config.seed == c.language.seed and rel.words == SyntheticLanguage(c.language).words
    assert runner.pretraining_language(replace(c, pretrain_language="same")) is None
    a = runner.load_corpus(c)
    b = runner.load_corpus(replace(c, pretrain_blend=0.3))
    same = runner.load_corpus(replace(c, pretrain_language="same"))
    assert a.pretrain_language.config.blend == 0.7 and b.pretrain_language.config.blend == 0.3
    assert same.pretrain_language is None
    assert a.pretrain != b.pretrain != same.pretrain and a.train == b.train == same.train
    # the pretraining text is the related language's: likelier under it than under the fine-tuning language
    lang = a.language
    text = "".join(a.pretrain)
    assert rel.score([text]).mean_nll < lang.score([text]).mean_nll
    text = "".join(same.pretrain)
    assert lang.score([text]).mean_nll < rel.score([text]).mean_nll


def test_the_perfect_writer_samples_new_noise_for_every_prompt():
    """Bugs guarded: the perfect model's sampled continuations repeating one draw for every prompt (a fresh sample of
    the source that is one text many times), or ignoring the seed."""
    texts = LANG.continue_texts([" ka ."] * 8, 12, sample=True, seed=2)
    assert len(set(texts)) == len(texts)
    assert texts == LANG.continue_texts([" ka ."] * 8, 12, sample=True, seed=2)
    assert texts != LANG.continue_texts([" ka ."] * 8, 12, sample=True, seed=3)
    assert LANG.write_corpus(300, seed=1) != LANG.write_corpus(300, seed=2)


def test_a_call_refuses_bad_jobs_before_any_work(tmp_path):
    """Bugs guarded: a call with no experiment, two experiments writing into one folder (each overwriting the other's
    generations), or a worker count below 1, accepted; the error not naming what is wrong."""
    from collapse_utils.llm import workers

    with pytest.raises(ValueError, match="at least one experiment"):
        workers.run_many({})
    with pytest.raises(ValueError, match="workers"):
        workers.run_many({"a": (BASE, tmp_path / "a")}, workers=0)
    with pytest.raises(ValueError, match="own output folder"):
        workers.run_many({"a": (BASE, tmp_path / "a"), "b": (replace(BASE, seed=1), tmp_path / "x" / ".." / "a")})
    with pytest.raises(ValueError, match="select"):
        workers.run_many({"a": (replace(BASE, select=2.0), tmp_path / "a")})
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------------------------ the training loop's hidden state
def micro_lm(dropout: float = 0.3, seed: int = 0):
    from transformers import OPTConfig, OPTForCausalLM

    torch.manual_seed(seed)
    cfg = OPTConfig(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, ffn_dim=32,
                    max_position_embeddings=32, word_embed_proj_dim=16, dropout=dropout, pad_token_id=0,
                    bos_token_id=1, eos_token_id=1)  # fmt: skip
    return OPTForCausalLM(cfg).eval()


def watch(lm):
    """Record every forward pass: its input ids and whether the model was in training mode (dropout on).

    The hook sits on the decoder, which every pass goes through: scoring through the model's own forward, training
    through the fused loss (:func:`collapse_utils.llm.model.summed_next_token_loss`), which skips the head.
    """
    calls = []

    def hook(module, args, kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        calls.append((module.training, ids.detach().clone()))

    lm.model.decoder.register_forward_pre_hook(hook, with_kwargs=True)
    return calls


def test_saved_models_load_once_per_process_and_again_when_rewritten(tmp_path, monkeypatch):
    """Bugs: a cache keyed on the folder's path (every chain's hard-linked ``gen0/model`` loaded again, in every
    experiment of a worker); a cache of a fixed few models (a worker's chains take turns: each turn loads its
    generation 0 again); a cache that serves the old weights of a folder written again."""
    from transformers import AutoModelForCausalLM

    loads = []
    real = AutoModelForCausalLM.from_pretrained

    def counting(folder, *args, **kwargs):
        loads.append(Path(folder).name)
        return real(folder, *args, **kwargs)

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", counting)
    monkeypatch.setattr(runner, "_LOADED", type(runner._LOADED)())
    folders = []
    for i in range(runner.KEEP_MODELS + 3):
        folders.append(tmp_path / f"m{i}")
        model.save_model(micro_lm(seed=i), folders[-1])
    first = [runner.saved_model(f, "cpu") for f in folders]
    assert [runner.saved_model(f, "cpu") for f in folders] == first  # the same objects: nothing loaded again
    assert loads == [f.name for f in folders]
    runner._link_tree(folders[0], tmp_path / "chain-gen0")  # a chain's generation 0: hard links to the shared one
    assert runner.saved_model(tmp_path / "chain-gen0", "cpu") is first[0] and len(loads) == len(folders)
    model.save_model(micro_lm(seed=99), tmp_path / "new")
    (tmp_path / "m1").rename(tmp_path / "m1-old")  # the folder written again with other weights (an atomic folder)
    (tmp_path / "new").rename(tmp_path / "m1")
    reloaded = runner.saved_model(tmp_path / "m1", "cpu")
    assert reloaded is not first[1] and loads[-1] == "m1"
    assert not torch.equal(reloaded.lm_head.weight, first[1].lm_head.weight)


def epoch_orders(calls, blocks: np.ndarray, epochs: int) -> list[list[int]]:
    lookup = {tuple(r): i for i, r in enumerate(blocks.tolist())}
    rows = [lookup[tuple(r)] for training, ids in calls if training for r in ids.tolist()]
    n = len(blocks)
    return [rows[e * n : (e + 1) * n] for e in range(epochs)]


def test_training_shuffles_the_batches_anew_every_epoch_with_dropout_on():
    """Bugs guarded: the same batch order every epoch (or no shuffling), an order that ignores the seed, an epoch that
    skips or repeats blocks; training with dropout off (the model passed in eval mode and never switched), the
    validation passes with dropout on, the model handed back in training mode."""
    blocks = np.arange(2, 2 + 10 * 6).reshape(10, 6) % 62 + 2
    valid = blocks[:3, ::-1].copy()
    orders = {}
    for seed in (0, 1):
        lm = micro_lm()
        calls = watch(lm)
        out = model.train(lm, blocks, epochs=3, lr=1e-3, batch_size=4, seed=seed, device="cpu", valid_blocks=valid)
        assert [t for t, _ in calls] == ([True] * 3 + [False]) * 3  # 3 batches, then the validation pass
        orders[seed] = epoch_orders(calls, blocks, 3)
        for order in orders[seed]:
            assert sorted(order) == list(range(10))
        assert len({tuple(o) for o in orders[seed]}) == 3
        assert not out["model"].training
    assert orders[0] != orders[1]
    lm = micro_lm()
    calls = watch(lm)
    model.train(lm, blocks, epochs=3, lr=1e-3, batch_size=4, seed=0, device="cpu", valid_blocks=valid)
    assert epoch_orders(calls, blocks, 3) == orders[0]


@FAST
@given(st.integers(1, 6), st.integers(1, 9), st.sampled_from([0.0, 0.05, 0.2, 0.5]), st.sampled_from(["linear", "cosine"]))
def test_learning_rate_schedules_keep_their_shape(epochs, steps, warmup, schedule):
    """Bugs guarded: a warm-up counted in epochs or overshooting the peak, a linear decay that never reaches its end
    or goes negative, a cosine schedule that changes within an epoch (the authors step it once per epoch) or falls
    below its floor."""
    lr, floor = 1e-3, 1e-5
    out = model.learning_rates(schedule, lr, epochs, steps, floor, warmup)
    total, w = epochs * steps, int(warmup * epochs * steps)
    assert out.shape == (total,) and (out >= 0).all() and (out <= lr + 1e-15).all()
    if w:
        np.testing.assert_allclose(out[:w], np.minimum(lr * np.arange(w) / w, out[:w]))
        assert out[0] == 0.0
    if schedule == "linear":
        assert (np.diff(out[w:]) < 0).all() and out[w] == pytest.approx(lr)
        np.testing.assert_allclose(out[w:], lr * (total - np.arange(w, total)) / (total - w))
    else:
        for e in range(epochs):  # after the warm-up, one rate per epoch
            chunk = out[max(e * steps, w) : (e + 1) * steps]
            assert len(chunk) == 0 or np.ptp(chunk) == 0
        assert (out[w:] >= floor - 1e-15).all()
        assert out[-1] == pytest.approx(floor + (lr - floor) * (1 + math.cos(math.pi * (epochs - 1) / epochs)) / 2)


def test_training_with_dropout_draws_new_masks_per_seed():
    """Bug guarded: dropout masks not seeded by the run's seed (two runs identical up to the batch order, or one run
    not reproducible)."""
    blocks = np.random.default_rng(0).integers(2, 64, size=(1, 12))  # one block: every seed's batch order alike
    a = model.train(micro_lm(), blocks, epochs=2, lr=1e-2, batch_size=1, seed=0, device="cpu")["losses"]
    b = model.train(micro_lm(), blocks, epochs=2, lr=1e-2, batch_size=1, seed=0, device="cpu")["losses"]
    c = model.train(micro_lm(), blocks, epochs=2, lr=1e-2, batch_size=1, seed=1, device="cpu")["losses"]
    assert a == b and a[0] != c[0]  # only the dropout masks differ


@pytest.mark.parametrize("scorer", [model.token_nll, measures.token_nll])
def test_scoring_turns_dropout_off(scorer):
    """Bugs guarded: a model in training mode scored with dropout on (every test loss and Figure 11 perplexity noisy
    and too high), or scoring leaving a model that was training in eval mode."""
    lm = micro_lm(dropout=0.5).train()
    blocks = np.random.default_rng(1).integers(2, 64, size=(5, 8))
    first = np.asarray(scorer(lm, blocks, batch_size=2))
    second = np.asarray(scorer(lm.train(), blocks, batch_size=3))
    with torch.no_grad():
        ids = torch.as_tensor(blocks)
        logp = torch.log_softmax(lm.eval()(input_ids=ids).logits.double(), -1)
    direct = -logp[:, :-1].gather(-1, ids[:, 1:, None]).squeeze(-1).numpy()
    np.testing.assert_allclose(first[:, -direct.shape[1]:], direct, rtol=1e-5)
    np.testing.assert_allclose(second, first, rtol=1e-6)
    if scorer is model.token_nll:
        lm.train()
        scorer(lm, blocks)
        assert lm.training


def test_sampling_draws_independent_noise_for_every_prompt_and_seed():
    """Bugs guarded: sampling not seeded (a resumed run writes other data), every prompt (or every candidate) drawing
    the same noise, two seeds giving the same draws."""
    lm = micro_lm(dropout=0.0)
    prompts = np.full((6, 5), 7)
    kw = dict(new_tokens=12, num_beams=1, repetition_penalty=1.0, batch_size=4, pad_token_id=0, eos_token_id=None,
              do_sample=True)  # fmt: skip
    a = model.continue_blocks(lm, prompts, seed=3, **kw)
    np.testing.assert_array_equal(a, model.continue_blocks(lm, prompts, seed=3, **kw))
    assert (a != model.continue_blocks(lm, prompts, seed=4, **kw)).mean() > 0.5
    assert len({tuple(r) for r in a}) == len(a)  # identical prompts, different continuations
    cand = model.continue_blocks(lm, prompts[:3], seed=3, candidates=3, **kw)
    assert cand.shape == (3, 3, 12) and all(len({tuple(r) for r in c}) == 3 for c in cand)


# ------------------------------------------------------------------------------------ text measures
words = st.lists(st.sampled_from(["ka", "lo", "mi", "."]), max_size=14).map(" ".join)


@FAST
@given(st.lists(words, min_size=1, max_size=5), st.integers(1, 4))
def test_distinct_and_repetition_count_ngrams_where_they_say(texts, n):
    """Bugs guarded: distinct-n dividing by the distinct count or the texts, repetition counting repeats across texts
    (two identical samples are not a repetition), an n-gram window off by one."""
    grams = [tuple(t.split()[i : i + n]) for t in texts for i in range(len(t.split()) - n + 1)]
    distinct = textmetrics.distinct_n(texts, n)
    rep = textmetrics.repetition(texts, n)
    if not grams:
        assert distinct == 0.0 and rep == 0.0
        return
    assert distinct == pytest.approx(len(set(grams)) / len(grams))
    within = sum(len(g) - len(set(g)) for g in ([tuple(t.split()[i : i + n]) for i in range(len(t.split()) - n + 1)]
                                               for t in texts))  # fmt: skip
    assert rep == pytest.approx(within / len(grams))
    assert rep <= 1 - distinct + 1e-12
    assert textmetrics.repetition(texts + texts, n) == pytest.approx(rep)
    if len(texts) == 1:
        assert rep == pytest.approx(1 - distinct)


def test_text_metrics_name_what_they_hold():
    """Bugs guarded: a column of the text measures holding another measure (distinct-3 holding distinct-2, the tail's
    share holding its coverage, invalid words holding impossible pairs), or the true NLL not the mean over scored
    words."""
    texts = [LANG.write_corpus(300, seed=k)[40:400] for k in range(4)] + [" ka xq lo . . ka"]
    m, per_text = textmetrics.text_metrics(texts, LANG)
    score = LANG.score(texts)
    for n in (1, 2, 3):
        assert m[f"distinct_{n}"] == textmetrics.distinct_n(texts, n)
    assert m["repetition_4"] == textmetrics.repetition(texts, 4)
    assert m["true_nll"] == score.mean_nll == pytest.approx(np.nansum(per_text * score.words) / score.words.sum())
    assert m["invalid_words"] == score.invalid_rate > 0 and m["impossible_pairs"] == score.impossible_rate > 0
    assert m["tail_coverage"] == LANG.tail_coverage(score) and m["tail_share"] == LANG.tail_share(score)
    assert len({m["distinct_1"], m["distinct_2"], m["distinct_3"]}) == 3 and m["tail_share"] != m["tail_coverage"]
    plain, none = textmetrics.text_metrics(texts)
    assert none is None and set(plain) == {"distinct_1", "distinct_2", "distinct_3", "repetition_4"}


@FAST
@given(st.integers(1, 200), st.integers(1, 60))
def test_band_losses_add_up_for_any_blocks(seed, vocab):
    """Bugs guarded: band losses whose contributions miss a band, count the unscored first token, or divide by the
    blocks; frequency bands ranked from the wrong end."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, vocab, size=(rng.integers(1, 8), rng.integers(2, 10)))
    tn = rng.exponential(2.0, size=blocks.shape)
    tn[:, 0] = np.nan
    bands = measures.frequency_bands(blocks, vocab + 3)
    bl = measures.band_losses(tn, blocks, bands)
    assert bl.total == pytest.approx(np.nanmean(tn)) and bl.contribution.sum() == pytest.approx(bl.total)
    assert bl.tokens.sum() == blocks.size - len(blocks) and bl.share.sum() == pytest.approx(1.0)
    counts = bands.counts
    for b in (0, 1):
        if ((bands.band == b) & (counts > 0)).any() and (bands.band == b + 1).any():
            assert counts[bands.band == b].max() <= counts[bands.band == b + 1].min()
    assert (bands.band[vocab:] == 0).all()


# ------------------------------------------------------------------------------------ estimates
@FAST
@given(st.sampled_from(["runs", "generations", "max_train_blocks", "epochs", "max_valid_blocks", "max_test_blocks"]),
       st.sampled_from(["cpu", "T4", "H100"]))
def test_estimates_grow_with_the_work(field, device):
    """Bugs guarded: an estimate that ignores the runs, the generations, the epochs or the blocks of one split, that
    charges a validation pass where no epoch is chosen, or makes a faster device slower."""
    c = presets.profile_config("gpu")
    if field == "epochs":
        more = dict(settings=tuple(replace(s, epochs=s.epochs + 1) for s in c.settings))
    else:
        full = dict(max_train_blocks=config_mod.WIKITEXT2_TRAIN_BLOCKS, max_valid_blocks=config_mod.WIKITEXT2_VALID_BLOCKS,
                    max_test_blocks=config_mod.WIKITEXT2_TEST_BLOCKS)  # fmt: skip
        more = {field: (getattr(c, field) or full[field]) + 5}
    assert estimate.estimate_seconds(replace(c, **more), device) > estimate.estimate_seconds(c, device)
    assert estimate.estimate_seconds(replace(c, checkpoint="last"), device) < estimate.estimate_seconds(c, device)
    assert estimate.estimate_seconds(c, "H100") < estimate.estimate_seconds(c, "T4") < estimate.estimate_seconds(c, "cpu")
    assert estimate.estimate_seconds(c, device, hub_model=False) < estimate.estimate_seconds(c, device, hub_model=True)


# ------------------------------------------------------------------------------------ the code identity
PACKAGE = identity.PACKAGE
#: modules whose changes cannot change a result: each with the reason (a new module must be placed in one list)
NOT_RESULTS = {
    "llm/__init__.py": "re-exports",
    "llm/__main__.py": "the command line builds a configuration, whose key names the folder",
    "llm/experiment.py": "re-exports and the chapter's entry points",
    "llm/estimate.py": "time estimates",
    "llm/identity.py": "records what was loaded; a changed fingerprint is refused by check_identity",
    "llm/local_models.py": "stand-ins for tests and benchmarks",
    "llm/plots.py": "figures",
    "llm/presets.py": "configurations, whose keys name the folders",
    "llm/realtext.py": "writes a data folder, whose text fingerprint is recorded",
    "llm/results.py": "reads saved results",
    "llm/sentences.py": "sentences",
    "progress.py": "progress bars",
    "prose.py": "sentences",
    "hub.py": "probes the hub",
    "profiles.py": "reads the environment for the presets",
}


def _imports(rel: str) -> set[str]:
    """The package's modules that ``rel`` imports anywhere (module level or inside functions), as paths."""
    path = PACKAGE / rel
    here = path.parent
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = here
            for _ in range(node.level - 1):
                base = base.parent
            parts = (node.module or "").split(".") if node.module else []
            target = base.joinpath(*parts)
            names = [a.name for a in node.names] if not node.module else [None]
            for name in names:
                t = target / name if name else target
                for cand in (t.with_suffix(".py"), t / "__init__.py"):
                    if cand.is_file() and cand != PACKAGE / "__init__.py":
                        out.add(str(cand.relative_to(PACKAGE)))
    return out


def test_the_code_identity_covers_every_module_that_computes_results():
    """Bugs guarded: a module that computes results left out of identity.CODE_FILES (edited code then resumes an old
    folder, or reuses a cached generation 0, as if nothing had changed); a listed file that does not exist; the
    small model's cache not following the code that pretrains it."""
    listed = set(identity.CODE_FILES)
    assert all((PACKAGE / f).is_file() for f in listed)
    todo, reached = ["llm/runner.py", "llm/workers.py"], set()
    while todo:
        f = todo.pop()
        if f in reached:
            continue
        reached.add(f)
        todo += sorted(_imports(f))
    assert reached - set(NOT_RESULTS) <= listed, sorted(reached - set(NOT_RESULTS) - listed)
    assert listed <= reached
    for f in sorted(PACKAGE.glob("llm/*.py")):
        rel = str(f.relative_to(PACKAGE))
        assert (rel in listed) != (rel in NOT_RESULTS), rel
    assert set(identity.PRETRAIN_FILES) <= listed
    todo, pretrain = ["llm/model.py", "llm/data.py"], set()
    while todo:
        f = todo.pop()
        if f not in pretrain:
            pretrain.add(f)
            todo += sorted(_imports(f))
    assert pretrain - set(NOT_RESULTS) - {"llm/decoding.py"} <= set(identity.PRETRAIN_FILES)


def test_the_code_version_follows_every_byte_of_the_listed_files(tmp_path, monkeypatch):
    """Bugs guarded: a code version that hashes the file names only, or skips a file, so an edit goes unnoticed."""
    for f in identity.CODE_FILES:
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_bytes((PACKAGE / f).read_bytes())
    monkeypatch.setattr(identity, "PACKAGE", tmp_path)
    version = identity.code_version.__wrapped__
    first = version(identity.CODE_FILES)
    assert first == identity.code_version()  # the same bytes, the same version
    seen = {first}
    for f in identity.CODE_FILES[::3]:
        (tmp_path / f).write_bytes((PACKAGE / f).read_bytes() + b"\n# edited\n")
        seen.add(version(identity.CODE_FILES))
        (tmp_path / f).write_bytes((PACKAGE / f).read_bytes())
    assert len(seen) == len(identity.CODE_FILES[::3]) + 1
    (tmp_path / identity.CODE_FILES[0]).unlink()
    with pytest.raises(FileNotFoundError):
        version(identity.CODE_FILES)


# ------------------------------------------------------------------------------------ the command line
ALTERNATIVES = dict(model="facebook/opt-125m", data="wikitext-2-raw-v1", generations=3, runs=2, num_beams=4,
                    block_size=32, new_tokens=8, repetition_penalty=2.0, lr=5e-4, schedule="linear", min_lr=1e-7,
                    batch_size=8, micro_batch_size=4, gen_batch_size=8, max_train_blocks=10, max_valid_blocks=5,
                    max_test_blocks=6, retained_blocks="first", decoding="sample", data_schedule="accumulate-subsample",
                    checkpoint="last", init="previous", select=0.5, tokenization="text", pretrain_language="same",
                    pretrain_blend=0.5, keep_models="all", seed=9)  # fmt: skip


def _option(name: str) -> str:
    for action in build_parser()._actions:
        if action.dest == name:
            return action.option_strings[0]
    raise AssertionError(f"no option for {name}")


def test_every_option_reaches_the_configuration():
    """Bugs guarded: an option parsed and dropped on its way to the configuration (the run silently uses the
    profile's value), or one that sets another field."""
    assert set(FIELDS) == set(ALTERNATIVES)
    args = [x for name, value in ALTERNATIVES.items() for x in (_option(name), str(value))]
    c = config_from_args(build_parser().parse_args(["--profile", "quick", *args]))
    quick = presets.profile_config("quick")
    for name, value in ALTERNATIVES.items():
        assert getattr(c, name) == value, name
    untouched = {f.name for f in fields(ExperimentConfig)} - set(FIELDS) - {"settings", "max_grad_norm", "fallback"}
    for name in untouched:
        assert getattr(c, name) == getattr(quick, name), name
    c = config_from_args(build_parser().parse_args(["--profile", "quick", "--keep-models", "first"]))
    assert c.keep_models == "first"
    handled = set(FIELDS) | {"profile", "setting", "epochs", "retention", "accumulate", "recipe", "max_grad_norm",
                             "no_best_checkpoint", "no_fallback", "device", "output", "fresh", "chapter", "quiet",
                             "help"}  # fmt: skip
    assert {a.dest for a in build_parser()._actions} <= handled


def test_settings_options_apply_to_every_setting_and_the_checkpoint_overrides_the_recipe():
    """Bugs guarded: --epochs or --retention applied to the first setting only (or dropping the others), duplicate
    settings kept, --checkpoint losing to --recipe, --recipe ignored."""
    parse = lambda *a: config_from_args(build_parser().parse_args(["--profile", "quick", *a]))  # noqa: E731
    quick = presets.profile_config("quick")
    assert quick.settings == (Setting(1, 0.0), Setting(2, 0.1), Setting(2, 0.0))
    assert parse("--epochs", "4").settings == (Setting(4, 0.0), Setting(4, 0.1))  # (4, 0.0) twice: kept once
    assert parse("--retention", "0.3").settings == (Setting(1, 0.3), Setting(2, 0.3))
    assert parse("--recipe", "strict").checkpoint == "generated"
    assert parse("--recipe", "strict", "--checkpoint", "last").checkpoint == "last"
    assert parse("--recipe", "authors", "--no-best-checkpoint").checkpoint == "last"
    assert parse("--max-grad-norm", "off").max_grad_norm is None and parse("--max-grad-norm", "2").max_grad_norm == 2


def test_the_chapter_option_runs_the_chapters_experiments(tmp_path, monkeypatch, capsys):
    """Bug guarded: --chapter running the main experiment alone, the experiments of another profile, or in another
    folder than --output."""
    from collapse_utils.llm import experiment

    seen = {}
    monkeypatch.setattr(experiment, "run_chapter", lambda exps, root, **kw: seen.update(exps=exps, root=root) or {})
    assert cli_main(["--profile", "book", "--chapter", "--quiet", "--output", str(tmp_path / "ch"), "--runs", "2"]) == 0
    book = replace(presets.profile_config("book"), runs=2)
    assert seen["exps"] == presets.chapter_experiments(book, "book") and Path(seen["root"]) == tmp_path / "ch"


# ------------------------------------------------------------------------------------ saved results
def test_the_table_holds_finished_generations_only(tmp_path):
    """Bugs guarded: a generation without DONE (interrupted while writing) read into metrics.csv, or the table not
    sorted by setting, run and generation (generation 10 after 2, not in path order); an array of several runs
    concatenated in another order."""
    s = Setting(1, 0.0)
    for run, g, done in [(1, 0, True), (0, 1, True), (0, 0, True), (0, 3, False), (0, 10, True), (0, 2, True)]:
        folder = results.gen_dir(tmp_path, s, run, g)
        folder.mkdir(parents=True)
        (folder / "metrics.json").write_text(json.dumps({"setting": s.name, "run": run, "generation": g}))
        np.save(folder / "train_ppl.npy", np.full(2, 10 * run + g))
        if done:
            (folder / "DONE").write_text("")
    t = results.write_table(tmp_path)
    assert list(zip(t.run, t.generation)) == [(0, 0), (0, 1), (0, 2), (0, 10), (1, 0)]
    (tmp_path / "config.json").write_text(json.dumps(replace(BASE, settings=(s,), runs=2).to_json()))
    r = results.load_results(tmp_path)
    np.testing.assert_array_equal(r.array("train_ppl", s.name, 0), [0, 0, 10, 10])
    with pytest.raises(KeyError, match="no lrs.npy"):
        r.array("lrs", s.name, 0)


def test_an_atomic_folder_is_all_or_nothing(tmp_path):
    """Bugs guarded: a folder half written by an interrupted step taken as finished (DONE written first, or the
    temporary folder left in place of the target), or a finished folder destroyed by a failed rewrite."""
    target = tmp_path / "gen1"
    with model.atomic_dir(target) as tmp:
        (tmp / "a.npy").write_text("1")
    assert (target / "DONE").exists() and (target / "a.npy").read_text() == "1"
    with pytest.raises(RuntimeError):
        with model.atomic_dir(target) as tmp:
            (tmp / "a.npy").write_text("2")
            raise RuntimeError("interrupted")
    assert (target / "a.npy").read_text() == "1" and sorted(p.name for p in tmp_path.iterdir()) == ["gen1"]


# ------------------------------------------------------------------------------------ the chapter's tables
def test_tables_summarise_runs_as_they_say():
    """Bugs guarded: the ablation's change and the growth taken from the median curve instead of each run's change
    (they differ with three runs or more), the epochs kept counted with generation 0's, growth measured from
    generation 1."""
    import pandas as pd

    from collapse_utils.llm import plots

    s = Setting(2, 0.0)
    start = {0: 10.0, 1: 20.0, 2: 30.0}
    end = {0: 40.0, 1: 21.0, 2: 31.0}  # changes 30, 1, 1: median 1; the medians' difference is 11
    rows = [dict(setting=s.name, label=s.label, run=r, generation=g,
                 test_perplexity={0: start[r], 1: start[r] + 100, 2: end[r]}[g], best_epoch=g)  # kept epochs 0, 1, 2
            for r in range(3) for g in range(3)]  # fmt: skip
    c = replace(BASE, settings=(s,), runs=3, generations=2)
    res = results.Results(Path("/nonexistent"), c, pd.DataFrame(rows), [], {"test_perplexity": 50.0})
    assert plots.growth(res)[s.name] == 1.0
    assert plots.growth_ranges(res)[s.name] == pytest.approx((1.0, 24.2))
    row = plots.ablation_table({"x": res}, s.name).loc["x"]
    assert row["change"] == 1.0 and row["generation 0"] == 20.0 and row["last generation"] == 31.0
    assert row["peak"] == 120.0 and row["epoch kept after generation 0"] == 1.5 and row["runs"] == 3  # not 1: gen 0 out
    assert row["pretrained model"] == 50.0
    np.testing.assert_array_equal(plots.best_epochs(res, s.name, 1), [1, 1, 1])
