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
# {cite}`shumailov2023curse,shumailov2024nature` fine-tune OPT-125m {cite}`zhang2022opt` on wikitext2
# {cite}`merity2017pointer`, let the fine-tuned model *write* the training data of the next generation,
# fine-tune a fresh copy of the pretrained model on that, and so on. This page runs a small copy of that
# experiment whose true distribution is known, so that every generation can be judged by the truth.

# %% tags=["skip-execution", "remove-cell"]
# Colab only: install this book's helper package and its requirements.
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "model-collapse-book @ git+https://github.com/model-collapse-book/model-collapse"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])

# %% tags=["remove-input"]
import os

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import ipywidgets as ipw  # noqa: F401  (the live slider's widgets, in a running notebook)
import matplotlib.pyplot as plt
import numpy as np

from collapse_utils import live, plotting, profiles, prose, widgets
from collapse_utils.llm import experiment, measures, plots, sentences
from collapse_utils.llm.synthetic import SyntheticLanguage

plotting.style()

# the experiments of the active profile (quick, book, gpu or paper); see experiment.profile_config and
# `python -m collapse_utils.llm --help`. COLLAPSE_LLM_RESULTS plots the saved results of a larger run instead.
config = experiment.profile_config()
SAVED = experiment.saved_results_path()
ROOT = SAVED or experiment.default_output(config)
EXPERIMENTS = experiment.chapter_experiments(config, real_text_folder=None if SAVED else ROOT / "real-text-data")
# on a CPU the steps run in two processes of one torch thread each (see collapse_utils.llm.workers); the quick
# profile's steps are too small to pay for starting them
WORKERS = 1 if profiles.torch_device() == "cuda" or profiles.current() == "quick" else min(2, os.cpu_count() or 1)
MAIN, STRICT, SAMPLING, REAL_TEXT = experiment.MAIN, experiment.STRICT, experiment.SAMPLING, experiment.REAL_TEXT

# %% tags=["remove-input"]
if SAVED is None and profiles.current() in ("gpu", "paper"):  # the long cell below: how long, roughly
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""
    print(experiment.chapter_estimate_line(EXPERIMENTS, next((k for k in experiment.PEAK_TFLOPS if k in gpu), "T4")))

# %% tags=["remove-input"] execution_timeout={"book": 1500}
# every experiment of the chapter at once: resumable, each finished generation saved as it ends
if SAVED is not None:
    runs = experiment.load_chapter(SAVED)
else:
    # a step (one generation, one pretraining) that ends nowhere near the others is a hang: stopped, named
    runs = experiment.run_chapter(EXPERIMENTS, ROOT, workers=WORKERS, verbose=False,
                                  stall_seconds=experiment.stall_limit())
results = runs[MAIN]
SETTINGS = plots.setting_order(results)
FIRST = SETTINGS[0]  # 5 epochs, no original data: the setting the recipes, the sampling and the ablation share
RECIPES = {name: runs[name] for name in (MAIN, STRICT) if name in runs}

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The paper's Figure 10 at this page's scale: perplexity on the original test set, generation after generation, fine-tuning on text written by the previous generation with no original data, under the two recipes (median over runs and 10\u201390% band); the dashed line is the pretrained model before any fine-tuning.", "name": "fig-llm-key"}, "image": {"alt": "Test perplexity against generation for the authors' recipe and the strict recipe, with the pretrained model's perplexity as a dashed line"}}
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.6))
plots.plot_recipes(RECIPES, FIRST, ax=ax)
fig.tight_layout()

# %% tags=["remove-input"]
TAKEAWAY = sentences.takeaway(plots.recipe_curves(RECIPES, FIRST), results.base["test_perplexity"])
prose.show(TAKEAWAY)

# %% tags=["remove-input", "hide-output"]
profiles.report(
    "Chapter 4",
    dict(model=config.model, data=config.data, generations=config.generations, runs=config.runs,
         settings=[s.label for s in config.settings], blocks=config.max_train_blocks or "all",
         block_size=config.block_size, beams=config.num_beams, repetition_penalty=config.repetition_penalty,
         lr=config.lr, batch_size=config.batch_size, experiments=list(runs)),
    device=profiles.torch_device(),
)

