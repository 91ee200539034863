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
# # Gaussian resampling error
#
# The simplest generative model there is: a single Gaussian. Fit its mean and
# variance to $n$ samples, draw $n$ new samples from the fit, fit again, and so on.
# Shumailov et al. {cite}`shumailov2023curse,shumailov2024nature` use exactly this
# recursion to show that model collapse needs no neural network at all: finite
# samples alone (*statistical approximation error*) make every run lose its tails
# first and, in the end, its whole variance.
#
# This chapter builds the intuition that the later chapters rely on:
#
# 1. the recursion, simulated for thousands of runs at once;
# 2. **early collapse**: the model forgets the tails of the original distribution;
# 3. **late collapse**: the variance goes to zero and the mean wanders off;
# 4. theory beside simulation, on the same axes, including the paper's first-order
#    Wasserstein formula and its condition on growing sample sizes;
# 5. the paper's three sources of error;
# 6. three data schedules, and two ways of keeping original data;
# 7. the discrete case, where collapse is the absorption of a Markov chain;
# 8. sliders to explore it all.
#
# Every number in the text below that depends on the run is computed by the code beside it
# (or printed just above it), so the chapter stays true at any seed.

# %% tags=["skip-execution", "remove-cell"]
# Colab only: install this book's helper package and its requirements.
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "model-collapse-book @ git+https://github.com/model-collapse-book/model-collapse"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])

# %%
import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from collapse_utils import gaussian, live, plotting, profiles, prose, widgets
from collapse_utils.plotting import COLUMN_WIDTH, first_below, plot_band
from collapse_utils.progress import progress
from collapse_utils.schedules import APPROACHES, SCHEDULE_NAMES, SCHEDULE_VARIANTS

plotting.style()

# n: samples per generation; schedule_*: the comparison of data schedules; growth_*: the
# sample-size experiment; categorical_runs: the discrete chain. Everything runs on the CPU:
# the `gpu` profile only goes further (the paper's scale or beyond, a few minutes at most).
# fmt: off
P = profiles.choose(
    quick=dict(explore_n=(10, 100), explore_generations=(100, 1000), n=100, generations=300, runs=500, schedule_generations=200, schedule_runs=100, multiples_runs=100,
               sweep_runs=500, growth_generations=200, growth_runs=1000, functional_n=1000, categorical_runs=1000),
    book=dict(explore_n=(10, 100, 1000), explore_generations=(100, 1000, 5000), n=100, generations=2000, runs=5000, schedule_generations=1000, schedule_runs=300, multiples_runs=200,
              sweep_runs=2000, growth_generations=1000, growth_runs=4000, functional_n=1000, categorical_runs=5000),
    paper=dict(explore_n=(10, 100, 1000), explore_generations=(100, 1000, 5000), n=100, generations=10000, runs=10000, schedule_generations=2000, schedule_runs=1000,
               multiples_runs=300, sweep_runs=5000, growth_generations=2000, growth_runs=10000, functional_n=1000,
               categorical_runs=20000),
    gpu=dict(explore_n=(10, 100, 1000), explore_generations=(100, 1000, 5000), n=100, generations=10000, runs=20000, schedule_generations=5000, schedule_runs=1000,
             multiples_runs=300, sweep_runs=10000, growth_generations=5000, growth_runs=20000, functional_n=1000,
             categorical_runs=20000),
)
# fmt: on
profiles.report("Chapter 1", P)
SCALE = f"profile '{profiles.current()}'"
prose.show(prose.ran_at([
    ("samples per generation $n$", P["n"], "any $M_i$ (the theory of supplementary section 3.1)"),
    ("generations (main figures)", P["generations"], "$t \\to \\infty$ (theory)"),
    ("independent runs", P["runs"], "not fixed (theory)"),
]))

# %% [markdown]
# ## The recursion
#
# The true distribution is $\mathcal N(0, 1)$. It is not a generation: **generation 0** is the Gaussian
# fitted to the original data, $n$ draws of the truth, and **generation $t+1$** is the Gaussian whose mean
# and variance are estimated from $n$ samples of generation $t$:
#
# $$
# x^{(t)}_1, \dots, x^{(t)}_n \sim \mathcal N(\mu_t, \sigma_t^2), \qquad
# \mu_{t+1} = \frac1n \sum_j x^{(t)}_j, \qquad
# \sigma^2_{t+1} = \frac1{n-1} \sum_j \bigl(x^{(t)}_j - \mu_{t+1}\bigr)^2 .
# $$
#
# So generation $t$ is the result of $t+1$ fits. As in the paper, the variance estimate is the *unbiased*
# one, so every single step is as faithful as a step can be: $\mathbb E[\sigma^2_{t+1} \mid \sigma^2_t] = \sigma^2_t$.
#
# For a Gaussian, the mean and the variance of the sample are *sufficient*: we know
# their exact joint distribution given the previous fit,
# $\mu_{t+1} \sim \mathcal N(\mu_t, \sigma_t^2/n)$ and
# $(n-1)\sigma^2_{t+1}/\sigma^2_t \sim \chi^2_{n-1}$, independently. So we do not need to
# draw the $n$ points at all: `gaussian.simulate(..., method="exact")` draws the two
# statistics directly, at a cost that does not depend on $n$, for all runs at once.
# (`method="sample"` draws the points; the tests check that both agree in distribution.)

# %%
run = gaussian.simulate(P["n"], P["generations"], P["runs"], seed=profiles.seed(0), method="exact")
g = run.generation
print(f"simulated {run.runs} runs x {run.generations + 1} generations, n = {run.n} ({run.method} method)")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Twelve runs of the recursion: the fitted mean (left) and the fitted standard deviation (right, log scale) of every generation.", "name": "fig-gauss-runs"}, "image": {"alt": "Fitted mean and fitted standard deviation of twelve runs against generation"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0))
for j in range(12):
    axes[0].plot(g, run.mean[:, j], lw=0.8)
    axes[1].plot(g, run.std[:, j], lw=0.8)
