# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Language models, generation after generation
#
# This is the experiment most readers come for. Shumailov et al.
# {cite}`shumailov2023curse,shumailov2024nature` fine-tune OPT-125m {cite}`zhang2022opt` on
# wikitext2 {cite}`merity2017pointer`, let the fine-tuned model *write* the training data of the next
# generation, fine-tune a fresh copy of the pretrained model on that, and so on. Each model is only a
# little worse than its parent, but the errors compound: perplexity on real text rises, the generated
# text drifts towards what the first model already found likely, and a tail of odd sequences appears.
#
# The chapter runs the same code at several scales. With a GPU and the Hugging Face hub (Colab, or the
# command line at the `gpu` and `paper` profiles) it uses OPT-125m and wikitext2 as the paper does. Where
# the hub cannot be reached (this book's build, CI) it keeps the paper's *structure* at a small scale: a
# small OPT is pretrained on a large sample of a *synthetic language whose probability distribution we
# know*, and the recursion fine-tunes it on a different, disjoint sample of the same language. A known
# distribution lets us judge every generation's text, and every model, by the truth, which real text
# cannot offer.
#
# 1. the experiment: the paper's structure, and its small copy here;
# 2. the embedded language, and what the paper's decoding does even to a perfect model of it;
# 3. does generation 0 write the language?
# 4. **Figure 10**: the test loss, generation after generation, beside a perfect model's;
# 5. the tails: the test loss by token frequency, and the rare words still in use;
# 6. **Figure 11**: how likely the generated data look to the first model;
# 7. the settings: epochs and original data, separated;
# 8. sampling instead of beam search, generation after generation;
# 9. samples, diversity, a slider, and how to run the paper's scale.
#
# Every number in the text below that depends on the run is computed by the code beside it, so the
# chapter stays true at any seed (`COLLAPSE_SEED`) and profile.

# %% tags=["skip-execution", "remove-cell"]
# Colab only: install this book's helper package and its requirements.
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "model-collapse-book @ git+https://github.com/model-collapse-book/model-collapse"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])

# %%
import os

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np

from collapse_utils import live, plotting, profiles, prose, widgets
from collapse_utils.llm import experiment, measures, plots
from collapse_utils.llm.synthetic import SyntheticLanguage

plotting.style()

# the experiment's configuration for the active profile (quick, book, gpu or paper); see
# experiment.profile_config for every value, and `python -m collapse_utils.llm --help`
config = experiment.profile_config()
# plot the saved results of a larger run instead: set COLLAPSE_LLM_RESULTS to its output folder
SAVED = experiment.saved_results_path()
OUTPUT = SAVED or experiment.default_output(config)
profiles.report(
    "Chapter 4",
    dict(model=config.model, data=config.data, generations=config.generations, runs=config.runs,
         settings=[s.label for s in config.settings], blocks=config.max_train_blocks or "all",
         block_size=config.block_size, beams=config.num_beams, repetition_penalty=config.repetition_penalty,
         lr=config.lr, batch_size=config.batch_size),
    device=profiles.torch_device(),
)
PAPER = experiment.profile_config("paper")
prose.show(prose.ran_at([("generations after generation 0", config.generations, PAPER.generations),
                         ("runs per setting", config.runs, PAPER.runs),
                         ("settings", len(config.settings), len(PAPER.settings)),
                         ("training blocks", config.max_train_blocks or "all", "all, about 37,400"),
                         ("model", config.model, PAPER.model), ("data", config.data, PAPER.data)]))
WORKERS = 1 if profiles.torch_device() == "cuda" else min(2, os.cpu_count() or 1)  # chains run in parallel on a CPU
WRITER_BAND = 0.25  # generation 0's beam search against the perfect model's with the same decoding (see below)
SAMPLE_BAND = 0.15  # generation 0's samples against a fresh sample of the source (see below)