# %% tags=["remove-input"]
PAPER = experiment.profile_config("paper")
prose.show(prose.ran_at([("generations after generation 0", config.generations, PAPER.generations),
                         ("runs per setting", config.runs, PAPER.runs),
                         ("settings", len(config.settings), len(PAPER.settings)),
                         ("training blocks of 64 tokens", config.max_train_blocks or "all", "all, about 37,400"),
                         ("model", plots.model_name(results), "OPT-125m"),
                         ("data", plots.data_name(results), "wikitext-2")]))
prose.show(plots.provenance(results, None if SAVED else profiles.current()))

# %% [markdown]
# The sections:
#
# 1. {ref}`the experiment <llm-experiment>`: the paper's structure, and its small copy here;
# 2. {ref}`the embedded language <llm-language>`, and what the paper's decoding does even to a perfect model;
# 3. {ref}`does generation 0 write the language? <llm-writer>`;
# 4. {ref}`the paper's Figure 10 <llm-figure10>`, under the authors' recipe and a strict one;
# 5. {ref}`what makes perplexity recover <llm-ablation>`: an ablation;
# 6. {ref}`the tails <llm-tails>`: the test loss by token frequency, and the rare words still in use;
# 7. {ref}`the paper's Figure 11 <llm-figure11>`: how likely the generated data look to the first model;
# 8. {ref}`the settings <llm-settings>`: epochs and original data, separated;
# 9. {ref}`sampling instead of beam search <llm-sampling>`;
# 10. {ref}`samples, diversity, a slider <llm-explore>`, and {ref}`the paper's scale and real text <llm-paper-scale>`.

# %% [markdown]
# (llm-experiment)=
# ## The experiment
#
# The recursion is the book's *replace* schedule ({doc}`the Gaussian chapter <01_gaussian>`): each
# generation learns only from the data written by the generation before it, with an optional share of
# original data mixed in. *Generation 0* is the model fine-tuned on the original data; generation $t+1$ is
# fine-tuned on data written by generation $t$.
#
# **The paper.** OPT-125m, pretrained by Meta on a large corpus of web text, is fine-tuned on wikitext2's
# train split; its validation split chooses each generation's checkpoint and its test split gives Figure 10.
# The paper reports a perplexity of 115 for OPT-125m before fine-tuning (zero-shot) and 34 after: the
# pretrained model is far from wikitext2, and fine-tuning does the work. Those are the paper's numbers,
# not this page's.
#
# * **Data.** The authors' `dataset.py` tokenises wikitext2 line by line with OPT's tokenizer, which puts
#   `</s>` before every line (empty lines included), concatenates the tokens and cuts them into blocks of 64.
# * **Writing data.** The fine-tuned model continues every training block with 64 new tokens, by 5-way beam
#   search with a repetition penalty of 3.0, and the continuation alone is kept (`outputs[:, 64:]` in the
#   authors' `main.py`): a synthetic training set of the same size and shape.
# * **Generation $t+1$** fine-tunes a fresh copy of the *pretrained* weights on the data written by generation
#   $t$, with AdamW at $2\times10^{-5}$, batch 128, a cosine learning rate annealed to $10^{-6}$ over the epochs,
#   and keeps the epoch with the lowest loss on the *real* validation blocks.
# * **Two settings**: 5 epochs with no original data; 10 epochs where 10% of the original blocks are kept. In
#   the authors' code the kept blocks are the batches below an index limit of a *shuffled* data loader: a random
#   tenth, drawn anew at each generation, and the others are replaced by their continuations. Five runs of
#   each, ten generations.
#
# **Here, small.** The same structure, every part smaller (the tables above give the values):
#
# * the **fine-tuning language** is the embedded language below; its train, validation and test splits play
#   wikitext2's;
# * the **pretraining corpus** plays OPT's web text: a large sample of a *related* language, with the same
#   words and word frequencies but with most of every word's next-word probabilities taken from another
#   language. A small OPT is pretrained on it once and cached. Like OPT-125m on wikitext2, it knows the words
#   but not how this language strings them together;
# * the tokenisation, the blocks, the beam search, the retained blocks and the recipe are the authors'.
#
# Departures from the paper: a small model (it needs a larger learning rate than OPT-125m's $2\times10^{-5}$;
# the value is in the table above) whose vocabulary is its pretraining text's words, one token each (OPT's is a
# byte-level BPE of 50,265 tokens; a BPE that kept every word here whole would add bytes and partial words that
# no text here holds), fewer blocks, generations and runs, and a third setting, **10 epochs with no original
# data**: the paper's two settings differ in epochs *and* in retention, so comparing them alone cannot say
# which made the difference.