axes[0].set(title="fitted mean, 12 runs", xlabel="generation", ylabel=r"$\mu_t$")
axes[1].set(title="fitted standard deviation, 12 runs", xlabel="generation", ylabel=r"$\sigma_t$", yscale="log")
fig.suptitle(f"{run.runs} runs, n = {run.n} samples per generation ({SCALE})")
fig.tight_layout()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The fitted density of one run at a few generations, beside the true density (dotted).", "name": "fig-gauss-density"}, "image": {"alt": "Fitted Gaussian densities of one run at several generations and the true density"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.8))
x = np.linspace(-4, 4, 400)
ax.plot(x, stats.norm.pdf(x), "k:", lw=1.5, label="truth")
snapshots = [t for t in (0, 10, 100, 500, 1000, 2000, 10000) if t <= run.generations]
for t, color in zip(snapshots, plt.cm.viridis(np.linspace(0, 0.9, len(snapshots)))):
    ax.plot(x, stats.norm.pdf(x, run.mean[t, 0], run.std[t, 0]), color=color, label=f"gen {t}")
ax.set(title="the fitted density of run 0", xlabel="x", ylim=(0, 2.5))
ax.legend(ncol=2)
fig.tight_layout()

# %% [markdown]
# Each run is a different story, but the model behind them is the same: the mean is a random walk, and
# the standard deviation is a product of random factors, which (as we will see) shrinks in the long run.
# The density of a single run gets narrower and drifts away from the origin as its standard deviation falls.

# %% [markdown]
# ## Early collapse: the tails
#
# How much of the original distribution's *tails* does the fitted model still cover?
# For a threshold $c$, the model of generation $t$ assigns the mass
# $P_t(|X| > c) = \Phi\bigl(\tfrac{-c-\mu_t}{\sigma_t}\bigr) + 1 - \Phi\bigl(\tfrac{c-\mu_t}{\sigma_t}\bigr)$
# to the region beyond $c$ original standard deviations (`gaussian.tail_mass`). We compare it
# with the truth's, $2(1 - \Phi(c))$: a ratio of 1 means the tail is intact. Which halves first, a tail
# or the variance, is computed below and written into the title of {numref}`fig-gauss-early`.

# %%
thresholds = [2.0, 3.0, 4.0]
ratio = {c: gaussian.tail_mass(run.mean, run.var, c) / gaussian.tail_mass(0.0, 1.0, c) for c in thresholds}
median_ratio = {c: np.median(ratio[c], axis=1) for c in thresholds}
median_var = np.median(run.var, axis=1)
half = {c: first_below(median_ratio[c], 0.5) for c in thresholds}
half_var = first_below(median_var, 0.5)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Early collapse: the median run's tail mass beyond 2, 3 and 4 standard deviations of the truth and its variance, each relative to the truth; the dotted line marks one half. The title says which halved first at this seed.", "name": "fig-gauss-early"}, "image": {"alt": "Tail masses and variance of the median run relative to the truth, against generation"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6))
for c, color in zip(thresholds, ["C2", "C1", "C3"]):
    ax.plot(g, median_ratio[c], color=color, lw=2, label=rf"tail mass beyond {c:g}$\sigma$")
ax.plot(g, median_var, "k--", lw=1.5, label="variance")
ax.axhline(0.5, color="0.6", lw=0.8, ls=":")
ax.set_xscale("symlog", linthresh=1)
ax.set(xlim=(0, run.generations), xlabel="generation", ylabel="median run, relative to the truth", ylim=(0, 1.3))
ax.set_title(f"Early collapse: {gaussian.early_collapse_title(half, half_var)}\n(n = {run.n}, {run.runs} runs, {SCALE})")
ax.legend(loc="lower left")
fig.tight_layout()

# %% tags=["hide-input"]
prose.show(gaussian.early_collapse_sentence(half, half_var))

# %% [markdown]
# Two effects pull in opposite directions. A narrower model loses tail mass, and the further out the tail,
# the faster: the mass beyond $c$ depends on $\sigma_t$ through $\Phi(-c/\sigma_t)$, which is exponentially
# sensitive to $\sigma_t$ when $c$ is large. The sentence below computes it for a standard deviation 10% too
# small and a mean still at 0 (theory, not the run):

# %% tags=["hide-input"]
shrunk = {c: gaussian.tail_mass(0.0, 0.81, c) / gaussian.tail_mass(0.0, 1.0, c) for c in thresholds}
prose.show(
    "With σ = 0.9 the model keeps "
    + prose.join_words([f"{100 * shrunk[c]:.0f}% of the mass beyond {c:g}σ" for c in thresholds])
    + ", and 81% of the variance."
)

# %% [markdown]
# But the mean drifts as well, and a model whose mean has moved puts *more* mass into the tail on the side
# it moved to. That gain matters most for the nearer tails, so whether a tail halves before the variance
# depends on how far out it lies; the title of {numref}`fig-gauss-early` and the sentence under it say what happened in this
# run. Either way the far tails are lost while the bulk is still in place: this is the paper's **early
# model collapse**, in which the model still looks fine in the bulk while the improbable events of the
# original data are being forgotten.

# %% [markdown]
# ## Late collapse: the variance goes to zero, the mean drifts
#
# Over many generations the runs collapse. Below: the distribution of the fitted variance over runs
# at a few generations, the median and the mean over runs, and the fraction of runs whose standard
# deviation has fallen below a threshold.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The fitted variance: its distribution over runs at a few generations (left), and its median and mean over runs beside the theory (right).", "name": "fig-gauss-variance"}, "image": {"alt": "Histograms of the fitted variance at several generations, and its median and mean against generation"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2))
hist_gens = [t for t in (0, 10, 100, 1000, 2000, 10000) if t <= run.generations]
bins = np.logspace(-16, 1, 86)
for t, color in zip(hist_gens, plt.cm.viridis(np.linspace(0, 0.9, len(hist_gens)))):
    axes[0].hist(np.clip(run.var[t], 1e-16, None), bins=bins, histtype="step", color=color, lw=1.5, label=f"gen {t}")
axes[0].set(xscale="log", xlabel=r"fitted variance (below $10^{-16}$: first bin)", ylabel="runs",
            title="distribution over runs")