# %% [markdown]
# ## The experiment
#
# The recursion is the book's *replace* schedule (chapter 1's `approach=1`): each generation learns only
# from the data written by the generation before it, with an optional share of original data mixed in.
# *Generation 0* is the model fine-tuned on the original data; generation $t+1$ is fine-tuned on data
# written by generation $t$.
#
# **The paper.** OPT-125m, pretrained by Meta on a large corpus, is fine-tuned on wikitext2's train split;
# its validation split chooses the checkpoint and its test split gives Figure 10. The paper reports a
# perplexity of 115 for OPT-125m before fine-tuning (zero-shot) and 34 after, and, over nine generations
# without original data, a loss of 20–28 perplexity points; with 10% of the original data kept, much less.
# Those are the paper's numbers, not this page's.
#
# * **Data.** The text is tokenised, concatenated and cut into blocks of 64 tokens.
# * **Writing data.** The fine-tuned model continues *every* original training block with 64 new tokens,
#   by 5-way beam search with a repetition penalty of 3.0, and the continuation alone is kept
#   (`outputs[:, 64:]` in the authors' script): a synthetic training set of the same size and shape.
# * **Generation $t+1$** fine-tunes a fresh copy of the *pretrained* weights on the data written by
#   generation $t$.
# * **Two settings**: 5 epochs with no original data; 10 epochs where 10% of every generation's blocks are
#   original blocks. Five runs of each, ten generations.
#
# The authors' script adds the details that are this book's defaults: AdamW at $2\times10^{-5}$, batch
# 128, a cosine learning rate annealed to $10^{-6}$ over the epochs, and the checkpoint with the best
# validation loss.
#
# **Here, small.** The same structure, every part smaller (the report above gives the values):
#
# * the **pretraining corpus** is a large sample of the embedded language, written from its own seed and
#   sharing no paragraph with anything the recursion sees; a small OPT is pretrained on it once and cached
#   (it plays OPT-125m's pretraining);
# * the **fine-tuning set** is another sample of the same language (it plays wikitext2's train split);
# * the **validation split** chooses the checkpoint and gives Figure 11's reference: original text that
#   the generation-0 model never trained on;
# * the **test split** gives Figure 10.
#
# Two departures from the paper: the small model needs a larger learning rate than OPT-125m's
# fine-tuning, and the book's scale has fewer blocks, generations and runs. Beside the paper's two
# settings it runs a third, **10 epochs with no original data**: the paper's settings differ in epochs
# *and* in retention, so comparing them alone cannot say which of the two made the difference; the third
# setting differs from each of them in one thing only.
#
# Three more options of `experiment.ExperimentConfig` change what the next generation learns from:
# `repetition_penalty=1.0` (no penalty; `--repetition-penalty 1` on the command line), `decoding="sample"` (sampling at
# temperature 1 from the model's whole distribution instead of beam search) and `accumulate=True` (each
# generation trains on the original data and *all* data written so far instead of replacing it, the
# schedule under which Gerstgrasser et al. {cite}`gerstgrasser2024collapse` find that collapse is
# avoided). At the `quick` and `book` profiles the chapter runs the second as a generational experiment of
# its own (the first setting again, sampling instead of beam search: `experiment.decoding_variant`), and
# shows what the first two do to the text of a perfect model of the language; `experiment.run_experiment`
# runs all three.

# %% [markdown]
# ## The embedded language
#
# The data come from a word-level Markov chain (`collapse_utils.llm.synthetic`): a vocabulary of
# pronounceable pseudo-words with a Zipf-like frequency law, each word with a handful of favourite
# successors, and a 10% chance of jumping to *any* word (drawn by the Zipf law), which is how the rare
# words of the long tail get used. Sentences end with `.`; some words usually end a sentence, so that, as
# in real text, where a sentence ends is predictable. The text is written in the wikitext layout, with
# article titles, section headings and blank lines, and goes through the same tokeniser and block code as
# wikitext2.
#
# Because the chain is known, we know its **entropy rate** $H$ (nats per word), the smallest loss any
# model can reach on average, and the true log-likelihood of any text. We also mark the **tail**: the
# rarest words that together carry about 10% of the probability mass.