# %% tags=["remove-input"]
PRETRAINING = sentences.pretraining_sentence(results.base["test_perplexity"], plots.generation_values(results, FIRST, 0),
                                             plots.best_epochs(results, FIRST, 0), results.config.settings[0].epochs)
prose.show(PRETRAINING)

# %% [markdown]
# **Two recipes.** The authors' recipe chooses every generation's checkpoint on the *real* validation blocks:
# a channel of real data into every generation, even in the setting "with no original data". The **strict
# recipe** lets no real data in after generation 0, validation included: each generation keeps the epoch with
# the lowest loss on the previous generation's continuations of the validation blocks (written as the
# training data are). Generation 0, fine-tuned on the real data, is the same model in both.

# %% [markdown]
# (llm-language)=
# ## The embedded language
#
# The data come from a word-level Markov chain (`collapse_utils.llm.synthetic`): a vocabulary of pronounceable
# pseudo-words with a Zipf-like frequency law, each word with a handful of favourite successors, and a 10%
# chance of jumping to *any* word (drawn by the Zipf law), which is how the rare words of the long tail get
# used. Sentences end with `.`; some words usually end a sentence, so that, as in real text, where a sentence
# ends is predictable. The text is written in the wikitext layout, with article titles, section headings and
# blank lines, and goes through the same tokenisation calls and block code as wikitext2.
#
# Because the chain is known, we know its **entropy rate** $H$ (nats per word), the smallest loss any model
# can reach on average, and the true log-likelihood of any text. We also mark the **tail**: the rarest words
# that together carry about 10% of the probability mass.

# %%
language = SyntheticLanguage(config.language)
print(language.describe())
print(language.write_corpus(60, seed=profiles.seed(7))[:400])

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The embedded language's vocabulary: the probability of every word against its rank, with the tail (the rarest words carrying about 10% of the mass) shaded.", "name": "fig-llm-zipf"}, "image": {"alt": "Log-log plot of word probability against rank, falling steadily, with the rarest words shaded as the tail"}}
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.2))
plots.plot_vocabulary(language, ax=ax)
fig.tight_layout()

# %% [markdown]
# ### What the decoding does, even to a perfect model
#
# Before any model is trained, we can ask what a model that had learned the language *exactly* would write
# with the paper's decoding: the true chain itself, continuing the original blocks by beam search with the
# same repetition penalty. The table compares it with a fresh sample of the source of the same size, and with
# two options of the experiment: no repetition penalty, and sampling instead of beam search. *Distinct*
# $n$-grams are the different word $n$-grams divided by all $n$-grams of the text (1 = no repeats); the true
# NLL per word is the text's negative log-likelihood under the chain.

# %% tags=["hide-input"]
prompts = [language.write_corpus(80, seed=profiles.seed(100 + i))[:300] for i in range(64)]
fresh = [language.write_corpus(60, seed=profiles.seed(300 + i))[:300] for i in range(64)]
DECODINGS = {
    "a fresh sample of the source": fresh,
    "beam search, penalty 3.0 (the paper)": language.continue_texts(prompts, 50),
    "beam search, no penalty": language.continue_texts(prompts, 50, repetition_penalty=1.0),
    "sampling": language.continue_texts(prompts, 50, sample=True, seed=profiles.seed(5)),
}
decoding_table = measures.writer_comparison(language, DECODINGS)
plots.show_table(decoding_table)

# %% tags=["remove-input"]
prose.show(measures.decoding_sentence(decoding_table, *DECODINGS))

# %% [markdown]
# Beam search looks for likely continuations, so it moves the data towards what the model finds likely before
# any model error: the right yardstick for the model's own writing is the perfect model *with the same
# decoding*, and the fresh sample shows how far the decoding itself moves the text. The paper's repetition
# penalty pushes the search away from words already in the block (the prompt included).

# %% [markdown]
# (llm-writer)=
# ## Does generation 0 write the language?
#
# The recursion only means something if generation 0 writes text like the data it learned from. Two questions,
# because the decoding moves the text by itself:
#
# * **Has the model learned the language?** Sampling at temperature 1 writes text with the model's own
#   distribution, so its text should look like a fresh sample of the source: the same share of distinct words
#   and $n$-grams, the same true NLL per word. The band is stated here, before the numbers: within 15%.
# * **Does its beam search write like a perfect model's?** With the paper's decoding the yardstick is the
#   perfect model with the same decoding, within 25%.
#
# The table holds the blocks written by generation 0 (continuations of the original blocks, as the experiment
# writes them; median over runs) and the references, for the same prompts and the same number of blocks and
# tokens. The true NLL is over the word pairs the language can write; the last column counts the pairs it
# cannot (a model can write two punctuation marks in a row; the source never does).