axes[0].legend()
axes[1].plot(g, median_var, label="median over runs")
axes[1].plot(g, run.var.mean(axis=1), label="mean over runs")
axes[1].axhline(1.0, color="k", ls=":", label=r"$\mathbb{E}[\sigma_t^2] = 1$")
axes[1].plot(g, np.exp(gaussian.expected_log_var(run.n, g)), "k--", lw=1, label=r"$\exp \mathbb{E}[\log \sigma_t^2]$")
axes[1].set(yscale="log", xlabel="generation", title="the variance (theory: black)")
axes[1].legend()
fig.tight_layout()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The share of runs whose fitted standard deviation has fallen below 0.5, 0.1 and 0.01.", "name": "fig-gauss-collapsed"}, "image": {"alt": "Share of collapsed runs against generation for three thresholds"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.8))
for thr in (0.5, 0.1, 0.01):
    ax.plot(g, gaussian.collapsed_fraction(run, thr), label=rf"$\sigma_t < {thr:g}$")
ax.set(xlabel="generation", ylabel="fraction of runs", title=f"collapsed runs ({SCALE})")
ax.legend()
fig.tight_layout()
print(
    f"generation {run.generations}: {100 * gaussian.collapsed_fraction(run, 0.1)[-1]:.1f}% of runs have sigma < 0.1, "
    f"median variance {median_var[-1]:.3g}, mean variance over runs {run.var[-1].mean():.3g}"
)

# %% [markdown]
# ### The paradox of the unbiased estimator
#
# The expected variance stays *exactly* 1 in every generation, since each step is unbiased and
# $\mathbb E[\sigma^2_{t+1}] = \mathbb E\bigl[\mathbb E[\sigma^2_{t+1} \mid \sigma^2_t]\bigr] = \mathbb E[\sigma_t^2]$.
# Yet the typical run collapses. Both are true because the variance is a *product* of independent
# factors, $\sigma_t^2 = \prod_{s=0}^{t} \chi^2_{n-1,s}/(n-1)$ (one per fit), so its logarithm is a random walk:
#
# $$
# \log \sigma_t^2 = \sum_{s=0}^{t} \log \frac{\chi^2_{n-1,s}}{n-1}, \qquad
# \mathbb E \log \frac{\chi^2_{n-1}}{n-1} = \psi\!\left(\tfrac{n-1}{2}\right) + \log\tfrac{2}{n-1} \approx -\tfrac{1}{n-1} < 0 .
# $$
#
# By Jensen's inequality the mean of the log is below the log of the mean: the walk drifts downwards,
# so $\log \sigma_t^2 \to -\infty$ almost surely. The expectation of 1 is held up by ever rarer runs with
# ever larger variance: $\operatorname{Var}[\sigma_t^2] = (1 + \tfrac{2}{n-1})^{t+1} - 1$ explodes. With a
# finite number of runs we do not see those runs, which is why the empirical mean above can fall too.
# (These formulas are derived here from the $\chi^2$ factors; the paper proves the almost-sure collapse.)

# %% [markdown]
# ## Theory beside simulation
#
# Everything about this recursion can be computed exactly, so let us check the simulation against it
# on the same axes (generation $t$ is $t+1$ fits):
#
# - **one step**: the sampling distributions of the fitted mean, $\mathcal N(\mu, \sigma^2/n)$, and of the
#   unbiased variance, $\sigma^2 \chi^2_{n-1}/(n-1)$ (textbook results);
# - **the log-variance**: mean $(t+1)\,[\psi(\tfrac{n-1}2) + \log\tfrac2{n-1}]$ and standard deviation
#   $\sqrt{(t+1)\,\psi'(\tfrac{n-1}2)}$ (derived here);
# - **the mean's drift**: $\operatorname{Var}[\mu_t] = (t+1)/n$, since $\mathbb E[\sigma^2_s] = 1$ for all $s$ (derived here).

# %%
small = gaussian.simulate(10, min(run.generations, 200), P["runs"], seed=profiles.seed(1), method="sample")
gs = small.generation
mu_theory, sd_theory = gaussian.expected_log_var(small.n, gs), gaussian.sd_log_var(small.n, gs)
z_scores = {
    "the mean of the log-variance": np.max(
        np.abs(small.log_var.mean(axis=1) - mu_theory) / (sd_theory / np.sqrt(small.runs))
    ),
    "the mean's drift": np.max(
        np.abs((run.mean**2).mean(axis=1) - gaussian.var_of_mean(run.n, g))
        / ((run.mean**2).std(axis=1) / np.sqrt(run.runs))
    ),
}

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the fitted mean and variance of generation 0 over runs, with their exact sampling distributions. Right: the log-variance over generations, a random walk with a downward drift, simulation beside theory.", "name": "fig-gauss-walk"}, "image": {"alt": "Sampling distributions of the fitted mean and variance, and the log-variance against generation"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2))
ax = axes[0]
ax.hist(small.var[0], bins=80, density=True, alpha=0.5, label="fitted variance")
xs = np.linspace(1e-3, small.var[0].max(), 400)
ax.plot(xs, gaussian.fitted_var_pdf(xs, 1.0, small.n), "k", label=r"$\chi^2_{n-1}/(n-1)$")
ax.hist(small.mean[0], bins=80, density=True, alpha=0.5, label="fitted mean")
xm = np.linspace(-1.5, 1.5, 400)
ax.plot(xm, gaussian.fitted_mean_pdf(xm, 0.0, 1.0, small.n), "C3", label=r"$\mathcal{N}(0, 1/n)$")
ax.set(title=f"generation 0, n = {small.n}", xlabel="value")
ax.legend()
ax = axes[1]
ax.fill_between(gs, mu_theory - sd_theory, mu_theory + sd_theory, color="k", alpha=0.15, label=r"theory: mean $\pm$ 1 sd")
ax.plot(gs, mu_theory, "k--", label="theory: mean")
ax.plot(gs, small.log_var.mean(axis=1), "C0", label="simulation: mean")
ax.plot(gs, small.log_var.mean(axis=1) + small.log_var.std(axis=1), "C0:", label=r"simulation: $\pm$ 1 sd")
ax.plot(gs, small.log_var.mean(axis=1) - small.log_var.std(axis=1), "C0:")
ax.set(title=r"$\log \sigma_t^2$: a random walk, drifting down", xlabel="generation")
ax.legend()
fig.tight_layout()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The mean drifts: the mean over runs of the squared fitted mean (with two standard errors), beside the theory (t + 1)/n.", "name": "fig-gauss-drift"}, "image": {"alt": "Mean squared fitted mean against generation, simulation and theory"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.0))
m2, se2 = (run.mean**2).mean(axis=1), (run.mean**2).std(axis=1) / np.sqrt(run.runs)
ax.plot(g, m2, "C0", label=r"simulation: mean of $\mu_t^2$ ($\pm$ 2 SE)")
ax.fill_between(g, m2 - 2 * se2, m2 + 2 * se2, color="C0", alpha=0.2, lw=0)
ax.plot(g, gaussian.var_of_mean(run.n, g), "k--", label=r"theory: $\mathrm{Var}[\mu_t] = (t+1)/n$")
ax.set(title=f"the mean drifts (n = {run.n}, {SCALE})", xlabel="generation")
ax.legend()
fig.tight_layout()

