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
# # What keeps models from collapsing
#
# The paper closes on a claim: access to genuine human data is essential {cite}`shumailov2024nature`. Work
# since then asks how much real data, kept how, and whether keeping *everything* is enough. Each of those
# studies takes one or two model families. This chapter puts the answers side by side: the four families
# of chapters 1-4 (a Gaussian, a Gaussian mixture, a variational autoencoder and a small language model)
# run the same strategies, are measured on the same scale, and are read against what each study predicts.

# %% tags=["skip-execution", "remove-cell"]
# Colab only: install this book's helper package and its requirements.
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "model-collapse-book @ git+https://github.com/model-collapse-book/model-collapse"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])

# %% tags=["remove-input"]
# Set-up: imports, the page's scale (printed below the opening figure), and the Gaussian and mixture runs.
import os

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from collapse_utils import live, mitigations, plotting, profiles, prose, vae, widgets
from collapse_utils.llm import experiment
from collapse_utils.mitigations import plots
from collapse_utils.plotting import COLUMN_WIDTH

plotting.style()

# Shares of real data: the phase diagrams' grids (every family runs fresh and fixed real data at each).
# gaussian_*: chapter 1's recursion (n points a generation; runs by the exact method, sample_runs by the
# sample method); gmm_*: chapter 2's (n points of 2-D data); vae_*: chapter 3's on 8x8 digits (or MNIST
# at the gpu and paper scales); llm_*: chapter 4's on its embedded language (blocks of 64 tokens, epochs
# per generation, worker processes). compare_share: the share at which fresh and fixed real data are
# compared with the other strategies; band: "within the band" means at most band x generation 0's distance.
# fmt: off
GAUSS_FINE = tuple(np.round(np.arange(0.0, 1.0001, 0.05), 2).tolist())
GAUSS_BOOK = (0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0)
FIVE = (0.0, 0.25, 0.5, 0.75, 1.0)
P = profiles.choose(
    quick=dict(explore_shares=(0.0, 0.5, 1.0), compare_share=0.5, band=2.0,
               gaussian_n=50, gaussian_generations=40, gaussian_runs=500, gaussian_sample_runs=200, gaussian_shares=FIVE,
               gmm_n=200, gmm_generations=6, gmm_runs=6, gmm_shares=(0.0, 0.5, 0.75, 1.0),
               vae_source="digits", vae_n=100, vae_generations=2, vae_runs=1, vae_shares=(0.0, 0.5, 1.0), vae_epochs=10,
               vae_hidden=(64, 32), vae_latent=8, vae_batch=32, vae_lr=2e-3, vae_eval=200, classifier_epochs=10,
               llm_epochs=1, llm_generations=1, llm_runs=1, llm_blocks=16, llm_shares=(0.0, 0.5, 1.0), llm_workers=1,
               llm_test_blocks=12, llm_valid_blocks=8),
    book=dict(explore_shares=FIVE, compare_share=0.5, band=2.0,
              gaussian_n=50, gaussian_generations=100, gaussian_runs=2000, gaussian_sample_runs=800,
              gaussian_shares=GAUSS_BOOK,
              gmm_n=500, gmm_generations=30, gmm_runs=24, gmm_shares=(0.0, 0.1, 0.25, 0.5, 0.75, 1.0),
              vae_source="digits", vae_n=250, vae_generations=3, vae_runs=2, vae_shares=(0.0, 0.5, 1.0), vae_epochs=60,
              vae_hidden=(128, 64), vae_latent=8, vae_batch=32, vae_lr=2e-3, vae_eval=500, classifier_epochs=20,
              llm_epochs=2, llm_generations=2, llm_runs=2, llm_blocks=24, llm_shares=(0.0, 0.5, 1.0), llm_workers=2,
              llm_test_blocks=32, llm_valid_blocks=16),
    gpu=dict(explore_shares=FIVE, compare_share=0.5, band=2.0,
             gaussian_n=100, gaussian_generations=1000, gaussian_runs=10000, gaussian_sample_runs=2000,
             gaussian_shares=GAUSS_FINE,
             gmm_n=1000, gmm_generations=200, gmm_runs=64, gmm_shares=(0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0),
             vae_source="auto", vae_n=2000, vae_generations=10, vae_runs=3, vae_shares=FIVE, vae_epochs=20,
             vae_hidden=(512, 256), vae_latent=16, vae_batch=128, vae_lr=1e-3, vae_eval=2000, classifier_epochs=10,
             llm_epochs=2, llm_generations=5, llm_runs=2, llm_blocks=512, llm_shares=FIVE, llm_workers=1,
             llm_test_blocks=None, llm_valid_blocks=None),
    paper=dict(explore_shares=FIVE, compare_share=0.5, band=2.0,
               gaussian_n=100, gaussian_generations=2000, gaussian_runs=20000, gaussian_sample_runs=5000,
               gaussian_shares=GAUSS_FINE,
               gmm_n=1000, gmm_generations=2000, gmm_runs=64, gmm_shares=(0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0),
               vae_source="auto", vae_n=5000, vae_generations=20, vae_runs=5, vae_shares=FIVE, vae_epochs=20,
               vae_hidden=(512, 256), vae_latent=16, vae_batch=128, vae_lr=1e-3, vae_eval=5000, classifier_epochs=20,
               llm_epochs=5, llm_generations=10, llm_runs=5, llm_blocks=2048, llm_shares=FIVE, llm_workers=1,
               llm_test_blocks=None, llm_valid_blocks=None),
)
# fmt: on
DEVICE = profiles.torch_device()
if DEVICE == "cpu":
    torch.set_num_threads(1)  # the small networks run fastest on one thread (two only wait for each other)