# %% tags=["remove-input"]
WRITER_BAND, SAMPLE_BAND = 0.25, 0.15  # stated in the text above, before the numbers
sampled = runs.get(SAMPLING)
writer = plots.writer_table(results, sampled=sampled)
plots.show_table(writer)

# %% tags=["remove-input"]
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
# A model falls short of the truth for the three reasons the paper names {cite}`shumailov2024nature`:
# **statistical approximation error** (it learns from a finite sample), **functional expressivity error** (a
# small transformer cannot represent every distribution) and **functional approximation error** (its
# training, a few epochs of AdamW, does not find the best parameters). The arXiv version of the paper folds
# expressivity into functional approximation.

# %% [markdown]
# (llm-figure10)=
# ## The paper's Figure 10: the test loss, generation after generation
#
# Every generation is evaluated on the *original* test blocks. Lines are the median over runs, bands the
# 10–90% range over runs. The first figure is the paper's Figure 10 (token perplexity) for the three settings
# under the authors' recipe; the second counts the same loss per *word*, on exactly the words the true chain
# scores (headings, whose words are drawn at random, and words cut by a block's edges are left out of both),
# beside a **perfect model**: the true distribution's loss on exactly those words.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The paper's Figure 10 at this page's scale, the authors' recipe: perplexity on the original test blocks, generation after generation, per setting (median over runs and 10\u201390% band).", "name": "fig-llm-figure10"}, "image": {"alt": "Test perplexity against generation for each setting, median lines with bands over runs"}}
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.4))
plots.plot_metric(results, "test_perplexity", ax=ax, ylabel="perplexity on the original test set",
                  reference=results.base["test_perplexity"], reference_label="the pretrained model")
fig.tight_layout()

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The same test loss counted per word, on exactly the words the true chain scores, beside a perfect model's loss on those words (dashed).", "name": "fig-llm-per-word"}, "image": {"alt": "Test loss per word against generation for each setting, above a dashed line for the perfect model"}}
if "test_word_nll" in results.table:
    fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.4))
    plots.plot_word_loss(results, ax=ax)
    fig.tight_layout()
else:
    print("these results are on real text: no known distribution, so no perfect model to draw")

# %% tags=["remove-input"]
FIGURE10 = sentences.figure10_note(plots.recipe_curves(RECIPES, FIRST), results.base["test_perplexity"],
                                   plots.best_epochs_by_generation(RECIPES, FIRST), MAIN,
                                   STRICT if STRICT in RECIPES else None)
prose.show(FIGURE10)

# %% [markdown]
# The best epoch of every generation, under each recipe: the epoch whose weights a generation keeps (0 is the
# first, the one that moved least from the pretrained weights).

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The epoch each generation keeps, under the authors' recipe (chosen on real validation blocks) and the strict recipe (chosen on the previous generation's text), first setting (median over runs and 10\u201390% band).", "name": "fig-llm-best-epoch"}, "image": {"alt": "Best epoch against generation for the two recipes"}}
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.0))
plots.plot_variants(RECIPES, FIRST, "best_epoch", ax=ax, ylabel="epoch kept")
fig.tight_layout()

# %% [markdown]
# (llm-ablation)=
# ## What makes perplexity recover? An ablation
#
# In an earlier version of this page, perplexity rose at generation 1 and then fell back towards generation
# 0's. Three suspects could let a generation undo its parent's errors, and each is changed here alone, on the
# first setting (each experiment's number of runs is given below with its result; the runs share their
# generation 0 with the first runs of the recipes above, so every comparison starts from the same model):
#
# * **the checkpoint choice**: real validation blocks (the authors') or the previous generation's text (strict):
#   the two recipes above differ in this alone (a third choice, none at all, costs as much again and is not
#   run here: `presets.MORE_ABLATION`, or `--checkpoint last` on the command line);
# * **the starting point**: the pretrained weights at every generation (the paper) or the previous generation's;
# * **the pretraining gap**: a model pretrained on a related language (the paper's structure), or on the
#   fine-tuning language itself (as this page once did), so that the pretrained weights already know it.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The ablation, first setting: the change of test perplexity from generation 0 to the last generation for each variant (median over runs, and the 10\u201390% interval over runs), beside each variant's pretrained model (grey).", "name": "fig-llm-ablation"}, "image": {"alt": "Horizontal intervals of the change in test perplexity for each variant of the recipe"}}
ABLATED = {name: res for name, res in runs.items() if name not in (SAMPLING, REAL_TEXT)}
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 0.5 + 0.45 * len(ABLATED)))
plots.plot_ablation(ABLATED, FIRST, ax=ax)
fig.tight_layout()