# %% tags=["hide-input"]
prose.show(gaussian.within_error_sentence(z_scores))

# %% [markdown]
# Where a curve leaves its band, look at the late generations: this is the paradox again. Once almost
# every simulated run has collapsed, its mean stops moving; the expectation $(t+1)/n$ keeps growing only
# thanks to runs whose variance is still large, runs so rare that a few thousand simulations do not
# contain them.

# %% [markdown]
# ## The Wasserstein-2 distance, and the paper's condition on sample sizes
#
# How far is generation $t$ from the truth? Between Gaussians the Wasserstein-2 distance is explicit,
# $W_2^2 = \mu_t^2 + (\sigma_t - 1)^2$. The paper's supplementary information (section 3.1.1, eq. 6)
# states, for sample sizes $M_i$ (generation $i$ fitted to $M_i$ points), to first order
# {cite}`shumailov2024nature`:
#
# > $\mathbb E\bigl[W_2^2(\mathcal N(\mu, \sigma^2), \mathcal N(\mu_{n+1}, \sigma^2_{n+1}))\bigr] = \tfrac32\,\sigma^2\bigl(\tfrac1{M_0} + \tfrac1{M_1} + \dots + \tfrac1{M_n}\bigr) + O(2),$
#
# and concludes that the distance stays finite only if $M_i$ grows *superlinearly*. (The paper's
# $\mu_{n+1}$ comes from $n+1$ fits: in this book's numbering it is generation $n$.) This chapter derives
# the exact expectation (`gaussian.expected_w2_sq_sizes`): the mean contributes $\sum_{i\le t} 1/M_i$
# and the standard deviation $2\bigl(1 - \prod_{i\le t} c_{M_i}\bigr)$ with
# $c_M = \mathbb E\sqrt{\chi^2_{M-1}/(M-1)} \approx 1 - \tfrac1{4M}$, which to first order adds
# $\tfrac12 \sum 1/M_i$: together the paper's $\tfrac32$. For a constant $M_i = n$ the exact value is
# $(t+1)/n + 2(1 - c_n^{t+1})$; the first-order formula holds while $t \ll n$ and overshoots once the
# variance term saturates (it cannot exceed 2, the distance of a point mass from $\sigma = 1$).

# %%
w2 = gaussian.wasserstein2_sq(run.mean, run.var)
const_sizes = np.full(run.generations + 1, run.n)
breakdown = gaussian.first_order_breakdown(run.n, run.generations, tolerance=0.1)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The expected squared Wasserstein-2 distance from the truth: the simulation (with two standard errors), the exact expectation, and the paper's first-order formula; the vertical line marks where the first-order formula is first 10% off.", "name": "fig-gauss-w2"}, "image": {"alt": "Expected squared Wasserstein-2 distance against generation: simulation, exact and first-order formula"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6))
m, se = w2.mean(axis=1), w2.std(axis=1) / np.sqrt(run.runs)
ax.plot(g, m, "C0", label=r"simulation: mean of $W_2^2$ ($\pm$ 2 SE)")
ax.fill_between(g, m - 2 * se, m + 2 * se, color="C0", alpha=0.2, lw=0)
ax.plot(g, gaussian.expected_w2_sq_sizes(const_sizes), "k--", label=r"exact: $(t+1)/n + 2(1-c_n^{t+1})$")
ax.plot(g, gaussian.w2_first_order(const_sizes), "C3:", lw=2, label=r"paper, first order: $\frac{3}{2}(t+1)/n$")
if breakdown is not None:
    ax.axvline(breakdown, color="0.5", lw=1)
    ax.text(breakdown, ax.get_ylim()[1] * 0.9, " first order 10% off", fontsize=9, va="top")
ax.set(xscale="symlog", yscale="log", xlabel="generation", ylabel=r"$\mathbb{E}[W_2^2]$", xlim=(0, run.generations),
       title=f"distance from the truth, n = {run.n} ({SCALE})")
ax.legend(loc="upper left")
fig.tight_layout()

# %% tags=["hide-input"]
where = (
    f"generation {breakdown} (about {breakdown / run.n:.1f} n)" if breakdown is not None
    else f"no generation up to {run.generations}"
)
z_w2 = np.max(np.abs(m - gaussian.expected_w2_sq_sizes(const_sizes)) / np.where(se > 0, se, np.inf))
prose.show(
    f"The first-order formula is first more than 10% off the exact expectation at {where}. "
    + gaussian.within_error_sentence({"the mean of $W_2^2$": z_w2})
)

# %% [markdown]
# Now the paper's condition. We let the sample size **stay constant**, **grow linearly**, $M_i = M_0 (i+1)$,
# or **grow superlinearly**, $M_i = M_0 (i+1)^2$ (`gaussian.sample_sizes`), starting from $M_0 = 10$, and
# simulate each schedule (`gaussian.simulate_sizes`, exact method). $\sum 1/M_i$ diverges for the first two
# (like $t$ and like $\log t$) and converges for the third.

# %%
M0, GG = 10, P["growth_generations"]
growth = {}
for k, name in enumerate(progress(gaussian.GROWTHS, desc="growth")):
    sizes = gaussian.sample_sizes(M0, GG, name)
    r = gaussian.simulate_sizes(sizes, P["growth_runs"], seed=profiles.seed(10 + k))
    growth[name] = (sizes, gaussian.wasserstein2_sq(r.mean, r.var))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The expected squared Wasserstein-2 distance when the sample size stays constant, grows linearly or grows superlinearly: simulation (bands), exact expectation (dashed) and the paper's first-order formula (dotted).", "name": "fig-gauss-growth"}, "image": {"alt": "Expected squared Wasserstein-2 distance for constant, linear and superlinear sample sizes"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.6))
