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
# # 4. Language models, generation after generation
#
# This is the experiment most readers come for. Shumailov et al.
# {cite}`shumailov2023curse,shumailov2024nature` fine-tune OPT-125m {cite}`zhang2022opt` on
# wikitext2 {cite}`merity2017pointer`, let the fine-tuned model *write* the training data of the next
# generation, fine-tune a fresh copy on that, and so on. Each model is only a little worse than its
# parent, but the errors compound: perplexity on real text rises, and the generated text drifts towards
# what the first model already found likely, while a long tail of odd sequences appears.
#
# The chapter runs the same code at three scales. On a GPU with internet access (Colab, or the command
# line at the `paper` profile) it uses OPT-125m and wikitext2 exactly as the paper. Where the Hugging Face
# hub cannot be reached (this book's build, CI), it falls back to a *synthetic language whose probability
# distribution we know* and a small OPT trained here from scratch. The fallback is not only a stand-in: a
# known distribution lets us judge every generation's text by the truth, which real text cannot offer.
#
# 1. the experiment, as the paper and the authors' code describe it;
# 2. the embedded language and how well the small model learns it;
# 3. **Figure 10**: perplexity on the original test set, generation after generation;
# 4. **Figure 11**: how likely the generated data look to the first model;
# 5. beyond the paper: the generated text judged by the true distribution, and its tail;
# 6. samples of the text and measures of its diversity;
# 7. a slider over generations, and how to run the paper's scale.

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

from collapse_utils import profiles, widgets
from collapse_utils.llm import experiment, plots
from collapse_utils.llm.synthetic import SyntheticLanguage

# the experiment's configuration for the active profile (quick, book or paper); see
# experiment.profile_config for every value, and `python -m collapse_utils.llm --help`
config = experiment.profile_config()
# plot the saved results of a larger run instead: set COLLAPSE_LLM_RESULTS to its output folder
SAVED = experiment.saved_results_path()
OUTPUT = SAVED or experiment.default_output(config)
profiles.report(
    "Chapter 4",
    dict(model=config.model, data=config.data, generations=config.generations, runs=config.runs,
         settings=[s.label for s in config.settings], blocks=config.max_train_blocks or "all",
         block_size=config.block_size, beams=config.num_beams, lr=config.lr, batch_size=config.batch_size,
         output=str(OUTPUT)),
    device=profiles.torch_device(),
)
if config.model != "small":  # OPT-125m (the gpu and paper profiles): say how long it will take
    print(experiment.estimate_line(config))