# %% tags=["remove-input"]
ABLATION = sentences.ablation_sentences(plots.ablation_table(ABLATED, FIRST))
prose.show(ABLATION)

# %% [markdown]
# (llm-tails)=
# ## The tails
#
# The paper's central claim is that collapse starts in the tails: the improbable goes first. Two ways to see it
# in a language model. First, the test loss split by **token frequency** (by frequency in the original
# fine-tuning data): rare tokens (the rarest that make up the last 10% of the training tokens, and those never
# seen), frequent tokens (the most frequent that make up the first 50%), and the middle. The figure draws each
# band's change since generation 0, under each recipe.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The test loss of rare, middle and frequent tokens (by frequency in the original fine-tuning data), as its change since generation 0, first setting, under each recipe (median over runs and band).", "name": "fig-llm-bands"}, "image": {"alt": "Panels of the change in test loss since generation 0 for rare, middle and frequent tokens, one per recipe"}}
fig, axes = plt.subplots(len(RECIPES), 1, figsize=(plotting.COLUMN_WIDTH, 2.8 * len(RECIPES)), sharex=True,
                         sharey=True, squeeze=False)
for k, (ax, (name, res)) in enumerate(zip(axes[:, 0], RECIPES.items())):
    plots.plot_band_losses(res, FIRST, ax=ax)
    ax.set_title(name)
    if k:
        ax.get_legend().remove()
    if k < len(RECIPES) - 1:
        ax.set_xlabel("")
fig.tight_layout()

# %% tags=["remove-input"]
for name, res in RECIPES.items():
    last = res.generations(FIRST)[-1]
    prose.show(measures.band_sentence(plots.band_means(res, FIRST, 0), plots.band_means(res, FIRST, last), last,
                                      f"{res.label(FIRST)}, {name}"))
BANDED = RECIPES[STRICT if STRICT in RECIPES else MAIN]
BANDS = sentences.band_note(plots.band_means(BANDED, FIRST, 0),
                            plots.band_means(BANDED, FIRST, BANDED.generations(FIRST)[-1]))
prose.show(BANDS)

# %% [markdown]
# The loss by band is measured on real test text: it says which tokens a model now predicts worse, not which
# words its own text still uses. That is the second measure, for the embedded language: the **coverage** of
# the vocabulary, the share of the tail's word types (and of the head's, the most frequent words carrying half
# the mass) that each generation's training data still use. A finite text misses rare words even when it comes
# from the source, so each curve is drawn with its **sampling baseline**: the coverage of a fresh sample of
# the source as large as the training set. A rare word that one generation does not write gives the next no
# example to learn it from (without original data), as a category lost in {ref}`the Gaussian chapter's Markov
# chain <gauss-discrete>` never returns.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The share of the language's rare (tail) and frequent (head) word types used by each generation's training data, beside the share a fresh sample of the source of the same size uses (dashed): the first setting (top) and the setting with original data kept (bottom).", "name": "fig-llm-coverage"}, "image": {"alt": "Two panels of vocabulary coverage against generation: the tail falls below its dashed baseline while the head stays near it"}}
if "coverage_rare" in results.table:
    fig, axes = plt.subplots(2, 1, figsize=(plotting.COLUMN_WIDTH, 5.6), sharex=True, sharey=True)
    for ax, setting in zip(axes, [FIRST, SETTINGS[min(1, len(SETTINGS) - 1)]]):
        plots.plot_coverage(results, setting, ax=ax)
    axes[1].get_legend().remove()
    axes[0].set_xlabel("")
    fig.tight_layout()
else:
    print("these results are on real text: no known vocabulary to cover")