gg = np.arange(GG + 1)
for (name, (sizes, d)), color in zip(growth.items(), ["C3", "C1", "C2"]):
    m, se = d.mean(axis=1), d.std(axis=1) / np.sqrt(d.shape[1])
    ax.plot(gg, m, color=color, label=f"{name}: simulation")
    ax.fill_between(gg, np.maximum(m - 2 * se, 0.5 * m), m + 2 * se, color=color, alpha=0.2, lw=0)
    ax.plot(gg, gaussian.expected_w2_sq_sizes(sizes), "k--", lw=1)
    ax.plot(gg, gaussian.w2_first_order(sizes), ":", color=color, lw=1.5)
ax.plot([], [], "k--", lw=1, label="exact")
ax.plot([], [], "k:", lw=1.5, label="paper, first order")
ax.set(xscale="symlog", yscale="log", xlabel="generation", ylabel=r"$\mathbb{E}[W_2^2]$", xlim=(0, GG),
       title=f"sample sizes from $M_0$ = {M0}: constant, linear, superlinear ({P['growth_runs']} runs, {SCALE})")
ax.legend(ncol=2)
fig.tight_layout()

# %% tags=["hide-input"]
prose.show(gaussian.growth_sentence({name: d.mean(axis=1) for name, (sizes, d) in growth.items()}))

# %% [markdown]
# Only a superlinear growth of the sample size keeps the distance bounded, as the paper states: the
# constant schedule heads towards the collapsed state (and then walks away with its mean), the linear one
# keeps creeping, as slowly as a logarithm. A model trained on its own output must be fed ever more data,
# faster than generations pass, to stay where it started.

# %% [markdown]
# ## Three kinds of error
#
# The Nature version of the paper names three sources of error that compound over generations
# {cite}`shumailov2024nature`: **statistical approximation error** (finitely many samples),
# **functional expressivity error** (a model family that cannot represent the data) and
# **functional approximation error** (the limits of the learning procedure itself, such as a biased
# optimiser). The arXiv version {cite}`shumailov2023curse` folds expressivity into functional
# approximation error. The first two are visible already in this chapter; the third appears with the
# trained models of the later chapters.
#
# **Statistical approximation error** comes from the finite sample: with more samples per generation
# the drift per fit, about $-1/(n-1)$ in the log-variance, is smaller, so collapse is slower, but it
# still comes. In theory the median variance halves after about $(n-1)\ln 2$ fits:

# %%
ns = [5, 10, 20, 50, 100, 200, 500]
half_times = []
for k, n_ in enumerate(progress(ns, desc="n")):
    r = gaussian.simulate(n_, int(4 * n_), P["sweep_runs"], seed=profiles.seed(20 + k), method="exact")
    half_times.append(first_below(np.median(r.var, axis=1), 0.5))
# generation t is t + 1 fits: the median log-variance reaches log(1/2) after log(1/2) / drift fits
theory_half = [np.log(0.5) / gaussian.log_var_drift(n_) - 1 for n_ in ns]

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Statistical approximation error: the generation at which the median fitted variance has halved, against the number of samples per generation, simulation beside theory.", "name": "fig-gauss-halving"}, "image": {"alt": "Generation at which the median variance halves, against the sample size"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.2))
ax.plot(ns, half_times, "o-", label=f"simulation (median of {P['sweep_runs']} runs)")
ax.plot(ns, theory_half, "k--", label=r"theory: $\ln 2 / |\mathbb{E}\log(\chi^2_{n-1}/(n-1))| - 1$")
ax.set(xscale="log", yscale="log", xlabel="samples per generation n", ylabel="generation",
       title="statistical approximation error: when the median variance has halved")
ax.legend()
fig.tight_layout()

# %% [markdown]
# The static panels below are what the slider at the end of the chapter shows for a few values of $n$,
# side by side. Thin lines are single runs; the band holds 80% of the runs.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function at four sample sizes n: single runs, median and 10-90% band of the fitted standard deviation.", "name": "fig-gauss-multiples-n"}, "image": {"alt": "Fitted standard deviation against generation for four sample sizes"}}
fig = widgets.small_multiples(
    gaussian.plot_collapse,
    "n",
    [10, 30, 100, 300],
    fixed=dict(generations=min(1000, P["generations"]), runs=P["multiples_runs"], seed=profiles.seed(2), title=False,
               budget=None),
    ncols=2,
    panel_size=(COLUMN_WIDTH / 2, 2.5),
    suptitle=f"fitted standard deviation over generations, for four sample sizes n ({SCALE})",
)

# %% [markdown]
# **Functional expressivity error** comes from a model family that cannot represent the data. Fit a
# single Gaussian to data from a two-mode mixture: even with plenty of samples, the fit is one bump, and
# from generation 0 on the two modes are gone for good; what follows is the same recursion as before.
# The mixture here, $\tfrac12\mathcal N(-a, 1-a^2) + \tfrac12\mathcal N(a, 1-a^2)$ with $a = 0.9$, has
# mean 0 and variance 1, so the best single Gaussian is exactly $\mathcal N(0, 1)$.

# %%
mixture = gaussian.two_mode_mixture(0.9)
fn = gaussian.simulate(P["functional_n"], 50, 200, original=mixture, seed=profiles.seed(3), keep_samples=True)
mass_original = np.mean(np.abs(mixture((200_000,), np.random.default_rng(profiles.seed(4)))) < 0.3)
mass_fit = 1 - np.median(gaussian.tail_mass(fn.mean[0], fn.var[0], 0.3))
print(f"mass near 0 (|x| < 0.3): original {mass_original:.3f}, single-Gaussian fit (generation 0) {mass_fit:.3f}")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Functional expressivity error: one Gaussian fitted to data from two modes, at generations 0, 10 and 50 (left), and the mass each puts between the modes (right).", "name": "fig-gauss-expressivity"}, "image": {"alt": "A bimodal histogram with single Gaussian fits, and the mass between the modes"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0), gridspec_kw=dict(width_ratios=[2, 1]))
x = np.linspace(-3.5, 3.5, 500)
axes[0].hist(fn.samples[0, 0], bins=60, density=True, alpha=0.4, label="original data")
axes[0].plot(x, gaussian.two_mode_pdf(x, 0.9), "k", label="true density")
for t, color in [(0, "C1"), (10, "C2"), (50, "C3")]:
    axes[0].plot(x, stats.norm.pdf(x, fn.mean[t, 0], fn.std[t, 0]), color=color, label=f"fit, generation {t}")