BAND, SHARE = P["band"], P["compare_share"]
RESULTS = {}
RESULTS["gaussian"] = mitigations.run_gaussian(
    P["gaussian_n"], P["gaussian_generations"], P["gaussian_runs"], P["gaussian_sample_runs"], P["gaussian_shares"],
    SHARE, seed=profiles.seed(0),
)
RESULTS["gmm"] = mitigations.run_mixture(
    P["gmm_n"], P["gmm_generations"], P["gmm_runs"], P["gmm_shares"], SHARE, seed=profiles.seed(1),
    progress="Gaussian mixture",
)

# %% tags=["remove-input"]
# The VAE: chapter 3's data, judge and model (the 8x8 digits at the quick and book scales).
data = vae.load_images(P["vae_source"], seed=profiles.seed(2), verbose=False)
judge = vae.train_classifier(data, epochs=P["classifier_epochs"], seed=profiles.seed(2), device=DEVICE)
meter = vae.GenerationMeter(judge, data.x_test, n_eval=P["vae_eval"], grid=1, seed=profiles.seed(2))
VAE_CONFIG = vae.VAEConfig(latent_dim=P["vae_latent"], hidden=P["vae_hidden"], epochs=P["vae_epochs"],
                           batch_size=P["vae_batch"], lr=P["vae_lr"], device=DEVICE)  # fmt: skip