# %% [markdown]
# (llm-figure11)=
# ## The paper's Figure 11: the perplexity of every generated sequence
#
# The paper's Figure 11 scores every training sequence of every generation with the generation-0 model and
# draws one histogram per generation. The grey reference is original text that generation 0 never trained on
# (the validation blocks): the original training blocks themselves, which it fitted for several epochs, would
# look too likely.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The paper's Figure 11 for the first setting under the strict recipe: the perplexity, under the generation-0 model, of every training block of every generation, beside original text that generation 0 never saw (grey).", "name": "fig-llm-figure11-a"}, "image": {"alt": "Histograms of block perplexity for each generation of the first setting, beside the grey reference"}}
FIG11 = RECIPES.get(STRICT, results)
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.4))
plots.plot_ppl_histograms(FIG11, FIRST, ax=ax)
fig.tight_layout()

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The paper's Figure 11 for the setting with original data kept (the authors' recipe).", "name": "fig-llm-figure11-b"}, "image": {"alt": "Histograms of block perplexity for each generation of the second setting beside the grey reference"}}
fig, ax = plt.subplots(figsize=(plotting.COLUMN_WIDTH, 3.4))
plots.plot_ppl_histograms(results, SETTINGS[min(1, len(SETTINGS) - 1)], ax=ax)
fig.tight_layout()

# %% [markdown]
# The paper sees two things in its Figure 11. The bulk of the mass moves to the **left**: later generations
# write sequences that the original model finds very likely. And a **tail** grows on the right: sequences that
# the original model would hardly produce, errors of the models, inherited and amplified. The table measures
# both against the reference: the share of a generation's blocks above the reference's median perplexity (0.5
# for text like the reference) and above its 99th percentile, beside the same share for a fresh sample of the
# source as large as a training set, scored the same way (the sampling baseline of that tail).

# %% tags=["remove-input"]
shift = plots.shift_table(FIG11, FIRST)
plots.show_table(shift)

# %% tags=["remove-input"]
FIGURE11 = sentences.figure11_note(shift)
prose.show(FIGURE11)

# %% [markdown]
# (llm-settings)=
# ## The settings: epochs and original data
#
# The paper's two settings differ in two things at once. The third setting (the second setting's epochs, no
# original data) separates them: against the first setting it changes the epochs alone; against the second it
# changes the retention alone. The sentence below compares the settings by how much their test perplexity grew
# under the authors' recipe (Figure 10 draws them), with the runs' ranges.

# %% tags=["remove-input"]
prose.show(measures.settings_sentence(plots.growth(results, "test_perplexity"),
                                      {s: results.label(s) for s in SETTINGS},
                                      ranges=plots.growth_ranges(results, "test_perplexity")))

# %% [markdown]
# (llm-sampling)=
# ## Sampling instead of beam search
#
# The sampling experiment repeats the first setting under the authors' recipe with one change: every
# generation writes its successor's data by sampling at temperature 1 from its whole distribution. Beam search
# looks for likely text, so it pulls the data towards what the model already finds likely at every
# generation; sampling writes the model's own distribution, its improbable errors included, and leaves only
# the finite sample and the training to lose the tails (statistical and functional approximation error). The
# three panels: the test perplexity (Figure 10), the median perplexity of each generation's training data under
# generation 0 (the bulk of Figure 11), and the share of the tail's words that the training data still use.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The first setting with the paper's beam search and with sampling at temperature 1 (the authors' recipe): test perplexity, the median perplexity of the training data under generation 0, and the share of the tail's words used by the training data (median over runs and band).", "name": "fig-llm-sampling"}, "image": {"alt": "Three panels against generation comparing beam search and sampling: test perplexity, median training-data perplexity under generation 0, and tail coverage"}}
if sampled is not None:
    VARIANTS = {"the paper's beam search": results, "sampling at temperature 1": sampled}
    plots.plot_sampling(VARIANTS, FIRST)
else:
    print("no sampling experiment at this profile")

# %% tags=["remove-input"]
if sampled is not None:
    for metric, name, digits in (
        ("test_perplexity", "the test perplexity", 1),
        ("train_ppl_gen0_median", "the median perplexity of the training data under generation 0", 1),
        ("coverage_rare", "the share of the tail's words used by the training data", 2),
    ):
        if metric in results.table:
            change = plots.variant_growth(VARIANTS, FIRST, metric)
            prose.show(measures.settings_sentence(change, {k: k for k in change}, metric=name, digits=digits,
                                                  ranges=plots.variant_ranges(VARIANTS, FIRST, metric)))