axes[0].set(title=f"one Gaussian fitted to two modes (n = {fn.n})", xlabel="x")
axes[0].legend(fontsize=9)
axes[1].bar(["truth", "fit\n(gen 0)"], [mass_original, mass_fit], color=["k", "C1"])
axes[1].set(title=r"mass in $|x| < 0.3$")
fig.tight_layout()

# %% [markdown]
# The single Gaussian puts its largest density exactly where the truth has its least (compare the two
# masses printed above), and it loses the two modes at once, whatever $n$. Statistical error is slow and
# random; expressivity error is immediate and systematic. In the next chapter a mixture model *can*
# represent two modes, and we will see the statistical error slowly take them apart anyway.

# %% [markdown]
# ## Three data schedules, and keeping original data
#
# Shumailov et al.'s theory uses **replacement**: each generation fits only the previous model's samples.
# Their supplementary experiments also fit a fixed-size sample of the pooled data of all generations and
# the whole pool. Follow-up work names these three schedules *replace*, *accumulate-subsample* and
# *accumulate*, and shows that accumulating data avoids collapse {cite}`gerstgrasser2024collapse`; see also
# {cite}`kazdan2024collapse`. This book uses their names as its framing, and keeps the numbers as the API (`approach` in
# `collapse_utils`):
#
# 1. **replace**: samples of the latest model only (what we did so far);
# 2. **accumulate-subsample**: the latest samples join the pool of all earlier generations' data (the
#    original data included), and the training set is $n$ points subsampled from the pool;
# 3. **accumulate**: the *whole* pool, which grows by $n$ points a generation.
#
# A fourth knob, `retention`, makes a fraction of each generation's new data original data. Approaches 1
# and 3 run with the exact method (the pool is merged through its sufficient statistics); approach 2 needs
# the actual points and runs with the sample method, which stores each run's pool once and draws each
# training set by index.

# %%
SG, SR, n = P["schedule_generations"], P["schedule_runs"], P["n"]
results = {
    name: gaussian.simulate(n, SG, SR, seed=profiles.seed(5), **kw)
    for name, kw in progress(SCHEDULE_VARIANTS.items(), desc="schedules")
}
label = {name: name.replace(f"approach {k}", f"{k}: {SCHEDULE_NAMES[k]}") for k in SCHEDULE_NAMES for name in results
         if name.startswith(f"approach {k}")}

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The data schedules and fresh retention compared: the fitted standard deviation (median and 10-90% band over runs, left) and the median squared Wasserstein-2 distance from the truth (right).", "name": "fig-gauss-schedules"}, "image": {"alt": "Fitted standard deviation and distance from the truth for each data schedule"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.4))
for (name, r), color in zip(results.items(), ["C3", "C1", "C2", "C0", "C4"]):
    plot_band(axes[0], r.generation, r.std.T, color=color, label=label[name])
    axes[1].plot(r.generation, np.median(gaussian.wasserstein2_sq(r.mean, r.var), axis=1), color=color)
axes[0].set(yscale="log", xlabel="generation", ylabel=r"fitted $\sigma_t$ (median, 10-90%)", title=f"n = {n}, {SR} runs each")
axes[1].set(yscale="log", xlabel="generation", ylabel=r"median $W_2^2$ from the truth", title=f"distance ({SCALE})")
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=9)
fig.tight_layout(rect=(0, 0.14, 1, 1))
for name, r in results.items():
    print(
        f"{label[name]:40s} generation {SG}: median sigma {np.median(r.std[-1]):.3f}, "
        f"runs with sigma < 0.5: {100 * np.mean(r.std[-1] < 0.5):.0f}% ({r.method} method)"
    )

# %% tags=["hide-input"]
prose.show(gaussian.schedules_sentence({label[name]: r.std[-1] for name, r in results.items()}))

# %% [markdown]
# What the theory says about each schedule, to read beside {numref}`fig-gauss-schedules`:
#
# - **Replace** collapses, as above.
# - **Accumulate** has a training set that grows, so each new estimate is more precise than the last:
#   the steps of the random walk shrink like $1/t$, their variances sum like $\sum 1/t^2 < \infty$, and
#   the walk converges instead of drifting.
# - **Accumulate-subsample** re-estimates from only $n$ points each generation, so it is noisier than
#   accumulate, but those points come from a pool that changes by a fraction $1/(t+1)$ per generation
#   and still holds the original data. (The pool's synthetic share grows; with a model that makes
#   systematic errors, unlike this exact Gaussian fit, those errors would accumulate in it.)
# - **Retention** pulls every generation back towards the truth.
#
# ### Two kinds of retention
#
# "Keeping original data" means two different things. In this chapter, by default, the retained points
# are **fresh** draws from the true distribution every generation: an unlimited supply of new real data.
# In chapters 2-4 they are a **fixed** set: a random subset, drawn anew each generation, of the *one*
# original sample. Fresh data bring new information every generation; a fixed sample only keeps repeating
# what generation 0 saw, so a run stays near its own generation-0 fit, errors included
# (`retained="fresh"` or `"fixed"` in `gaussian.simulate`).