# %%
language = SyntheticLanguage(config.language)
print(language.describe())
print(language.write_corpus(60, seed=profiles.seed(7))[:400])

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The embedded language's vocabulary: the probability of every word against its rank, with the tail (the rarest words carrying about 10% of the mass) shaded.", "name": "fig-llm-zipf"}, "image": {"alt": "Log-log plot of word probability against rank, falling steadily, with the rarest words shaded as the tail"}}
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.2))
rank = np.arange(1, len(language.words) - 1)
freq = np.sort(language.stationary[2:])[::-1]
ax.loglog(rank, freq, color="C0", label="word probability (stationary)")
tail_start = len(freq) - int(language.tail.sum())
ax.axvspan(tail_start, len(freq), color="C3", alpha=0.15, label=f"the tail: {int(language.tail.sum())} rarest words")
ax.set(xlabel="rank", ylabel="probability", title="A Zipf-like vocabulary with a long tail")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## What the decoding does, even to a perfect model
#
# Before any model is trained, we can ask what a model that had learned the language *exactly* would
# write with the paper's decoding: the true chain itself, continuing the original blocks by beam search
# with the same repetition penalty. The table compares it with a fresh sample of the source of the same
# size, and with two options of the experiment: no repetition penalty, and sampling instead of beam search.
# *Distinct* $n$-grams are the different word $n$-grams divided by all $n$-grams of the text (1 = no
# repeats); the true NLL per word is the text's negative log-likelihood under the chain.

# %%
prompts = [language.write_corpus(80, seed=profiles.seed(100 + i))[:300] for i in range(64)]
fresh = [language.write_corpus(60, seed=profiles.seed(300 + i))[:300] for i in range(64)]
DECODINGS = {
    "a fresh sample of the source": fresh,
    "beam search, penalty 3.0 (the paper)": language.continue_texts(prompts, 50),
    "beam search, no penalty": language.continue_texts(prompts, 50, repetition_penalty=1.0),
    "sampling": language.continue_texts(prompts, 50, sample=True, seed=profiles.seed(5)),
}
decoding_table = measures.writer_comparison(language, DECODINGS)
decoding_table

# %%
prose.show(measures.decoding_sentence(decoding_table, *DECODINGS))

# %% [markdown]
# Beam search looks for likely continuations, so it moves the data towards what the model finds likely
# before any model error: the right yardstick for the model's own writing is the perfect model *with the
# same decoding*, and the fresh sample shows how far the decoding itself moves the text. The paper's
# repetition penalty pushes the search away from words already in the block (the prompt included).

# %% [markdown]
# ## Running the generations
#
# `experiment.run_experiment` runs every setting, run and generation and writes each finished
# generation (its weights, the data it wrote, its metrics) under the output folder. It is resumable: if
# the kernel dies, running the cell again picks up at the first unfinished generation and gives the same
# numbers as an uninterrupted run. With `COLLAPSE_LLM_RESULTS` set, the chapter plots that folder's saved
# results instead (for example a paper-scale run made on a GPU with the command line). The first lines
# printed say which path the data and the model took.

# %%
if SAVED is None and profiles.current() in ("gpu", "paper"):  # the long cell below: how long, roughly
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""
    print(experiment.estimate_line(config, next((k for k in experiment.PEAK_TFLOPS if k in gpu), "T4")))

# %%
if SAVED is not None:
    results = experiment.load_results(SAVED)
    print(f"plotting saved results: {results.describe()}")
    print("\n".join(results.notes))
else:
    results = experiment.run_experiment(config, OUTPUT, cache_dir=OUTPUT.parent / "cache", workers=WORKERS)
SOURCE = plots.provenance(results, None if SAVED else profiles.current())
print(f"figures below: {SOURCE}")
print(f"results folder: {results.output}")
SETTINGS = plots.setting_order(results)

# %% [markdown]
# The second experiment changes the decoding alone: the first setting again, every generation writing its
# successor's data by sampling at temperature 1 instead of beam search (at the `gpu` and `paper` profiles it
# is left to the command line, `--decoding sample`, to keep a GPU session short).