RESULTS["vae"] = mitigations.run_vae(
    data.x_train, min(P["vae_n"], len(data.x_train) // 2), P["vae_generations"], P["vae_runs"], P["vae_shares"],
    SHARE, VAE_CONFIG, meter, n_eval=P["vae_eval"], seed=profiles.seed(3), progress="VAE",
)

# %% tags=["remove-input"]
# The language model: chapter 4's configuration of this profile, smaller, with chapter 4's cache (its
# pretrained small model is reused when chapter 4 ran first: the same folder as chapter 4's experiments use).
LLM_BASE = experiment.profile_config()
RESULTS["llm"] = mitigations.run_llm(
    LLM_BASE, P["llm_shares"], SHARE, P["llm_epochs"], P["llm_generations"], P["llm_runs"], P["llm_blocks"],
    cache_dir=experiment.default_output(LLM_BASE) / "cache", output_root=Path("runs/llm/mitigations"), workers=P["llm_workers"],
    test_blocks=P["llm_test_blocks"], valid_blocks=P["llm_valid_blocks"], decoding="sample",
)
FAMILY_RESULTS = [RESULTS[f] for f in mitigations.FAMILIES]

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The whole chapter in one figure: for each family, how far from the truth the last generation ended under each strategy, as a multiple of generation 0's distance (median over runs; fresh and fixed real data at the compared share). The dashed line is the band. Each family's measure, generations and runs: see the sections below and *This page ran at*.", "name": "fig-mitig-key"}, "image": {"alt": "Distance from the truth after the last generation, for four model families and six strategies, on a log scale"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.9))
plots.plot_overview(FAMILY_RESULTS, ax=ax, band=BAND)
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(mitigations.takeaway(FAMILY_RESULTS, BAND))

# %% [markdown]
# This chapter:
#
# 1. {ref}`the strategies <mitig-strategies>`, and one scale for four families;
# 2. {ref}`what follow-up work predicts <mitig-theory>`, stated so that a run can disagree;
# 3. the {ref}`Gaussian <mitig-gaussian>`, with its exact theory;
# 4. the {ref}`Gaussian mixture <mitig-gmm>`;
# 5. the {ref}`VAE <mitig-vae>`;
# 6. the {ref}`language model <mitig-llm>`;
# 7. {ref}`the summary table <mitig-summary>`, and {ref}`a slider <mitig-explore>` over the share of real data.
#
# Every number and every outcome in the text below is computed by the code beside it, so the page stays
# true at any seed and profile. This page ran at the scale below (the other scales: {doc}`../book/how-to-run`).

# %% tags=["hide-input"]
profiles.report("Chapter 5", P, device=DEVICE)
prose.show(prose.ran_at([
    ("families", "4: Gaussian, Gaussian mixture, VAE, language model", "the paper: the same four, without mitigations"),
    ("generations (Gaussian, mixture, VAE, language model)",
     f"{P['gaussian_generations']}, {P['gmm_generations']}, {P['vae_generations']}, {P['llm_generations']}",
     "theory; 2,000 (Figure 7); 20 (Figure 9); 10 (Figure 10)"),
    ("runs (Gaussian, mixture, VAE, language model)",
     f"{P['gaussian_runs']}, {P['gmm_runs']}, {P['vae_runs']}, {P['llm_runs']}", "theory; 1; 1; 5"),
    ("real data kept", "none, all (accumulate), or a share, fresh or fixed", "none, or 10% fixed (language model)"),
]))

# %% [markdown]
# (mitig-strategies)=
# ## The strategies, on one scale
#
# Throughout the book, **generation 0** is the model fitted to the original (real) data and **generation
# $t+1$** is fitted to a training set built from generation $t$'s samples; the truth is not a generation.
# What changes below is *how* that training set is built. Every family runs the same six strategies
# (`mitigations.strategies`):
#
# | strategy | generation $t+1$ trains on |
# | --- | --- |
# | replace | $n$ samples of generation $t$ (the paper's recursion) |
# | accumulate | the original data and *every* generation's samples: $n(t+2)$ points {cite}`gerstgrasser2024collapse` |
# | accumulate-subsample | $n$ points drawn from that whole pool {cite}`kazdan2024collapse` |
# | fresh real data, share $r$ | $rn$ *new* draws from the truth, and $(1-r)n$ samples of generation $t$ |
# | fixed real data, share $r$ | $rn$ points of the *one* original sample (a new subset each generation), and $(1-r)n$ samples |
# | select | $n$ samples, each the likelier of two that generation $t$ writes, as scored by generation 0 |
#
# Fresh real data is what a stream of new human data would give; fixed real data is a stored data set,
# re-used: no new information ever arrives. For the language model, fresh text is new text written by the
# embedded language's own source (chapter 4); for the VAE, new images drawn from the pool of real training
# images, which is larger than one run's original sample but finite. **Select** is a verifier
# {cite}`feng2024beyond`: the generation-0 model's likelihood decides which sample to keep (for the VAE,
# its evidence lower bound; for the language model, chapter 4's `select` option). All runs of all strategies of a
# family start from the same original data and share their generation 0, so the strategies differ only by
# what they do afterwards.
#
# **One scale.** Each family keeps the measure of its own chapter: the squared Wasserstein-2 distance to
# $\mathcal N(0,1)$ (chapter 1), the squared $L_2$ distance to the true mixture density (chapter 2), the
# Fréchet distance between the judge's features of generated and of real held-out images (chapter 3), and
# the test loss per word in excess of the truth's own loss on the same words, an estimate of the KL divergence
# per word (chapter 4). Each is divided by the median over runs of its generation-0 value, so that 1 means
# "as close to the truth as the model fitted to real data", and a family stays **within the band** when its
# median ratio stays at or below the band at every generation (over long runs, averaged over windows of a
# twentieth of the generations, so that one noisy generation cannot decide). The **cheapest share** is the
# smallest share of real data on a family's grid that stays within the band.

# %% tags=["remove-input"]
prose.show(
    f"On this page the band is {BAND:g} times generation 0's distance, and fresh and fixed real "
    f"data are compared with the other strategies at a share of {prose.percent(SHARE)} (the phase diagrams "
    "below show every share that ran)."
)

# %% [markdown]
# Two departures from the earlier chapters, both for speed: the language model writes its data by
# sampling at temperature 1 rather than by the paper's beam search (sampling is what the follow-up studies
# use, and it costs much less than five beams; chapter 4 compares the two), and under accumulate the VAE trains on
# batches that grow with its pool, so that every generation takes the same number of optimiser steps.

# %% [markdown]
# (mitig-theory)=
# ## What follow-up work predicts
#
# Each of the works below studies one or two families, in a paper. Stated so that a run can disagree:
#
# - **Gerstgrasser et al.** {cite}`gerstgrasser2024collapse` prove for linear regression that replacing the
#   data lets the test error grow linearly in the generations, while accumulating it keeps the error below
#   $\pi^2/6$ times generation 0's; they show the same contrast for language models, VAEs and diffusion models.
# - **Kazdan et al.** {cite}`kazdan2024collapse` add accumulate-subsample (a fixed training-set size, drawn
#   from everything accumulated): worse than accumulating everything, better than replacing, a slow drift.
# - **Bertrand et al.** {cite}`bertrand2023stability` prove that retraining on real data plus a ratio
#   $\lambda$ of generated data is stable near the optimum when $\lambda(1 + L\varepsilon/\alpha) < 1/2$, where
#   $\varepsilon$ measures how far the family's best model is from the truth and $L$, $\alpha$ are smoothness
#   and curvature constants of the likelihood. For a family that contains the truth ($\varepsilon = 0$: the
#   Gaussian, and a two-component mixture of a two-component truth), that is a share of real data above
#   $2/3$: a sufficient condition, drawn on those phase diagrams; for neural networks the constants are unknown.
# - **Alemohammad et al.** {cite}`alemohammad2023selfconsuming`: without enough *fresh* real data each
#   generation, quality or diversity decline; a fixed set of real data only delays it; sampling biased towards
#   likely samples keeps quality longer but loses diversity faster.
# - **Dohmatob et al.** {cite}`dohmatob2024tale,dohmatob2024strong`: synthetic data cut the tails of the
#   distribution, which changes scaling laws, and even a small share of synthetic data in the training set
#   can keep a model from approaching the truth.
# - **Suresh et al.** {cite}`suresh2024rate` derive rates of collapse: for a Gaussian refitted by maximum
#   likelihood, the standard deviation falls towards zero on a time scale of about $n$ generations.
# - **Feng et al.** {cite}`feng2024beyond`: synthesized data can improve a model instead of collapsing it when a
#   verifier selects what is kept; how much depends on how good the verifier is.
#
# Under each family's results, a note per work says what it predicts for that family and whether this run
# agrees, computed from the run (the checks are in `mitigations.notes`).

# %% [markdown]
# (mitig-gaussian)=
# ## The Gaussian
#
# Chapter 1's recursion: fit a mean and an unbiased variance to $n$ points, draw $n$ points from the fit.
# Replace, accumulate and fresh real data run by the exact method of chapter 1 (the fitted mean and variance
# drawn from their sampling distributions, so thousands of runs cost little); the other three need the
# points themselves.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The Gaussian under each strategy: the squared Wasserstein-2 distance to the truth as a multiple of generation 0's, median and 10-90% of runs, with the band (dashed).", "name": "fig-mitig-gauss"}, "image": {"alt": "Distance from the truth over generations for six strategies, Gaussian"}}
G = RESULTS["gaussian"]
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.4))
plots.plot_strategies(G, ax=ax, band=BAND)
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(mitigations.strategies_sentence(G, BAND))