# %% [markdown]
# (llm-explore)=
# ## What the text looks like
#
# One lineage of text per position (block 0 of run 0, first setting, strict recipe): generation 0's is the
# original block; from generation 1 on it is what the previous generation wrote to continue that original
# block.

# %% tags=["remove-input"]
print(plots.format_samples(FIG11, FIRST, width=92, chars=300))

# %% [markdown]
# ### Diversity
#
# Distinct $n$-grams of every generation's training data, and the share of word 4-grams that repeat an earlier
# 4-gram of the same block.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Diversity of every generation's training data, per setting (the authors' recipe): distinct 2-grams, and the share of word 4-grams that repeat an earlier one in the same block (median over runs and band).", "name": "fig-llm-diversity"}, "image": {"alt": "Two panels against generation: distinct 2-grams and repeated 4-grams, per setting"}}
fig, axes = plt.subplots(2, 1, figsize=(plotting.COLUMN_WIDTH, 5.6), sharex=True)
plots.plot_metric(results, "distinct_2", ax=axes[0], ylabel="distinct 2-grams")
plots.plot_metric(results, "repetition_4", ax=axes[1], ylabel="repeated 4-grams in a block")
axes[1].get_legend().remove()
axes[0].set_xlabel("")
fig.tight_layout()

# %% tags=["remove-input"]
KEPT = SETTINGS[min(1, len(SETTINGS) - 1)]
prose.show(sentences.repetition_note(plots.generation_values(results, KEPT, -1, "repetition_4"),
                                     plots.generation_values(results, FIRST, -1, "repetition_4"),
                                     results.label(KEPT).split(", ")[-1], results.label(FIRST).split(", ")[-1]))

# %% [markdown]
# ### Explore
#
# The slider picks among the computed generations and experiments; it drives `plots.plot_generation`, the
# Figure-11 histogram of one generation (coloured) against the reference (grey: original text that generation
# 0 never saw). First, the same function side by side, for the strict recipe, at a few generations.