# %%
VARIANT = None if SAVED else experiment.decoding_variant(config)
if VARIANT is not None:
    sampled = experiment.run_experiment(VARIANT, experiment.default_output(VARIANT), cache_dir=OUTPUT.parent / "cache",
                                        workers=WORKERS, verbose=False)
    print(f"sampling instead of beam search: {plots.provenance(sampled, profiles.current())}")
else:
    sampled = None
    print("sampling instead of beam search: not run at this profile (or for saved results)")

# %% [markdown]
# The median over runs, per setting and generation, of the measures the figures below draw:

# %%
plots.metrics_table(results, ["test_perplexity", "test_word_nll", "test_word_nll_truth", "coverage_rare",
                              "distinct_2"])

# %% [markdown]
# ## Does generation 0 write the language?
#
# The recursion only means something if generation 0 writes text like the data it learned from; an
# untrained model's beam search degenerates at once, and its "collapse" would say nothing about the
# paper's. Two questions, because the decoding moves the text by itself (previous section):
#
# * **Has the model learned the language?** Sampling at temperature 1 writes text with the model's own
#   distribution, so its text should look like a fresh sample of the source: the same share of distinct
#   words and $n$-grams, the same true NLL per word. The band is stated here, before the numbers:
#   within 15%.
# * **Does its beam search write like a perfect model's?** With the paper's decoding the yardstick is the
#   perfect model with the same decoding, within 25%.
#
# The table holds the blocks written by generation 0 (continuations of the original blocks, as the
# experiment writes them; median over runs) and the references, for the same prompts and the same number
# of blocks and tokens. The true NLL is over the word pairs the language can write; the last column counts
# the pairs it cannot (a model can write two punctuation marks in a row; the source never does).

# %%
writer = plots.writer_table(results, sampled=sampled)
writer

# %%
if measures.PERFECT_ROW in writer.index:
    if sampled is not None:
        prose.show(measures.sampled_writer_sentence(writer, plots.sampled_row(sampled), measures.FRESH_ROW,
                                                    SAMPLE_BAND, results.base.get("writer_spread")))
    model_rows = [r for r in writer.index if r.startswith("generation 0 (")]
    prose.show(measures.writer_sentence(writer, model_rows[0], measures.PERFECT_ROW, measures.FRESH_ROW,
                                        WRITER_BAND))
else:
    prose.show("These results are on real text: there is no perfect model to compare generation 0 with.")

# %% [markdown]
# A model falls short of the truth for the three reasons the paper names
# {cite}`shumailov2024nature`: **statistical approximation error** (it learns from a finite sample),
# **functional expressivity error** (a small transformer cannot represent every distribution) and
# **functional approximation error** (its training, a few epochs of AdamW, does not find the best
# parameters). The arXiv version of the paper folds expressivity into functional approximation.

# %% [markdown]
# ## Figure 10: the test loss, generation after generation
#
# Every generation is evaluated on the *original* test blocks. Lines are the median over runs, bands the
# 10–90% range over runs. The left panel is the paper's Figure 10 (token perplexity). The right panel
# counts the same loss per *word*, on exactly the words the true chain scores (headings, whose words are
# drawn at random, and words cut by a block's edges are left out of both), beside a **perfect model**: the
# true distribution's loss on exactly those words.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Figure 10 at this page's scale: perplexity on the original test blocks, generation after generation, per setting (median over runs and 10–90% band).", "name": "fig-llm-figure10"}, "image": {"alt": "Test perplexity against generation for each setting, median lines with bands over runs"}}
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.4))
plots.plot_metric(results, "test_perplexity", ax=ax, ylabel="perplexity on the original test set")
ax.set_title("Figure 10: test perplexity per generation")
fig.tight_layout()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The same test loss counted per word, on exactly the words the true chain scores, beside a perfect model's loss on those words (dashed).", "name": "fig-llm-per-word"}, "image": {"alt": "Test loss per word against generation for each setting, above a dashed line for the perfect model"}}
if "test_word_nll" in results.table:
    fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.4))
    plots.plot_word_loss(results, ax=ax)
    ax.set_title("The same loss per word, beside a perfect model on the same words")
    fig.tight_layout()