# %% [markdown]
# **Exact theory.** For the Gaussian, the expected squared error of the fitted mean, $V_t = \mathbb
# E[\mu_t^2]$, obeys a linear recursion under every strategy that keeps a share $r$ of real data
# ($k = rn$ real points and $m = n - k$ samples; derived in `mitigations.theory`). With fresh real data
#
# $$
# V_t = \frac{k}{n^2} + \Bigl(\frac{m}{n}\Bigr)^2 V_{t-1} + \frac{m}{n^2}\,\mathbb E[\sigma^2_{t-1}],
# $$
#
# so the error settles near $V_0 / (r(2-r))$; with fixed real data the original sample's own error never
# averages away, and it settles near $V_0\,(1 + (1-r^2)/(r(2-r)))$. Under accumulate each generation's new
# points are a fraction $1/(t+2)$ of the pool, the steps shrink like $1/t$, and $V_t$ stays below
# $(\pi^2/6)\,V_0$: Gerstgrasser et al.'s bound, exactly, for this family. The figure puts the exact
# recursion beside the runs.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The Gaussian's exact theory: the fitted mean's expected squared error as a multiple of generation 0's (lines) beside the runs' mean (dots, with two standard errors), and Gerstgrasser et al.'s bound for accumulate (dotted).", "name": "fig-mitig-gauss-theory"}, "image": {"alt": "Exact and simulated squared error of the fitted mean against generation, log-log"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.4))
plots.plot_gaussian_theory(G, ax=ax)
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(mitigations.gaussian_theory_sentence(G, BAND))