# %%
kinds = {
    kind: gaussian.simulate(n, SG, SR, retention=0.5, retained=kind, seed=profiles.seed(6))
    for kind in progress(("fresh", "fixed"), desc="retention kinds")
}

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Fresh against fixed retention (half of each generation's data original): the fitted standard deviation over generations (left), and each run's value at the last generation against generation 0 (right).", "name": "fig-gauss-retention-kinds"}, "image": {"alt": "Fitted standard deviation under fresh and fixed retention"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2))
for (kind, r), color in zip(kinds.items(), ["C0", "C1"]):
    plot_band(axes[0], r.generation, r.std.T, color=color, label=f"{kind} ({r.method} method)")
    axes[1].scatter(r.std[0], r.std[-1], s=6, color=color, alpha=0.5, label=kind)
axes[0].set(xlabel="generation", ylabel=r"fitted $\sigma_t$", title=f"retention 0.5, replace, n = {n}")
axes[0].legend()
axes[1].set(xlabel=r"$\sigma$ at generation 0", ylabel=rf"$\sigma$ at generation {SG}", title=f"each dot a run ({SCALE})")
axes[1].legend()
fig.tight_layout()

# %% tags=["hide-input"]
prose.show(gaussian.retention_kinds_sentence({f"{k} retention": r.std[-1] for k, r in kinds.items()}))
corr = {k: np.corrcoef(r.std[0], r.std[-1])[0, 1] for k, r in kinds.items()}
print("correlation of each run's sigma at generation 0 and at the last generation: "
      + ", ".join(f"{k} {v:.2f}" for k, v in corr.items()))

# %% [markdown]
# Theory expects the difference to show in the right panel: with a fixed sample, the last generation
# should remember the first (a run whose original sample was narrow stays narrow), while fresh data make
# the runs forget where they started; the correlations printed above measure it at this seed. (Half of
# each generation's data is retained here, to make the contrast visible.) The static panels below vary the schedule and the retention with everything else
# fixed; the slider at the end does the same interactively.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function for the three data schedules.", "name": "fig-gauss-multiples-schedule"}, "image": {"alt": "Fitted standard deviation against generation for the three data schedules"}}
fixed = dict(n=n, generations=min(SG, 500), runs=P["multiples_runs"], seed=profiles.seed(7), title=False, budget=None)
fig = widgets.small_multiples(
    gaussian.plot_collapse, "approach", [1, 2, 3], fixed=fixed, ncols=3, panel_size=(COLUMN_WIDTH / 3, 2.4),
    suptitle=f"fitted standard deviation, by data schedule ({SCALE})",
)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function for four fractions of fresh retention, under replace.", "name": "fig-gauss-multiples-retention"}, "image": {"alt": "Fitted standard deviation against generation for four retention fractions"}}
fig = widgets.small_multiples(
    gaussian.plot_collapse, "retention", [0.0, 0.01, 0.1, 0.5], fixed=fixed, ncols=2,
    panel_size=(COLUMN_WIDTH / 2, 2.4), suptitle=f"fitted standard deviation, by (fresh) retention, replace ({SCALE})",
)

# %% [markdown]
# ## Discrete distributions: a Markov chain with absorbing states
#
# For a categorical distribution, "fit" means "count": the next model's probabilities are the
# frequencies of $n$ draws (generation 0 counts $n$ draws of the true probabilities). This is the
# Wright-Fisher model of population genetics {cite}`ewens2004mathematical`. A category that gets no draw
# has probability 0 for ever after, so the chain's only absorbing states are distributions on a single
# point: every run ends as a delta function. Rare categories go first: in one generation, a category of
# probability $p$ is lost with probability $(1-p)^n$. And the paper states that each state becomes the
# absorbing state with probability equal to its original probability {cite}`shumailov2024nature`: the
# frequency of each category is a martingale (exercise 4).

# %%
probs = np.array([0.5, 0.25, 0.12, 0.06, 0.04, 0.02, 0.01])
cat = gaussian.simulate_categorical(probs, n=30, generations=600, runs=P["categorical_runs"], seed=profiles.seed(8))
frequencies, absorbed = cat.absorbing_frequencies()
one = gaussian.simulate_categorical(probs, n=100, generations=0, runs=P["categorical_runs"], seed=profiles.seed(9))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "A discrete distribution resampled: the share of runs in which each category survives (left), and how often each category becomes the absorbing state against its original probability (right).", "name": "fig-gauss-absorbing"}, "image": {"alt": "Survival curves per category and absorbing-state frequencies against original probabilities"}}
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.2))
surv = cat.survival()
for i, p in enumerate(probs):
    axes[0].plot(np.arange(surv.shape[0]), surv[:, i], label=f"{p:g}")
axes[0].axhline(0, color="0.7", lw=0.5)
axes[0].set(xscale="symlog", xlabel="generation", ylabel="fraction of runs alive", xlim=(0, surv.shape[0] - 1),
            title=f"survival per category, n = {cat.n}")
axes[0].legend(fontsize=9, ncol=2, loc="upper right", title="original p")
se = np.sqrt(probs * (1 - probs) / max(absorbed, 1))
axes[1].errorbar(probs, frequencies, yerr=2 * se, fmt="o", label=r"simulation ($\pm$ 2 SE)")
axes[1].plot([0, 0.55], [0, 0.55], "k--", lw=1, label="original probability")
axes[1].set(xlabel="original probability p", ylabel="absorbing-state frequency", title=f"{absorbed} absorbed runs ({SCALE})")
axes[1].legend()
fig.tight_layout()

# %% tags=["hide-input"]
prose.show(gaussian.absorption_sentence(frequencies, probs, absorbed))

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Left: the probability that a category is lost in one resampling step of n = 100 draws, simulation beside theory. Right: the time to absorption for two categories, its simulated mean and the Kimura-Ohta approximation.", "name": "fig-gauss-absorption-time"}, "image": {"alt": "Probability of losing a category in one step, and a histogram of absorption times"}}
two = gaussian.simulate_categorical(np.array([0.2, 0.8]), n=100, generations=1000, runs=P["categorical_runs"],
                                    seed=profiles.seed(11))
steps = two.absorption_time() + 1  # resampling steps from the truth
done = steps[steps > 0]
fig, axes = plt.subplots(1, 2, figsize=(COLUMN_WIDTH, 3.0))
ps = np.linspace(0.001, 0.1, 200)
axes[0].plot(ps, gaussian.loss_probability(ps, 100), "k--", label=r"theory: $(1-p)^n$")
axes[0].plot(probs, (one.counts[0] == 0).mean(axis=0), "o", label="simulation")
axes[0].set(xlabel="probability p of the category", ylabel="P(lost in one step)", title="n = 100 draws", xlim=(0, 0.1))
axes[0].legend()
axes[1].hist(done, bins=60, density=True, alpha=0.6)
expected = gaussian.expected_absorption_time(0.2, 100)
axes[1].axvline(done.mean(), color="C0", label=f"simulated mean {done.mean():.0f}")
axes[1].axvline(expected, color="k", ls="--", label=f"Kimura-Ohta: {expected:.0f}")
axes[1].set(xlabel="resampling steps", title="time to absorption, p = (0.2, 0.8)")
axes[1].legend()
fig.tight_layout()
print(
    f"{100 * np.mean(steps <= 0):.2f}% of runs not yet absorbed after {two.counts.shape[0]} steps; "
    f"category 1 (p = 0.2) won in {100 * np.mean(two.counts[-1, :, 0] > 0):.1f}% of runs (theory: 20%)"
)