else:
    print("these results are on real text: no known distribution, so no perfect model to draw")

# %% [markdown]
# Every model learns from a sample written by an imperfect model, and what that sample gets wrong is
# never corrected, only passed on. The gap between a generation's line and the perfect model's is how
# much worse than the truth that generation predicts real text.

# %% [markdown]
# ## The tails
#
# The paper's central claim is that collapse starts in the tails: the improbable goes first. Two ways to
# see it in a language model. First, the test loss split by **token frequency** (by frequency in the
# original fine-tuning data): rare tokens (the rarest that make up the last 10% of the training tokens,
# and those never seen), frequent tokens (the most frequent that make up the first 50%), and the middle.
# The figure draws each band's change since generation 0.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The test loss of rare, middle and frequent tokens (by frequency in the original fine-tuning data), as its change since generation 0, per setting (median over runs and band).", "name": "fig-llm-bands"}, "image": {"alt": "Three panels, one per setting, of the change in test loss since generation 0 for rare, middle and frequent tokens"}}
fig, axes = plt.subplots(len(SETTINGS), 1, figsize=(plotting.COLUMN_WIDTH, 2.6 * len(SETTINGS)), sharex=True,
                         sharey=True, squeeze=False)
for k, (ax, setting) in enumerate(zip(axes[:, 0], SETTINGS)):
    plots.plot_band_losses(results, setting, ax=ax)
    if k:
        ax.get_legend().remove()
    if k < len(SETTINGS) - 1:
        ax.set_xlabel("")
fig.suptitle("Test loss by token frequency: change since generation 0")
fig.tight_layout()

# %%
last = results.generations(SETTINGS[0])[-1]
prose.show(measures.band_sentence(plots.band_means(results, SETTINGS[0], 0),
                                  plots.band_means(results, SETTINGS[0], last), last, results.label(SETTINGS[0])))

# %% [markdown]
# The loss by band is measured on real test text: it says which tokens a model now predicts worse, not
# which words its own text still uses. That is the second measure, for the embedded language: the
# **coverage** of the vocabulary: the share of the tail's word
# types (and of the head's, the most frequent words carrying half the mass) that each generation's
# training data still use. A finite text misses rare words even when it comes from the source, so each
# curve is drawn with its **sampling baseline**: the coverage of a fresh sample of the source as large as
# the training set. A rare word that one generation does not write gives the next no example to learn it
# from (without original data), as a category lost in chapter 1's Markov chain never returns.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The share of the language's rare (tail) and frequent (head) word types used by each generation's training data, beside the share a fresh sample of the source of the same size uses (dashed).", "name": "fig-llm-coverage"}, "image": {"alt": "Two panels of vocabulary coverage against generation: the tail falls below its dashed baseline while the head stays near it"}}
if "coverage_rare" in results.table:
    fig, axes = plt.subplots(1, 2, figsize=(plotting.COLUMN_WIDTH, 3.2), sharey=True)
    for ax, setting in zip(axes, [SETTINGS[0], SETTINGS[-1]]):
        plots.plot_coverage(results, setting, ax=ax)
    axes[1].set_ylabel("")
    axes[1].get_legend().remove()
    fig.tight_layout()
else:
    print("these results are on real text: no known vocabulary to cover")