# %% [markdown]
# **Phase diagrams.** Across every share of real data on the grid, fresh and fixed: the colour is the median
# distance as a multiple of generation 0's, the white steps mark where the run leaves the band, the black
# dashes where the exact theory of the fitted mean's error leaves it, and the dotted line Bertrand et al.'s
# sufficient share.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Phase diagrams of the Gaussian: share of real data against generation, coloured by the median distance as a multiple of generation 0's, for fresh (left) and fixed (right) real data. White steps: where this run leaves the band; black dashes: where the fitted mean's exact expected error leaves it; dotted: Bertrand et al.'s sufficient share.", "name": "fig-mitig-gauss-phase"}, "image": {"alt": "Two heat maps of distance against share of real data and generation, Gaussian"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2), sharey=True)
top = max(G.phase(k).max() for k in mitigations.SHARED)
for ax, kind in zip(axes, mitigations.SHARED):
    plots.plot_phase(G, kind, ax=ax, band=BAND, colorbar=kind == "fixed", vmax=top)
axes[1].set_ylabel("")
axes[0].legend(fontsize=9, loc="upper right", framealpha=0.9)
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(mitigations.phase_sentence(G, BAND))
prose.show(mitigations.notes_markdown(mitigations.theory_notes(G, BAND)))

# %% [markdown]
# (mitig-gmm)=
# ## The Gaussian mixture
#
# Chapter 2's recursion: a mixture of two Gaussians fitted by EM (all runs at once, each generation's EM
# starting from the previous generation's mixture) to $n$ points of two well-separated 2-D Gaussians. The
# distance is the squared $L_2$ distance between the fitted and the true densities, in closed form. A fitted
# component that narrows towards a point makes this distance very large: a collapse the measure sees.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The Gaussian mixture under each strategy: the squared L2 distance to the true density as a multiple of generation 0's, median and 10-90% of runs, with the band (dashed).", "name": "fig-mitig-gmm"}, "image": {"alt": "Distance from the truth over generations for six strategies, Gaussian mixture"}}
X = RESULTS["gmm"]
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.4))
plots.plot_strategies(X, ax=ax, band=BAND)
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(mitigations.strategies_sentence(X, BAND))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Phase diagrams of the Gaussian mixture, fresh (left) and fixed (right) real data: share of real data against generation, coloured by the median distance as a multiple of generation 0's. White steps: where this run leaves the band; dotted: Bertrand et al.'s sufficient share.", "name": "fig-mitig-gmm-phase"}, "image": {"alt": "Two heat maps of distance against share of real data and generation, Gaussian mixture"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2), sharey=True)
top = max(X.phase(k).max() for k in mitigations.SHARED)
for ax, kind in zip(axes, mitigations.SHARED):
    plots.plot_phase(X, kind, ax=ax, band=BAND, colorbar=kind == "fixed", vmax=top)