# %% [markdown]
# The time to absorption has a long right tail; its mean is compared above with the diffusion approximation
# $\mathbb E[T] \approx -2n\,[p\ln p + (1-p)\ln(1-p)]$ {cite}`kimura1969average`. Since each category
# survives with probability equal to its initial share, the *common* outcome is the one that usually
# remains: collapse erases the rare.

# %% [markdown]
# ## Explore
#
# The sliders drive `gaussian.plot_collapse`, the function behind every small-multiples figure above. In
# the rendered book they step through frames of that function drawn when the book was built, over a grid
# of $n$, generations, schedule and retention (fresh); in a running notebook they compute at any value,
# when you release them, and offer fixed retention too. Schedule 2 and fixed retention need the actual points: at their slowest positions (large
# $n$ and many generations) the slider simulates as many of the 200 runs as this machine manages in about
# a second, so that every position answers within about two seconds, and the title says how many. (The
# static figures above always use every run.)

# %%
prose.show(live.explore_note("01_gaussian"))
ipw_controls = dict(
    n=ipw.IntSlider(value=100, min=2, max=1000, step=1, description="n"),
    generations=ipw.IntSlider(value=1000, min=10, max=5000, step=10, description="generations"),
    approach=ipw.Dropdown(options=[(f"{k}: {v}", k) for k, v in APPROACHES.items()], value=1, description="schedule"),
    retention=ipw.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, description="retention"),
    retained=ipw.Dropdown(options=["fresh", "fixed"], value="fresh", description="retained"),
)
live.explore(
    gaussian.plot_collapse,
    grid=dict(n=list(P["explore_n"]), generations=list(P["explore_generations"]), approach=[1, 2, 3],
              retention=[0.0, 0.1]),
    controls=ipw_controls,
    fixed=dict(runs=200, seed=profiles.seed(0)),
    start=dict(n=100, generations=1000 if 1000 in P["explore_generations"] else P["explore_generations"][0]),
    alt="Fitted standard deviation over generations: single runs, median and 10-90% band",
    value_labels=dict(approach=SCHEDULE_NAMES),
    caption="Fitted standard deviation over generations at the chosen sample size, number of generations, schedule "
            "and retention of fresh data: single runs, the median and the 10-90% band of 50 runs, each simulated in "
            "full (a running notebook simulates 200, as many as time allows).",
    name="fig-gauss-explore",
    param_labels=dict(approach="schedule", retention="fresh retention"),
    book_fixed=dict(runs=50),
)

# %% [markdown]
# ## Summary
#
# - Recursively fitting a Gaussian to its own samples is a random walk of the parameters. The log-variance
#   drifts down by about $1/(n-1)$ per fit, so **runs collapse** to a point almost surely, even though the
#   unbiased estimator keeps the *expected* variance at exactly 1.
# - **Early collapse**: a narrower model loses its far tails fastest; {numref}`fig-gauss-early` shows, at
#   this seed, which tails halve before the variance (the nearer tails can gain mass as the mean drifts).
# - **The mean drifts** with variance $(t+1)/n$, so the distance from the truth grows without bound. The
#   paper's first-order $\mathbb E[W_2^2] = \tfrac32\sigma^2\sum_i 1/M_i$ holds while $t \ll n$; only sample
#   sizes that grow superlinearly keep it finite.
# - Three errors (Nature's names): statistical approximation error slows down linearly in $n$ but does not
#   stop; functional expressivity error (one Gaussian for two modes) loses structure at once; functional
#   approximation error comes with the learning procedures of the later chapters.
# - The schedules: replace collapses; accumulate does not; accumulate-subsample is noisier; retention of
#   fresh data pulls the runs back to the truth, retention of a fixed sample ties each run to its start.
# - For discrete distributions, collapse is absorption in a Markov chain: rare categories are lost first,
#   with probability $(1-p)^n$ per step, and each category ends as the absorbing state with probability
#   equal to its original probability.
#
# ## Exercises
#
# 1. Replace the unbiased variance by the maximum-likelihood one ($1/n$ instead of $1/(n-1)$). How does the
#    drift of $\log \sigma_t^2$ change? Predict it before you simulate.
#
# :::{admonition} Solution
# :class: dropdown
# Each factor is multiplied by $(n-1)/n$, which adds $\log(1 - 1/n) \approx -1/n$ to the drift: collapse is
# about twice as fast, and now even the expected variance shrinks, $\mathbb E[\sigma_t^2] = ((n-1)/n)^{t+1}$.
# :::
#
# 2. Under accumulate (approach 3), the training set at generation $t$ holds $n(t+1)$ points. Argue why the
#    variance of $\log \sigma^2_t$ stays bounded. Check it with `gaussian.simulate(..., approach=3)`.
#
# :::{admonition} Solution
# :class: dropdown
# The new data of generation $t$ are a fraction $1/(t+1)$ of the pool, so the fit changes by a step of size
# $O(1/t)$ with random sign. The variances of the steps sum like $\sum 1/t^2 < \infty$, so the walk converges
# instead of drifting. `np.log(run.var).std(axis=1)` levels off.
# :::
#
# 3. With fresh retention $r$, what is the smallest $r$ that keeps the median $\sigma_t$ above 0.5 after 1000
#    generations for $n = 100$? Use the slider or a loop over `retention`.
#
# :::{admonition} Solution
# :class: dropdown
# Run `[np.median(gaussian.simulate(100, 1000, 500, retention=r, seed=0).std[-1]) for r in (0, 0.01, 0.02, 0.05)]`.
# The original points pull every generation back towards $\mathcal N(0,1)$ while the downward drift is only
# about $1/(n-1)$ per generation, so a small $r$ suffices; the loop tells you how small at this $n$.
# :::
#
# 4. For the categorical chain with two categories of probability $p$ and $1-p$, show that the probability
#    that the first category is the one that survives is $p$.
#
# :::{admonition} Solution
# :class: dropdown
# The frequency of the first category is a martingale ($\mathbb E[\text{count}_{t+1}/n \mid \text{count}_t] = \text{count}_t/n$,
# and generation 0's expected frequency is $p$) that ends at 0 or 1. By optional stopping its expected final
# value equals its initial value $p$, which is the probability of ending at 1.
# :::