# %% [markdown]
# ## Figure 11: the perplexity of every generated sequence
#
# The paper's Figure 11 scores every training sequence of every generation with the generation-0 model
# and draws one histogram per generation. The grey reference is original text that generation 0 never
# trained on (the validation blocks): the original training blocks themselves, which it fitted for
# several epochs, would look too likely.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Figure 11 for the first setting: the perplexity, under the generation-0 model, of every training block of every generation, beside original text that generation 0 never saw (grey).", "name": "fig-llm-figure11-a"}, "image": {"alt": "Histograms of block perplexity for each generation of the first setting, moving left of the grey reference"}}
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.4))
plots.plot_ppl_histograms(results, SETTINGS[0], ax=ax)
fig.tight_layout()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Figure 11 for the second setting (with original data kept when it is the paper's second setting).", "name": "fig-llm-figure11-b"}, "image": {"alt": "Histograms of block perplexity for each generation of the second setting beside the grey reference"}}
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.4))
plots.plot_ppl_histograms(results, SETTINGS[min(1, len(SETTINGS) - 1)], ax=ax)
fig.tight_layout()

# %% [markdown]
# The paper sees two things in its Figure 11. The bulk of the mass moves to the **left**: later
# generations write sequences that the original model finds very likely. And a **tail** grows on the
# right: sequences that the original model would hardly produce, errors of the models, inherited and
# amplified. The table measures both against the reference: the share of a generation's blocks above the
# reference's median perplexity (0.5 for text like the reference) and above its 99th percentile (0.01).

# %%
plots.shift_table(results, SETTINGS[0])

# %% [markdown]
# ## The settings: epochs and original data
#
# The paper's two settings differ in two things at once. The third setting (the second setting's epochs,
# no original data) separates them: against the first setting it changes the epochs alone; against the
# second it changes the retention alone. The sentence below ranks the settings by how much their test
# perplexity grew (Figure 10 draws them); with few runs, read it beside the width of the bands.

# %%
prose.show(measures.settings_sentence(plots.growth(results, "test_perplexity"),
                                      {s: results.label(s) for s in SETTINGS},
                                      ranges=plots.growth_ranges(results, "test_perplexity")))

# %% [markdown]
# ## Sampling instead of beam search
#
# The second experiment repeats the first setting with one change: every generation writes its successor's
# data by sampling at temperature 1 from its whole distribution. Beam search looks for likely text, so it
# pulls the data towards what the model already finds likely at every generation; sampling writes the
# model's own distribution, its improbable errors included, and leaves only the finite sample and the
# training to lose the tails (statistical and functional approximation error). The three panels: the test
# perplexity (Figure 10), the median perplexity of each generation's training data under generation 0
# (the bulk of Figure 11), and the share of the tail's words that the training data still use.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The first setting with the paper's beam search and with sampling at temperature 1: test perplexity, the median perplexity of the training data under generation 0, and the share of the tail's words used by the training data (median over runs and band).", "name": "fig-llm-sampling"}, "image": {"alt": "Three panels against generation comparing beam search and sampling: test perplexity, median training-data perplexity under generation 0, and tail coverage"}}
if sampled is not None:
    VARIANTS = {"the paper's beam search": results, "sampling at temperature 1": sampled}
    fig, axes = plt.subplots(3, 1, figsize=(plotting.COLUMN_WIDTH, 7.8), sharex=True)
    plots.plot_variants(VARIANTS, SETTINGS[0], "test_perplexity", ax=axes[0], ylabel="test perplexity")
    plots.plot_variants(VARIANTS, SETTINGS[0], "train_ppl_gen0_median", ax=axes[1],
                        ylabel="training data: median\nperplexity under gen. 0")
    if "coverage_rare" in results.table:
        plots.plot_variants(VARIANTS, SETTINGS[0], "coverage_rare", ax=axes[2], ylabel="tail words used",
                            reference=float(np.nanmedian(results.table["coverage_rare_baseline"])),
                            reference_label="a fresh sample of the source, same size")
        handles, labels = axes[2].get_legend_handles_labels()
        axes[2].legend(handles[:1], labels[:1])  # the baseline; the other two are named in the first panel
    axes[1].get_legend().remove()
    for ax in axes[:2]:
        ax.set_xlabel("")
    fig.suptitle(results.label(SETTINGS[0]))
    fig.tight_layout()
else:
    print("no sampling experiment at this profile")