axes[1].set_ylabel("")
axes[0].legend(fontsize=9, loc="upper right", framealpha=0.9)
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(mitigations.phase_sentence(X, BAND))
prose.show(mitigations.notes_markdown(mitigations.theory_notes(X, BAND)))

# %% [markdown]
# (mitig-vae)=
# ## The VAE
#
# Chapter 3's recursion: a fresh VAE each generation, trained on images that the previous generation
# generated (one Bernoulli draw per pixel, a genuine sample of the model), with all runs' VAEs of a
# generation trained together. The judge is chapter 3's digit classifier, trained once on real images; the
# distance is the Fréchet distance between its features of generated images (decoder means) and of real
# held-out images.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The VAE under each strategy: the Fréchet distance to real images as a multiple of generation 0's, median and range of runs, with the band (dashed).", "name": "fig-mitig-vae"}, "image": {"alt": "Distance from the truth over generations for six strategies, VAE"}}
V = RESULTS["vae"]
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.4))
plots.plot_strategies(V, ax=ax, band=BAND)
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(mitigations.strategies_sentence(V, BAND))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Phase diagrams of the VAE, fresh (left) and fixed (right) real data: share of real data against generation, coloured by the median distance as a multiple of generation 0's. White steps: where this run leaves the band.", "name": "fig-mitig-vae-phase"}, "image": {"alt": "Two heat maps of distance against share of real data and generation, VAE"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2), sharey=True)
top = max(V.phase(k).max() for k in mitigations.SHARED)
for ax, kind in zip(axes, mitigations.SHARED):
    plots.plot_phase(V, kind, ax=ax, band=BAND, colorbar=kind == "fixed", vmax=top)
axes[1].set_ylabel("")
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(mitigations.phase_sentence(V, BAND))
prose.show(mitigations.notes_markdown(mitigations.theory_notes(V, BAND)))

# %% [markdown]
# (mitig-llm)=
# ## The language model
#
# Chapter 4's experiment, made small: the small OPT pretrained once on a related language (chapter 4's
# cached model where chapter 4 ran first), fine-tuned on blocks of the embedded language, every generation
# fine-tuned afresh from the pretrained weights on text written by the generation before. Each strategy is
# an option of chapter 4's `ExperimentConfig` (`mitigations.llm` lists them). The distance is the test loss
# per word in excess of the truth's loss on the same words.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The language model under each strategy: the excess test loss per word as a multiple of generation 0's, median and range of runs, with the band (dashed).", "name": "fig-mitig-llm"}, "image": {"alt": "Distance from the truth over generations for six strategies, language model"}}
L = RESULTS["llm"]
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.4))
plots.plot_strategies(L, ax=ax, band=BAND)
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(mitigations.strategies_sentence(L, BAND))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Phase diagrams of the language model, fresh (left) and fixed (right) real data: share of real data against generation, coloured by the median distance as a multiple of generation 0's. White steps: where this run leaves the band.", "name": "fig-mitig-llm-phase"}, "image": {"alt": "Two heat maps of distance against share of real data and generation, language model"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2), sharey=True)
top = max(L.phase(k).max() for k in mitigations.SHARED)
for ax, kind in zip(axes, mitigations.SHARED):
    plots.plot_phase(L, kind, ax=ax, band=BAND, colorbar=kind == "fixed", vmax=top)