plt.rcParams.update({"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False})

# %% [markdown]
# ## The experiment
#
# The recursion is the paper's first schedule (chapter 1's `approach=1`): each generation learns only
# from the data written by the generation before it, with an optional share of original data mixed in.
#
# * **Data.** wikitext-2-raw-v1 is tokenised, concatenated and cut into blocks of 64 tokens. The train
#   split gives the training blocks and the prompts, the test split the evaluation.
# * **Generation 0** fine-tunes the pretrained model on the original blocks.
# * **Writing data.** The fine-tuned model continues *every* original training block with 64 new tokens,
#   by 5-way beam search. The continuations are a synthetic training set of the same size and shape.
# * **Generation $t+1$** fine-tunes a fresh copy of the *pretrained* weights on the data written by
#   generation $t$.
# * **Two settings**: 5 epochs with no original data; 10 epochs where a random 10% of every
#   generation's blocks are original blocks and the rest are written by the previous generation. Five
#   runs of each, ten generations.
#
# The authors' original script (`main.py` of their code) adds the details: AdamW at learning rate
# $2\times10^{-5}$, batch size 128, the learning rate annealed along a cosine to $10^{-6}$ over the
# epochs (`CosineAnnealingLR(T_max=epochs, eta_min=1e-6)`), the checkpoint with the lowest validation
# loss kept, and `generate(num_beams=5, min_new_tokens=64, max_new_tokens=64, repetition_penalty=3.0)`
# with the continuation alone (`outputs[:, 64:]`) kept as data; in the 10% setting the blocks below an
# index limit keep their original text. These are the defaults of `experiment.ExperimentConfig` and
# options of the command line (a linear decay is `schedule="linear"`; gradient clipping at 1.0 is our
# addition). Where the paper leaves a detail open we chose, and made each choice an option:
#
# * a synthetic block is the 64-token continuation *alone* (not prompt plus continuation), so every
#   generation trains on blocks of the same length as the original ones (`new_tokens`);
# * the 10% of original blocks are the first 10% of the blocks, the same ones every generation (the
#   authors' index limit; `retained_blocks="random"` draws a fresh subset each generation instead):
#   block $i$ of the training set is either original block $i$ or generation $t$'s continuation of it;
# * the last generation is measured but writes no data;
# * the perplexity of Figure 11 is that of the 64-token training blocks themselves, scored by the
#   generation-0 model of the same run.
#
# At the `quick` and `book` scales the model, the data, the learning rate and the number of epochs are
# smaller (the small model needs a larger learning rate than OPT-125m's fine-tuning); the report above
# lists them. Every figure says which run it came from.

# %% [markdown]
# ## The embedded language
#
# Without the hub, the data come from a word-level Markov chain (`collapse_utils.llm.synthetic`): a
# vocabulary of pronounceable pseudo-words with a Zipf-like frequency law, each word with a handful of
# favourite successors, and a 10% chance of jumping to *any* word (drawn by the Zipf law), which is how
# the rare words of the long tail get used. Sentences end with `.`; the text is written out in the
# wikitext layout, with article titles, section headings and blank lines, and goes through exactly the
# same tokeniser and block code as wikitext2.
#
# Because the chain is known, we know its **entropy rate** $H$ (nats per word), the smallest loss any
# model can reach on average, and the true log-likelihood of any text. We also mark the **tail**: the
# rarest words that together carry about 10% of the probability mass.

# %%
language = SyntheticLanguage(config.language)
print(language.describe())
print(language.write_corpus(60, seed=7)[:400])

fig, ax = plt.subplots(figsize=(7, 3.4))
rank = np.arange(1, len(language.words) - 1)
freq = np.sort(language.stationary[2:])[::-1]
ax.loglog(rank, freq, color="C0", label="word probability (stationary)")
tail_start = len(freq) - int(language.tail.sum())
ax.axvspan(tail_start, len(freq), color="C3", alpha=0.15, label=f"the tail: {int(language.tail.sum())} rarest words")
ax.set(xlabel="rank", ylabel="probability", title="a Zipf-like vocabulary with a long tail")
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Running the generations
#
# `experiment.run_experiment` runs every setting, run and generation, and writes each finished
# generation (its weights, the data it wrote, its metrics and samples) under the output folder. It is
# resumable: if the kernel dies, running the cell again picks up at the first unfinished generation and
# gives the same numbers as an uninterrupted run. With `COLLAPSE_LLM_RESULTS` set, the chapter plots that
# folder's saved results instead (for example a paper-scale run made on a GPU with the command line).
# The first lines printed say which path the data and the model took.

# %%
if SAVED is not None:
    results = experiment.load_results(SAVED)
    print(f"plotting saved results: {results.describe()}")
    print("\n".join(results.notes))
else:
    results = experiment.run_experiment(config, OUTPUT, cache_dir=OUTPUT.parent / "cache")
SOURCE = plots.provenance(results, None if SAVED else profiles.current())
print(SOURCE)
results.table[["setting", "run", "generation", "n_original", "test_perplexity", "train_ppl_gen0_mean",
               "distinct_2", "train_s", "generate_s"]].round(2)

# %% [markdown]
# ## Does the small model learn the language?
#
# Recursion only means something if generation 0 is a good model of the data. For the embedded language
# we can check it against the truth: the pretrained small model's loss on the test blocks, spread over
# the words of those blocks, beside the source's entropy rate and the true negative log-likelihood of the
# same blocks (the loss of a perfect model).

# %%
base = results.base
if "entropy_rate" in base:
    gen0 = results.table[results.table.generation == 0]["test_nll_per_word"].mean()
    print(f"source entropy rate:                        {base['entropy_rate']:.3f} nats/word")
    print(f"true NLL of the test blocks (perfect model): {base['true_nll_test']:.3f} nats/word")
    print(f"pretrained small model on the test blocks:  {base['test_nll_per_word']:.3f} nats/word "
          f"(token perplexity {base['test_perplexity']:.1f})")
    print(f"after fine-tuning (generation 0, mean):      {gen0:.3f} nats/word")
    if "unigram_entropy" in base:
        print(f"a model of word frequencies only (no context): {base['unigram_entropy']:.3f} nats/word")
else:
    print(f"{base.get('model', config.model)}: test perplexity {base.get('test_perplexity', float('nan')):.2f} "
          "before fine-tuning (real text has no known entropy)")

# %% [markdown]
# The model's loss includes the start of every block, where it sees no context at all, so it cannot
# reach the true NLL exactly. What matters is where it lies between the two references: the loss of a
# model that knows only word frequencies (no context) and the loss of the truth. At the `book` scale and
# above, generation 0 sits much closer to the truth: the recursion starts from a model that has learned
# the language (at the `quick` scale it has learned less, which the figures then reflect).

# %% [markdown]
# ## Figure 10: perplexity on the original test set
#
# Every generation is evaluated on the *original* test blocks. The line is the mean over runs, the band
# the range over runs.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 3.9))
plots.plot_metric(results, "test_perplexity", ax=axes[0], ylabel="perplexity on the original test set")
axes[0].set_title("Figure 10: test perplexity per generation", fontsize=10)
plots.plot_metric(results, "train_ppl_gen0_mean", ax=axes[1],
                  ylabel="mean perplexity under the gen-0 model")
axes[1].set_title("how likely each generation's training data look to generation 0", fontsize=10)
fig.suptitle(SOURCE, fontsize=8)
fig.tight_layout()

# %% [markdown]
# Perplexity on the real test data jumps as soon as the models learn from generated text and stays far
# above generation 0's: every model learns from a sample written by an imperfect model, and what that
# sample gets wrong is never corrected, only passed on. In the paper, perplexity rises in both settings
# and rises less when 10% of the original data is kept; compare the two lines above. (At the small
# scales the curve need not rise monotonically: a model that has collapsed onto a few phrases can stop
# getting worse on the test set for a while. With few runs, also mind the width of the bands.)
#
# The right panel shows the other side of the same coin: the data written by the models look *more and
# more likely* to the first model. Beam search picks high-probability continuations, and each generation
# learns to prefer them even more. The models forget the improbable.

# %% [markdown]
# ## Figure 11: the perplexity of every generated sequence
#
# The paper's Figure 11 scores every training sequence of every generation with the generation-0 model
# and draws one histogram per generation. Generation 0's data are the original blocks.

# %%
fig, axes = plt.subplots(1, len(results.settings), figsize=(6.5 * len(results.settings), 3.9), squeeze=False)
for ax, setting in zip(axes[0], results.settings):
    plots.plot_ppl_histograms(results, setting, ax=ax)
fig.suptitle(f"Figure 11\n{SOURCE}", fontsize=8)
fig.tight_layout()

# %% [markdown]
# The paper sees two things in its Figure 11. The bulk of the mass moves to the **left**: later
# generations write sequences that the original model finds very likely, the probable part of the
# distribution over-represented. And a long **tail** grows on the right: sequences that the original model
# would hardly produce, errors of the models, inherited and amplified. The table measures both against
# the original blocks: the share of a generation's blocks above the original blocks' median perplexity
# (0.5 for the original data) and above their 99th percentile (0.01).

# %%
experiment.perplexity_shift(results).round(3)

# %% [markdown]
# Read the table before the histograms: whether the right tail shows up depends on the model and the
# scale. A small model with a 5-beam search collapses onto its most likely phrases so fast that almost
# *all* its text is more likely than any original block, and a right tail may not appear at all; the
# paper's OPT-125m writes more varied text, whose own errors form the tail. With 10% original data, the
# original blocks keep a bump where generation 0 was.

# %% [markdown]
# ## Judged by the truth (beyond the paper)
#
# The generation-0 model is only a proxy for the data's distribution. For the embedded language we can
# score every training block by the *true* chain: its negative log-likelihood per word. Original text
# scatters around the entropy rate; text that only uses the most likely paths lies to its left; text the
# source would hardly write lies to its right. Words that are not words of the language at all are
# counted apart (`invalid_words` in the table).

# %%
if results.config.data == "synthetic" and "true_nll" in results.table:
    entropy = results.base.get("entropy_rate")
    setting = results.settings[0]
    gens = results.generations(setting)
    shown = sorted({gens[0], gens[len(gens) // 2], gens[-1]})
    fig = widgets.small_multiples(plots.plot_truth_histogram, "generation", shown,
                                  fixed=dict(results=results, setting=setting, entropy=entropy),
                                  suptitle=f"true NLL per word, {results.label(setting)}\n{SOURCE}")
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    plots.plot_metric(results, "true_nll", ax=axes[0], ylabel="true NLL per word (nats)",
                      reference=entropy, reference_label="entropy rate")
    plots.plot_metric(results, "tail_coverage", ax=axes[1], ylabel="share of tail words still used")
    plots.plot_metric(results, "tail_share", ax=axes[2], ylabel="tail mass / true tail mass",
                      reference=1.0, reference_label="the truth")
    fig.tight_layout()
else:
    print("these results are on real text: no known distribution to judge by")

# %% [markdown]
# The truth tells the same story without a model in between. The **tail coverage** (the share of the
# rare words that appear at least once in a generation's training data) falls, generation after
# generation: once a rare word is not written, no later model can learn it back, just as a category lost
# in chapter 1's Markov chain never returns. The tail's share of the text (right panel) can first *rise*:
# a model may lock onto a few rare words and copy them into many blocks, so that the few survivors are
# over-used, before they go too. And the true log-likelihood shows how far the text has moved from the
# language: text of the source scatters around the entropy rate, while the generated text sits far to
# its left, *more* likely than real text can be, because it keeps only the most probable paths.

# %% [markdown]
# ## What the text looks like
#
# One training block per generation, at the same position (block 0 of run 0): generation 0's is the
# original block; from generation 1 on it is the previous model's continuation of that original block.

# %%
for setting in results.settings:
    print(f"--- {results.label(setting)} ---")
    print(plots.format_samples(results, setting, width=110, chars=330))
    print()

# %% [markdown]
# ## Diversity
#
# Two simple measures of the training text of every generation: **distinct-$n$**, the number of different
# word $n$-grams divided by the number of $n$-grams, and **repetition**, the share of word 4-grams that
# repeat an earlier 4-gram of the same block.

# %%
fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
plots.plot_metric(results, "distinct_1", ax=axes[0], ylabel="distinct words / words")
plots.plot_metric(results, "distinct_3", ax=axes[1], ylabel="distinct 3-grams / 3-grams")
plots.plot_metric(results, "repetition_4", ax=axes[2], ylabel="repeated 4-grams within a block")
fig.suptitle(SOURCE, fontsize=8)
fig.tight_layout()

# %% [markdown]
# The vocabulary in use shrinks and the same phrases come back across blocks: the models write a
# narrower language than the one they were taught. The repetition penalty of the beam search (3.0, as in
# the authors' code) divides the score of every token already in the block, yet it does not stop a
# model from looping once it gives one word a high enough probability; at small scales the blocks soon
# end in loops of one word or phrase, and the next generation learns those loops as data. Look also at
# the samples above for what happens to the structure of the text (punctuation, sentence ends,
# headings): structure is carried by a few frequent tokens in particular contexts, and it goes early.

# %% [markdown]
# ## Explore
#
# The slider picks among the computed generations and settings; it drives `plots.plot_generation`, the
# Figure-11 histogram of one generation against the original data. The rendered page has no kernel, so
# here first is the same function at a few generations.

# %%
setting = results.settings[-1]
gens = results.generations(setting)
shown = sorted({gens[0], gens[min(1, len(gens) - 1)], gens[len(gens) // 2], gens[-1]})
fig = widgets.small_multiples(plots.plot_generation, "generation", shown,
                              fixed=dict(results=results, setting=setting), sharey=False,
                              suptitle=f"{results.label(setting)}\n{SOURCE}")

# %%
ui = widgets.interactive_plot(
    plots.plot_generation,
    results=ipw.fixed(results),
    setting=ipw.Dropdown(options=[(results.label(s), s) for s in results.settings], value=results.settings[0],
                         description="setting"),
    generation=ipw.IntSlider(value=gens[-1], min=0, max=gens[-1], step=1, description="generation"),
)
ui

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
# the generation in progress: run the same command again. Options (`--help`) set the model, the data (a
# hub name or a local folder with `train.txt`, `valid.txt` and `test.txt`), generations, runs, settings
# (`--setting 5:0 --setting 10:0.1`), beams, block size, seed and output folder. On a GPU, training runs
# in bf16 mixed precision and the beam search in batches with the KV cache and fused (sdpa) attention;
# `benchmarks/bench_llm.py` measures training and generation throughput.

# %% [markdown]
# ## Summary
#
# - A language model fine-tuned on the text of its predecessor, generation after generation, gets worse
#   at the real data: **perplexity on the original test set rises** (Figure 10).
# - The generated data drift **towards what the first model finds likely** (Figure 11): the improbable is
#   forgotten. The paper also finds a growing **tail of sequences the first model would hardly write**,
#   the models' own errors; whether it appears depends on the model and the scale (see the table).
# - Judged by a known distribution, the **rare words vanish first** (tail coverage falls) and the text
#   becomes narrower (distinct-$n$ falls): the early collapse of chapter 1, now in a language model.
# - Keeping a **fraction of original data** in every generation slows the damage, as in the paper.
# - The experiment is expensive mainly through **generation**; it is resumable generation by generation
#   and runs unchanged from a CPU (small model, embedded language) to GPUs (OPT-125m, wikitext2).
#
# ## Exercises
#
# 1. Replace beam search by sampling (`do_sample=True`, temperature 1) in `model.continue_blocks`. Which
#    part of Figure 11 should change most, and why?
#
# :::{admonition} Solution
# :class: dropdown
# Beam search looks for the most likely continuations, so it pushes the data towards low perplexity by
# itself: that produces much of the leftward shift. Sampling at temperature 1 writes text with the
# model's own distribution, so the bulk stays near generation 0 for longer; collapse then comes from
# finite samples and training errors alone (chapter 1's statistical error), more slowly, and the tail of
# unlikely sequences grows faster because sampling writes the model's improbable errors too.
# :::
#
# 2. With retention $r$ and $n$ blocks, how many original blocks does each generation train on, and
#    which ones? Check it in `results.table` (`n_original`) and in `is_original.npy`.
#
# :::{admonition} Solution
# :class: dropdown
# `round(r * n)` blocks (`schedules.n_retained`): the first ones, the same every generation (the authors'
# index limit; with `retained_blocks="random"` a fresh random subset each generation, chosen by
# `schedules.choose_without_replacement` with the seed of that setting, run and generation). Block $i$ of
# the training set is original block $i$ or the previous model's continuation of it.
# `experiment.load_results(out).array("is_original", setting, g).mean()` gives $r$.
# :::
#
# 3. Why does the tail coverage of the embedded language never recover once it has fallen, even with 10%
#    of original data kept?
#
# :::{admonition} Solution
# :class: dropdown
# Without original data, a rare word that no model writes is absent from all later training data, and a
# model cannot learn to write a word it never sees: the loss is absorbing, like a category lost in
# chapter 1's Markov chain. With 10% original data, rare words do come back through the original blocks,
# but only in those blocks: the coverage measured on the whole training set is limited by how few rare
# words a tenth of the data holds, and the model's own 90% still under-uses them.
# :::
#
# 4. Run `python -m collapse_utils.llm --profile quick --output /tmp/q`, interrupt it with Ctrl-C in the
#    middle, and run it again. How do you know it resumed, and why are the numbers the same as an
#    uninterrupted run?
#
# :::{admonition} Solution
# :class: dropdown
# The progress bar starts with the finished generations already counted, and their folders' `DONE`
# markers keep their time stamps. Each generation draws its randomness (the retained blocks, the batch
# order, dropout) from a seed derived from `(seed, setting, run, generation)` alone, starts from the same
# pretrained weights, and reads the previous generation's data from disk, so it computes exactly what it
# would have computed without the interruption. A half-written generation has no `DONE` marker (it is
# written to a temporary folder and renamed) and is computed again.
# :::