# %%
if sampled is not None:
    for metric, name, digits in (
        ("test_perplexity", "the test perplexity", 1),
        ("train_ppl_gen0_median", "the median perplexity of the training data under generation 0", 1),
        ("coverage_rare", "the share of the tail's words used by the training data", 2),
    ):
        if metric in results.table:
            change = plots.variant_growth(VARIANTS, SETTINGS[0], metric)
            prose.show(measures.settings_sentence(change, {k: k for k in change}, metric=name, digits=digits,
                                                  ranges=plots.variant_ranges(VARIANTS, SETTINGS[0], metric)))

# %% [markdown]
# ## What the text looks like
#
# One training block per generation, at the same position (block 0 of run 0): generation 0's is the
# original block; from generation 1 on it is the previous model's continuation of that original block.

# %%
for setting in SETTINGS[:2]:
    print(f"--- {results.label(setting)} ---")
    print(plots.format_samples(results, setting, width=96, chars=300))
    print()

# %% [markdown]
# ## Diversity
#
# Distinct $n$-grams of every generation's training data, and the share of word 4-grams that repeat an
# earlier 4-gram of the same block.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Diversity of every generation's training data: distinct 2-grams, and the share of word 4-grams that repeat an earlier one in the same block (median over runs and band).", "name": "fig-llm-diversity"}, "image": {"alt": "Two panels against generation: distinct 2-grams and repeated 4-grams, per setting"}}
fig, axes = plt.subplots(2, 1, figsize=(plotting.COLUMN_WIDTH, 5.6), sharex=True)
plots.plot_metric(results, "distinct_2", ax=axes[0], ylabel="distinct 2-grams")
plots.plot_metric(results, "repetition_4", ax=axes[1], ylabel="repeated 4-grams in a block")
axes[1].get_legend().remove()
fig.tight_layout()