axes[1].set_ylabel("")
fig.tight_layout()

# %% tags=["remove-input"]
prose.show(mitigations.phase_sentence(L, BAND))
prose.show(mitigations.notes_markdown(mitigations.theory_notes(L, BAND)))

# %% [markdown]
# (mitig-summary)=
# ## Summary table
#
# Family by strategy: the median distance after the last generation as a multiple of generation 0's, whether
# it stayed within the band at every generation, and whether it was still rising at the end (by more than a
# tenth over the second half of the generations); the last columns give the cheapest share of fresh and of
# fixed real data on the family's grid that stayed within the band. The families ran for different numbers
# of generations (last column): read each row against its own scale.

# %% tags=["remove-input"]
mitigations.summary_table(FAMILY_RESULTS, BAND).style.hide(axis="index")

# %% tags=["remove-input"]
prose.show(mitigations.cheapest_sentence(FAMILY_RESULTS, BAND))

# %% [markdown]
# (mitig-explore)=
# ## Explore
#
# The slider below shows, for a share of real data and its kind, every family's distance after its last
# generation beside replace and accumulate (`plots.plot_share`, the function behind the panels just below).
# It picks among the runs above and computes nothing; a family whose grid lacks a share says so.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function at three shares of fresh real data: every family's distance after its last generation (median and 10-90% of runs), beside replace (crosses) and accumulate (circles).", "name": "fig-mitig-multiples"}, "image": {"alt": "Three panels of each family's distance from the truth at three shares of fresh real data"}}
fig = widgets.small_multiples(
    plots.plot_share, "share", [0.25, 0.5, 1.0], fixed=dict(results=FAMILY_RESULTS, kind="fresh", band=BAND), ncols=3,
    panel_size=(COLUMN_WIDTH / 3, 3.0), label="share of fresh real data",
)
for ax in fig.axes:
    ax.tick_params(axis="x", labelrotation=90)
    if ax.get_legend():
        ax.get_legend().remove()

# %% tags=["remove-input"]
prose.show(live.explore_note("05_mitigations"))

# %%
live.explore(
    plots.plot_share,
    grid=dict(kind=list(mitigations.SHARED), share=list(P["explore_shares"])),
    fixed=dict(results=FAMILY_RESULTS, band=BAND),
    start=dict(kind="fresh", share=SHARE),
    alt="Each family's distance from the truth after its last generation, at a share of real data",
    caption="Every family's distance from the truth after its last generation (median and 10-90% of runs) at the "
            "chosen share and kind of real data, beside replace (crosses) and accumulate (circles); share 0 is "
            "replace. The runs are those of the sections above.",
    name="fig-mitig-explore",
    param_labels=dict(kind="real data", share="share of real data"),
)

# %% [markdown]
# ## Summary
#
# - Six strategies, four families, one scale: every distance from the truth divided by generation 0's, and one
#   band. The computed findings of this run are listed just below; the notes under each family say where this
#   run agrees with the follow-up work and where it does not.
# - For the Gaussian the mean's error has an exact theory under every strategy that keeps real data: fresh
#   real data at share $r$ settle it near $1/(r(2-r))$ times generation 0's, fixed real data near
#   $1 + (1-r^2)/(r(2-r))$ times, and accumulate keeps it under $\pi^2/6$ times.
# - Bertrand et al.'s condition (a share of real data above $2/3$ for a family that contains the truth) is
#   sufficient, not necessary; the Gaussian and mixture phase diagrams show where this run's boundary lies.
# - A verifier that keeps the likeliest samples is a biased sampler: the notes say which of Feng et al.'s and
#   Alemohammad et al.'s predictions this run follows for each family.