# %% tags=["remove-input"] mystnb={"figure": {"caption": "The slider's function at a few generations of the first setting under the strict recipe: each generation's training data (coloured) against original text that generation 0 never saw (grey).", "name": "fig-llm-explore"}, "image": {"alt": "Four histograms of block perplexity at generations of the first setting beside the grey reference"}}
gens = FIG11.generations(FIRST)
shown = sorted({gens[0], gens[min(1, len(gens) - 1)], gens[len(gens) // 2], gens[-1]})
fig = widgets.small_multiples(plots.plot_generation, "generation", shown,
                              fixed=dict(results=FIG11, setting=FIRST, legend=False), sharey=False, ncols=2)

# %% tags=["remove-input"]
prose.show(live.explore_note("04_language_models"))
EXPLORED = {name: runs[name] for name in (STRICT, MAIN, SAMPLING) if name in runs}  # the recipes and the decoding
live.explore(
    plots.plot_experiment_generation,
    grid=dict(experiment=list(EXPLORED), generation=gens),
    fixed=dict(runs=EXPLORED, setting=FIRST),
    start=dict(experiment=STRICT if STRICT in EXPLORED else MAIN, generation=gens[-1]),
    alt="Histogram of the perplexity of one generation's training data beside the original text unseen by "
        "generation 0",
    caption="The paper's Figure 11, one generation and one experiment at a time (first setting): the training "
            "data of the chosen generation (coloured) against original text that generation 0 never saw (grey).",
    name="fig-llm-explore-live",
)

# %% [markdown]
# (llm-paper-scale)=
# ## At the paper's scale, and on real text
#
# The same code runs OPT-125m on wikitext2 on a GPU; from the repository root (or in Colab after the install
# cell), the chapter's experiments at the `gpu` or `paper` profile (see {doc}`../book/how-to-run`):
#
# ```bash
# python -m collapse_utils.llm --profile paper --chapter --output runs/paper         # one GPU
# accelerate launch -m collapse_utils.llm --profile paper --chapter --output runs/paper   # several GPUs
# COLLAPSE_LLM_RESULTS=runs/paper jupyter nbconvert --execute --to notebook notebooks/04_language_models.ipynb
# ```
#
# Every finished generation is saved at once, so a closed Colab tab or a killed process loses at most the
# generations in progress: run the same command again. A local folder of text in the wikitext layout
# (`train.txt`, `valid.txt`, `test.txt`, and optionally `pretrain.txt` to pretrain the small model on) runs
# through the same pipeline with `--data path/to/folder`; on real text the measures that need the true
# distribution are left out. Offline, `collapse_utils.llm.realtext.write_folder` writes such a folder of real
# English: the documentation that the authors of Python's standard library wrote in its docstrings (technical
# prose, not encyclopedia articles). The run below uses it at a small scale, with the strict recipe and no
# original data.

# %% tags=["remove-input"]
if REAL_TEXT in runs:
    real = runs[REAL_TEXT]
    ON_REAL_TEXT = sentences.real_text_note(plots.runs_matrix(real, "test_perplexity", real.settings[0])[1],
                                            real.base["test_perplexity"], plots.data_name(real))
else:
    ON_REAL_TEXT = "The real-text run is not part of this profile (or of these saved results)."
prose.show(ON_REAL_TEXT)

# %% [markdown]
# ## Summary

# %% tags=["remove-input"]
prose.show(sentences.findings([TAKEAWAY.replace("**In short.** ", ""), PRETRAINING, FIGURE10, ABLATION, BANDS,
                               FIGURE11, ON_REAL_TEXT]))

# %% [markdown]
# ## Exercises
#
# 1. Before looking at {ref}`the section on sampling <llm-sampling>`: which part of Figure 11 should change most
#    when beam search is replaced by sampling (`decoding="sample"` in `experiment.ExperimentConfig`), and why?
#    Then compare your answer with the figure of that section, and run
#    `plots.plot_ppl_histograms(runs[SAMPLING], FIRST)` to see the sampled experiment's Figure 11.
#
# :::{admonition} Solution
# :class: dropdown
# Beam search looks for the most likely continuations, so it pushes the data towards low perplexity by itself
# (the decoding table shows it even for the perfect model). Sampling at temperature 1 writes text with the
# model's own distribution, so there is no such push: one expects the bulk to stay nearer the reference, and
# a right tail of unlikely sequences to appear, because sampling also writes the model's improbable errors.
# Collapse then comes from finite samples and training errors alone (statistical and functional approximation
# error). Whether this run shows it, and how clearly with its few runs, is what the section's figure and
# sentences say.
# :::
#
# 2. With retention $r$ and $n$ blocks, how many original blocks does each generation train on, and which ones?
#    Check it in `results.table` (`n_original`) and in `blocks.npy`.
#
# :::{admonition} Solution
# :class: dropdown
# `round(r * n)` blocks (`schedules.n_retained`): by default a random subset drawn anew each generation
# (`retained_blocks="random"`), as the authors' shuffled data-writing pass keeps the batches below an index
# limit; the other blocks are replaced by their continuations. `retained_blocks="first"` keeps the first blocks
# every generation instead. The saved `blocks.npy` of a generation holds the blocks it trained on, the retained
# ones first (`is_original.npy` flags them).
# :::
#
# 3. The authors' recipe keeps the epoch with the lowest loss on the real validation blocks. Why can that choice
#    hold a generation near the *pretrained* model rather than near the truth? Look at
#    {numref}`fig-llm-best-epoch`.
#
# :::{admonition} Solution
# :class: dropdown
# A generation fine-tuned on generated text moves away from the real data with every epoch, so the loss on
# real validation blocks is often lowest after the first epoch, the weights that moved least from the
# pretrained model. The checkpoint choice then keeps each generation close to its *starting point*: the
# pretrained weights, which know the words but not this language's transitions (a related language). Whether
# this run shows it, and how strongly, is what the figure and the sentences of {ref}`llm-figure10` say.
# :::
#
# 4. Run `python -m collapse_utils.llm --profile quick --output /tmp/q`, interrupt it with Ctrl-C in the middle,
#    and run it again. How do you know it resumed, and why are the numbers the same as an uninterrupted run?
#
# :::{admonition} Solution
# :class: dropdown
# The progress bar starts with the finished generations already counted, and their folders' `DONE` markers
# keep their time stamps. Each generation draws its randomness from seeds derived from the experiment's seed,
# the setting's name, the run and the generation alone, starts from the same pretrained weights, and reads the
# previous generation's data from disk (under the accumulating schedules, every earlier generation's, with the
# same random numbers), so it computes exactly what it would have computed without the interruption. A
# half-written generation has no `DONE` marker and is computed again.
# :::