# %% [markdown]
# ## Explore
#
# The slider picks among the computed generations and settings; it drives `plots.plot_generation`, the
# Figure-11 histogram of one generation (coloured) against the reference (grey: original text that
# generation 0 never saw). First, the same function side by side, for the same setting as the slider's
# first position, at a few generations.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function at a few generations of the first setting: each generation's training data (coloured) against original text that generation 0 never saw (grey).", "name": "fig-llm-explore"}, "image": {"alt": "Four histograms of block perplexity at generations of the first setting beside the grey reference"}}
explore = SETTINGS[0]
gens = results.generations(explore)
shown = sorted({gens[0], gens[min(1, len(gens) - 1)], gens[len(gens) // 2], gens[-1]})
fig = widgets.small_multiples(plots.plot_generation, "generation", shown,
                              fixed=dict(results=results, setting=explore, legend=False), sharey=False,
                              ncols=2, suptitle=results.label(explore))

# %%
prose.show(live.explore_note("04_language_models"))
live.explore(
    plots.plot_generation,
    grid=dict(setting=SETTINGS, generation=gens),
    controls=dict(
        setting=ipw.Dropdown(options=[(results.label(s), s) for s in SETTINGS], value=explore,
                             description="setting"),
        generation=ipw.IntSlider(value=gens[-1], min=0, max=gens[-1], step=1, description="generation"),
    ),
    fixed=dict(results=results),
    start=dict(setting=explore, generation=gens[-1]),
    alt="Histogram of the perplexity of one generation's training data beside the original text unseen by "
        "generation 0",
    value_labels=dict(setting={s: results.label(s) for s in SETTINGS}),
    caption="One generation's training data in the chosen setting: the perplexity of its blocks (coloured) beside "
            "original text that generation 0 never saw (grey).",
    name="fig-llm-explore-live",
)

# %% [markdown]
# ## At the paper's scale
#
# The same code runs OPT-125m on wikitext2 on a GPU; from the repository root (or in Colab after the
# install cell):
#
# ```bash
# python -m collapse_utils.llm --profile paper --output runs/paper          # one GPU
# accelerate launch -m collapse_utils.llm --profile paper --output runs/paper   # several GPUs
# COLLAPSE_LLM_RESULTS=runs/paper jupyter nbconvert --execute --to notebook notebooks/04_language_models.ipynb
# ```
#
# Every finished generation is saved at once, so a closed Colab tab or a killed process loses at most
# the generation in progress: run the same command again. With a local folder of wikitext
# (`train.txt`, `valid.txt`, `test.txt`) the losses by token frequency are measured the same way; only
# the measures that need the true distribution are left out.

# %% [markdown]
# ## Summary
#
# - A language model fine-tuned on the text of its predecessor, generation after generation, is measured
#   on the original test set (Figure 10), beside a perfect model on the same words.
# - The generated data are scored by the first model (Figure 11) against original text it never saw.
# - The tails are measured directly: the test loss of rare, middle and frequent tokens, and the share of
#   the rare words still in use, beside what a fresh sample of the source would use.
# - The paper's two settings differ in epochs and in retention; a third setting separates the two.
# - The decoding matters: the perfect model's text shows what beam search does by itself, and the
#   chapter's second experiment repeats the recursion with sampling instead.
# - Generation 0 is judged twice: its samples against a fresh sample of the source (has it learned the
#   language?) and its beam search against the perfect model's (is its writing the decoding's, or its
#   own errors?).
#
# ## Exercises
#
# 1. Before looking at the section on sampling: which part of Figure 11 should change most when beam
#    search is replaced by sampling (`decoding="sample"` in `experiment.ExperimentConfig`), and why? Then
#    compare your answer with the figure of that section, and run `plots.plot_ppl_histograms(sampled,
#    SETTINGS[0])` to see the sampled experiment's Figure 11.
#
# :::{admonition} Solution
# :class: dropdown
# Beam search looks for the most likely continuations, so it pushes the data towards low perplexity by
# itself (the decoding table above shows it even for the perfect model). Sampling at temperature 1 writes
# text with the model's own distribution, so there is no such push: one expects the bulk to stay nearer
# the reference, and a right tail of unlikely sequences to appear, because sampling also writes the
# model's improbable errors. Collapse then comes from finite samples and training errors alone
# (statistical and functional approximation error). Whether this run shows it, and how clearly with its
# few runs, is what the section's figure and sentences say.
# :::
#
# 2. With retention $r$ and $n$ blocks, how many original blocks does each generation train on, and
#    which ones? Check it in `results.table` (`n_original`) and in `blocks.npy`.
#
# :::{admonition} Solution
# :class: dropdown
# `round(r * n)` blocks (`schedules.n_retained`); by default the first ones, as the authors' index limit
# does (`retained_blocks="first"`), or a fresh random subset each generation (`"random"`). Block $i$ of
# the training set is original block $i$ or the previous model's continuation of it; the saved
# `blocks.npy` of a generation holds the blocks it trained on.
# :::
#
# 3. Why can the tail coverage of the embedded language not recover once it has fallen, without original
#    data?
#
# :::{admonition} Solution
# :class: dropdown
# A rare word that no model writes is absent from all later training data, and a model starts each
# generation from the pretrained weights and learns the next one's data from its parent's text alone. The
# pretrained model does know the word, but fine-tuning on text without it teaches every generation to
# give it less probability, and beam search never picks an unlikely word. The loss is absorbing, like a
# category lost in chapter 1's Markov chain.
# :::
#
# 4. Run `python -m collapse_utils.llm --profile quick --output /tmp/q`, interrupt it with Ctrl-C in the
#    middle, and run it again. How do you know it resumed, and why are the numbers the same as an
#    uninterrupted run?
#
# :::{admonition} Solution
# :class: dropdown
# The progress bar starts with the finished generations already counted, and their folders' `DONE`
# markers keep their time stamps. Each generation draws its randomness from a seed derived from
# `(seed, setting, run, generation)` alone, starts from the same pretrained weights, and reads the
# previous generation's data from disk, so it computes exactly what it would have computed without the
# interruption. A half-written generation has no `DONE` marker and is computed again.
# :::