# %% tags=["remove-input"]
NOTES = {r.family: mitigations.theory_notes(r, BAND) for r in FAMILY_RESULTS}
prose.show(prose.findings(mitigations.findings(FAMILY_RESULTS, NOTES, BAND)))

# %% [markdown]
# ## Exercises
#
# 1. Derive the long-run error of the Gaussian's fitted mean with a share $r$ of fresh real data, assuming
#    $\mathbb E[\sigma^2_t] \approx 1$. What is the smallest share that keeps it within a band $B$ of
#    generation 0's? Compare with the Gaussian's phase diagram.
#
# :::{admonition} Solution
# :class: dropdown
# With $\mathbb E[\sigma^2] = 1$ the recursion reads $V_t = 1/n + (1-r)^2 V_{t-1}$, whose fixed point is
# $V_\infty = 1/(n(1-(1-r)^2)) = V_0 / (r(2-r))$. It stays within $B V_0$ when $r(2-r) \ge 1/B$, that is
# $r \ge 1 - \sqrt{1 - 1/B}$. `mitigations.exact_cheapest_share` computes the same bound from the exact
# recursion over the run's generations; the black dashes of the phase diagram draw it.
# :::
#
# 2. Why does fixed real data keep the Gaussian further from the truth than the same share of fresh real data?
#    Derive its long-run error.
#
# :::{admonition} Solution
# :class: dropdown
# The retained points are a subset of the one original sample, whose mean $\bar X$ is off by $1/n$ in
# expectation for ever: write $\mu_t = \bar X + e_t$. The deviation $e_t$ follows the fresh-data recursion
# with a smaller noise (a subset of a fixed sample varies less than new draws), and settles near
# $V_0 (1-r^2)/(r(2-r))$; adding the fixed part gives $V_0\,(1 + (1-r^2)/(r(2-r)))$, twice generation 0's at
# $r = 1/2$, against $4/3$ for fresh data. See `mitigations.theory.mean_error`.
# :::
#
# 3. Select keeps, of two samples, the one that generation 0 finds likelier. For a Gaussian, if the current
#    model equals generation 0, by what factor does selection shrink the variance in one generation?
#
# :::{admonition} Solution
# :class: dropdown
# The kept point is the one nearer the mean: $|X| = \min(|Z_1|, |Z_2|)$ in standard units, and
# $P(\min(|Z_1|,|Z_2|) > t) = (2(1-\Phi(t)))^2$, so
# $\mathbb E[X^2] = \int_0^\infty 2t\,(2(1-\Phi(t)))^2\,dt = 1 - 2/\pi \approx 0.36$
# (check it with `scipy.integrate.quad`). The variance shrinks by about that factor every generation, far faster
# than replace's drift of about $1/n$ per generation: a verifier that prefers typical samples is a strong bias
# towards the mode, Alemohammad et al.'s sampling bias.
# :::
#
# 4. With the slider, find the smallest share of fresh real data at which every family stays within the band
#    after its last generation. Is it the same for fixed real data?
#
# :::{admonition} Solution
# :class: dropdown
# Step the share up with "fresh" chosen until every diamond is under the dashed line, then switch to "fixed".
# The slider shows the last generation only; the summary table's last columns also require the band at
# every generation, so they can name a larger share.
# :::
#
# 5. Run the language model part with `retained_blocks="first"` (the same first blocks every generation) in
#    place of fixed real data. What do you expect, and why?
#
# :::{admonition} Solution
# :class: dropdown
# Build the configurations with `mitigations.llm.configs(...)`, replace the `"replace and fixed"` experiment's
# `retained_blocks` by `"first"` (`dataclasses.replace`), and run them with `experiment.run_many`. The same
# blocks every generation are a smaller real set than a fresh subset of all original blocks each time: each
# generation sees less real variety, so expect a distance at least as large as with `"random"` at the same share.
# :::
