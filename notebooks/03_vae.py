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
# # 3. Variational autoencoders
#
# Chapters 1 and 2 fitted models whose parameters we could write down: a mean and a variance, a
# mixture of two Gaussians. The paper's third experiment {cite}`shumailov2023curse,shumailov2024nature`
# takes a neural generative model, a **variational autoencoder** (VAE) {cite}`kingma2014vae`, trained
# on handwritten digits. Generation 0 learns from real images. Every later generation is a fresh VAE
# trained *only* on images that the previous generation generated. The paper's Figure 9 shows random
# samples of successive generations; in the authors' description, the modes of the original
# distribution get entangled and the generated data start to look unimodal.
#
# Here we reproduce that picture and then *measure* it:
#
# 1. the data: MNIST {cite}`lecun1998mnist` when it can be downloaded, scikit-learn's 8×8 digits
#    {cite}`alpaydin1998digits` otherwise;
# 2. the model: a small VAE, and what "a sample of a VAE" means;
# 3. a judge: a digit classifier trained once on real images, and four numbers it gives us;
# 4. the recursion, generation by generation (the paper's Figure 9);
# 5. which digits vanish first, and how fast the samples lose their variety;
# 6. how the next generation is fed matters: decoder means collapse within a few generations;
# 7. keeping a share of real images;
# 8. sliders to explore the stored runs.

# %% tags=["skip-execution", "remove-cell"]
# Colab only: install this book's helper package and its requirements.
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "model-collapse-book @ git+https://github.com/model-collapse-book/model-collapse"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])

# %%
import dataclasses

import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from collapse_utils import profiles, vae, widgets

# generations: after generation 0; seeds: independent runs without retention; epochs: per generation;
# retentions: runs that keep a share of real images; compare_generations: the run on decoder means;
# n_eval: samples per generation for the measures; threads: torch CPU threads (None: torch's default)
# fmt: off
P = profiles.choose(
    quick=dict(source="digits", max_train=400, max_test=200, generations=3, seeds=1, epochs=10, latent_dim=8,
               hidden=(128, 64), batch_size=128, retentions=(0.0, 0.5), compare_generations=3,
               snapshots=(0, 1, 2, 3), n_eval=300, classifier_epochs=10, threads=1, seed=0),
    book=dict(source="auto", max_train=2000, max_test=1000, generations=20, seeds=3, epochs=60, latent_dim=8,
              hidden=(256, 128), batch_size=128, retentions=(0.0, 0.1, 0.5), compare_generations=10,
              snapshots=(0, 1, 2, 5, 10, 15, 20), n_eval=1000, classifier_epochs=30, threads=1, seed=0),
    paper=dict(source="auto", max_train=None, max_test=None, generations=20, seeds=3, epochs=30, latent_dim=16,
               hidden=(512, 256), batch_size=128, retentions=(0.0, 0.1, 0.5), compare_generations=20,
               snapshots=(0, 1, 2, 5, 10, 15, 20), n_eval=5000, classifier_epochs=20, threads=None, seed=0),
)
# fmt: on
device = profiles.torch_device()
if device == "cpu" and P["threads"]:
    torch.set_num_threads(P["threads"])  # these small networks run fastest on one thread
profiles.report("Chapter 3", P, device=device)
plt.rcParams.update({"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False})
SCALE = f"profile '{profiles.current()}'"

# %% [markdown]
# ## The data
#
# The paper used MNIST: 70 000 handwritten digits of 28×28 grey pixels. `vae.load_images("auto")` loads
# it with the `datasets` library when the Hugging Face hub is reachable (on Colab, say). Where it is not,
# as on the machine that builds this book, it says so and falls back to the handwritten digits that ship
# with scikit-learn: 1797 images of 8×8 pixels with 17 grey levels, the same ten digits at a much lower
# resolution. Everything below takes the image size from the data, so the code path is the same for
# both. The printed line says which data this page ran on.

# %%
data = vae.load_images(P["source"], max_train=P["max_train"], max_test=P["max_test"], seed=P["seed"])
N = data.n_train

fig, axes = plt.subplots(1, 10, figsize=(10, 1.4))
for digit, ax in enumerate(axes):
    vae.plot_images(data.x_train[data.y_train == digit][:4], ax=ax, ncols=2, title=str(digit))
fig.suptitle(f"real training images, four of each digit ({data.describe()})", fontsize=10, y=1.08)
plt.show()
# %% [markdown]
# ## The model: a small VAE
#
# A VAE has two halves. The **encoder** maps an image $x$ to a Gaussian $q(z \mid x)$ over a
# low-dimensional latent code $z$; the **decoder** maps a code back to a distribution $p(x \mid z)$ over
# images, here one independent Bernoulli per pixel, whose probabilities are the decoder's output. Training
# maximises the evidence lower bound (ELBO),
#
# $$
# \mathcal L(x) = \mathbb E_{q(z \mid x)}\bigl[\log p(x \mid z)\bigr] - \mathrm{KL}\bigl(q(z \mid x) \,\|\, \mathcal N(0, I)\bigr),
# $$
#
# a reconstruction term minus a price (in nats) for every bit of information the code carries about the
# image. The second term pulls the codes of all images towards the prior $\mathcal N(0, I)$, so that
# **generating** is simple: draw $z \sim \mathcal N(0, I)$ and decode it.
#
# Our architecture (our choice; see `vae.VAE`) is fully connected: encoder
# $\text{pixels} \to 256 \to 128 \to (\mu, \log \sigma^2) \in \mathbb R^{2 \times 8}$ with ReLUs, and a decoder that
# mirrors it (the sizes are the profile's `hidden` and `latent_dim`). It is trained with Adam for
# `epochs` epochs, from a fresh random initialisation every generation, as the paper trains each
# generation anew. Below, one VAE trained on the real images: its reconstructions, and two kinds of
# *new* images: the decoder's pixel probabilities at random latents (the **decoder means**, grey) and one
# binary draw per pixel from them (**samples** of the model).

# %%
config = vae.VAEConfig(latent_dim=P["latent_dim"], hidden=P["hidden"], epochs=P["epochs"],
                       batch_size=P["batch_size"], device=device)  # fmt: skip
print(config)
first = vae.train_vae(data.x_train, config, seed=P["seed"])
z = np.random.default_rng(P["seed"]).standard_normal((36, config.latent_dim))
views = {
    "real images": data.x_test[:36],
    "their reconstructions": first.reconstruct(data.x_test[:36]),
    "decoder means at z ~ N(0, I)": first.decode(z),
    "Bernoulli draws from them": (
        np.random.default_rng(1).random((36, data.side, data.side)) < first.decode(z)
    ),
}
fig, axes = plt.subplots(1, 4, figsize=(12, 3.3))
for ax, (title, images) in zip(axes, views.items()):
    vae.plot_images(images.astype(np.float32), ax=ax, title=title)
fig.suptitle(f"one VAE trained on {N} real images; training loss {first.history[-1]:.1f} nats per image "
             f"({SCALE})", fontsize=10)  # fmt: skip
fig.tight_layout()

# %% [markdown]
# The reconstructions are blurred but recognisable: eight numbers per image are not enough to store every
# pixel. The decoder means at random latents look like digits, some of them clean, some of them
# in-between shapes where the prior put a code that no training image used. The Bernoulli draws are the
# model's honest samples: the decoder says "this pixel is dark with probability 0.7", and a sample
# decides. (At 8×8 pixels they look rough to us; on MNIST's 28×28 they look like slightly noisy digits.)
#
# **What does the next generation train on?** The paper says: images decoded from latents drawn from the
# prior. We take that literally as *samples of the model*, $x \sim p(x \mid z)$ with $z \sim \mathcal N(0, I)$
# (`decode="bernoulli"`, the default): the next VAE learns from data that its predecessor generated, just
# as a language model learns from sampled text. The alternative, the decoder means (`decode="mean"`), is
# the *expected* image, not a sample; it is like sampling at temperature zero. We run both, and the
# difference turns out to be large. (MNIST is almost binary, so there its Bernoulli draws look much like
# the data; the scikit-learn digits have grey levels that binary draws cannot reproduce, one more small
# error that the recursion carries along.)
#
# ## A judge trained once
#
# Pictures show collapse; numbers measure it. We train a digit classifier (a small MLP, `vae.train_classifier`)
# once on the real training images and never again. For every generation we draw `n_eval` samples
# (decoder means, which look like the images the classifier knows) and record:
#
# - the **class histogram**: which digit the classifier sees in each sample, and its **entropy** in bits:
#   $\log_2 10 \approx 3.32$ when all ten digits are equally frequent, 0 when every sample gets the same label;
# - the **confidence**: the classifier's mean top probability. Real digits score high; blends of two
#   digits score low;
# - the **Fréchet distance** to real held-out images in the classifier's feature space: fit a Gaussian
#   to the activations of the classifier's last hidden layer for the samples, another for real images, and
#   compute $\lVert \mu_1 - \mu_2 \rVert^2 + \operatorname{tr}\bigl(\Sigma_1 + \Sigma_2 - 2 (\Sigma_1 \Sigma_2)^{1/2}\bigr)$.
#   This is the recipe of the FID {cite}`heusel2017fid`, with our digit classifier in place of the
#   Inception network: a "FID for digits". It is zero only when the features have the same mean and
#   covariance, so it sees both wrong-looking samples *and* missing variety;
# - the **pixel variance** of the samples relative to that of real images: a direct measure of variety;
# - the number of **active latent dimensions**: those whose encoder mean varies across real images
#   (variance above 0.01, the "active units" of {cite}`burda2016iwae`).
#
# The same measures on real images give the reference values (dashed lines in the plots below).

# %%
clf = vae.train_classifier(data, epochs=P["classifier_epochs"], seed=P["seed"], device=device)
meter = vae.GenerationMeter(clf, data.x_test, n_eval=P["n_eval"], grid=64, seed=P["seed"])
real = meter.measure_images(data.x_train[: P["n_eval"]])
print(f"classifier accuracy on {data.n_test} held-out real images: {clf.test_accuracy:.3f}")
print(
    "measures of real training images:", {k: round(float(v), 3) for k, v in real.items() if k != "class_hist"}
)
print("measures of the VAE above:", {k: round(float(v), 3) for k, v in meter(first, 0).items()
                                     if k not in ("class_hist", "grid")})  # fmt: skip

# %% [markdown]
# Even the first VAE is far from the real data by these measures: its samples are blurrier (less pixel
# variance), the classifier is less sure of them, and the Fréchet distance is well above the real-vs-real
# floor. That is *functional approximation error*, the imperfection of a single fit. The question of this
# chapter is what the recursion does with it.
#
# ## The recursion
#
# `vae.run_vae_generations` drives the same loop as every chapter (`schedules.run_generations`): generation 0
# trains on the real images; generation $t+1$ trains a fresh VAE on $N$ images sampled from generation $t$
# ($N$ = the size of the real training set); every generation is measured by the judge. We run it
# `seeds` times with different seeds. Each run is reproducible from its seed (on the same device and
# thread count).

# %%
runs = []
for s in tqdm(range(P["seed"], P["seed"] + P["seeds"]), desc="seeds"):
    runs.append(
        vae.run_vae_generations(data.x_train, P["generations"], meter, config, seed=s, progress=f"seed {s}")
    )
    print(f"seed {s}: {P['generations'] + 1} generations in {runs[-1].seconds:.0f} s")
run = runs[0]

# %% [markdown]
# Here is the paper's Figure 9 for our run: the same 36 random latents decoded by the decoders of several
# generations, next to real images. (Each generation is a new network, so a latent does not keep its
# meaning from one generation to the next: each panel is just 36 random samples.)

# %%
fig = vae.plot_sample_grids(run, P["snapshots"], real=data.x_test, ncols=4, panel=2.8)
fig.suptitle(f"random samples (decoder means) by generation, no real data after generation 0; "
             f"{data.describe()}, {SCALE}, seed {run.seed}", fontsize=10)  # fmt: skip
fig.tight_layout()

# %% [markdown]
# Generations 0 to 2 still draw a variety of digits, blurred. Then the shapes merge: within a few
# generations most samples are variations of one rounded stroke pattern somewhere between an 8, a 9 and a
# 6, and in the last panels nearly every sample is the same blob. The modes of the data (the ten digits
# and their styles) have become entangled, and what is left is close to a single mode: the paper's
# observation, reproduced. (This is what the run looked like when this page was built; rerun the cell
# with another seed, or on MNIST, and the details change but not the direction.)
#
# ## Measuring the collapse
#
# Which digits vanish, and when? The heat map shows, for the run above, the share of samples that the
# classifier assigns to each digit, generation by generation; the second panel the entropy of that
# histogram for all seeds.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 3.8), gridspec_kw=dict(width_ratios=[1.3, 1]))
vae.plot_class_heatmap(run, ax=axes[0])
axes[0].set_title(f"share of samples per digit, seed {run.seed}", fontsize=10)
for r in runs:
    axes[1].plot(r.generation, r.entropy, lw=1.5, label=f"seed {r.seed}")
axes[1].axhline(real["entropy"], color="k", ls="--", lw=1, label="real images")
axes[1].set(xlabel="generation", ylabel="bits", ylim=(0, 3.5), xlim=(0, P["generations"]),
            title="entropy of the class histogram")  # fmt: skip
axes[1].legend(fontsize=8)
vae.integer_ticks(axes[1])
fig.suptitle(f"which digits the samples look like ({data.describe()}, {SCALE})", fontsize=10)
fig.tight_layout()
for r in runs:
    print(f"seed {r.seed}: {r.describe_vanishing(level=0.01)}")

# %% [markdown]
# A digit counts as lost once fewer than 1% of the samples look like it (the printed lines list them in
# order). Digits do not fade evenly: some drop out within a few generations while others grow, and the
# histogram concentrates on a few labels, with the entropy falling in steps as digits drop out. When we
# built this page, the 5 was lost first in every seed, already at generation 1, the 2 and the 7 followed
# within about five generations, and the 8 was never lost: a blurred, averaged stroke pattern is what the
# classifier calls a round digit (8, 0, 6, 3) far more often than a thin one (1, 7). Like the rare categories
# of chapter 1, a digit that has lost its share seldom gets it back: once generation $t$ stops drawing it,
# generation $t+1$ has almost nothing to learn it from.
#
# The other measures, for all seeds (line: median; band: range):

# %%
axes = vae.plot_metrics({f"no real data ({len(runs)} seeds)": runs}, real=real,
                        metrics=("confidence", "frechet", "pixel_var", "active_dims"))  # fmt: skip
axes[0].figure.suptitle(f"measures of each generation's samples ({data.describe()}, {SCALE})", fontsize=10)
axes[0].figure.tight_layout()

# %% [markdown]
# - The **pixel variance** falls generation after generation: the samples become more and more alike. This
#   is the loss of variety that the paper calls model collapse, first of the rare styles (the tails), then
#   of whole digits.
# - The **Fréchet distance** to real digits grows fastest in the first five generations and keeps growing,
#   to about two orders of magnitude above the real-vs-real floor (dashed).
# - The classifier's **confidence** falls in the first generations, as the samples turn into blends of
#   digits. Later it can rise again: once a run has converged on one shape that the classifier happens to
#   call an 8, it is confidently wrong about all of them. Confidence measures how much samples look like
#   *some* digit, not whether they cover all of them; that is why we measure variety separately.
# - The encoders use fewer **latent dimensions**, from about 7 of 8 to one or two: there is less variation
#   left in the training data to encode. (The count is noisy: each generation is a new network.)
#
# ## Decoder means: collapse within a few generations
#
# Now the same recursion, but each generation trains on the previous generation's *decoder means* instead
# of its samples (`decode="mean"`).

# %%
mean_config = dataclasses.replace(config, decode="mean")
mean_run = vae.run_vae_generations(data.x_train, P["compare_generations"], meter, mean_config, seed=P["seed"],
                                   progress="decoder means")  # fmt: skip
print(
    f"{P['compare_generations'] + 1} generations in {mean_run.seconds:.0f} s; {mean_run.describe_vanishing()}"
)
fig = vae.plot_sample_grids(
    mean_run, [g for g in P["snapshots"] if g <= P["compare_generations"]][:4], ncols=4
)
fig.suptitle(
    f"training on decoder means: random samples by generation ({SCALE}, seed {P['seed']})", fontsize=10
)
fig.tight_layout()
axes = vae.plot_metrics({"samples (Bernoulli draws)": runs, "decoder means": [mean_run]}, real=real,
                        metrics=("entropy", "frechet", "pixel_var", "active_dims"))  # fmt: skip
axes[0].figure.suptitle(f"what the next generation trains on ({SCALE})", fontsize=10)
axes[0].figure.tight_layout()

# %% [markdown]
# Trained on means, the recursion falls to a single blurred blob within about three generations, and the
# active latent dimensions drop to zero: the encoder ignores its input and the decoder draws one fixed
# image, whatever the latent.
# Why so fast? A VAE pays for every nat of information that its code carries (the KL term) and gains
# only what that information improves the reconstruction. Decoder means are blurred versions of the
# training images, so the images differ from each other by less, and each latent dimension is worth
# less. The next VAE switches off the dimensions that no longer pay for themselves (*posterior
# collapse*, well known from VAEs with strong decoders {cite}`bowman2016continuous`), its means are
# blurrier still, and the loop closes. With Bernoulli draws every image has sharp black-and-white pixels,
# the pixel noise is independent of everything else and cannot be learnt, and the loss of variety is
# slower. The lesson carries over to other models: *how* you sample from a model (means, argmax,
# low temperature) changes how fast recursive training forgets.
#
# ## Keeping real data
#
# As in chapters 1 and 2, the schedule can keep a share $r$ of real images in every generation's training
# set (`retention`, drawn afresh from the real training set each generation; the rest are samples of the
# previous generation). Each run below shares its seed with the first run above.

# %%
by_retention = {0.0: run}
for r in [r for r in P["retentions"] if r > 0]:
    by_retention[r] = vae.run_vae_generations(data.x_train, P["generations"], meter, config, retention=r,
                                              seed=P["seed"], progress=f"retention {r}")  # fmt: skip
    share = by_retention[r].original_share()
    print(f"retention {r}: real share of the training set by generation {np.round(share[:4], 3)} ...; "
          f"{P['generations'] + 1} generations in {by_retention[r].seconds:.0f} s")  # fmt: skip
axes = vae.plot_metrics({f"retention {r:g}": [rr] for r, rr in by_retention.items()}, real=real,
                        metrics=("entropy", "confidence", "frechet", "pixel_var"))  # fmt: skip
axes[0].figure.suptitle(
    f"keeping a share of real images each generation ({SCALE}, seed {P['seed']})", fontsize=10
)
axes[0].figure.tight_layout()

# %% [markdown]
# The printed shares confirm the schedule: generation 0 is all real, every later training set holds exactly
# the retained fraction of real images. Real images anchor the recursion. With half of the training set
# real, the measures settle after a couple of generations at a level somewhat worse than generation 0 and
# then stay there: the class entropy remains close to that of real digits. With a tenth, the decline is
# slower than without real data, but it goes on. Retention does not undo generation 0's own error either;
# it stops the errors from compounding.
#
# ## Explore
#
# The slider below draws `vae.plot_generation`: generation $g$ of the stored run with retention $r$, as
# samples or as a class histogram (over generation 0's, in grey). Nothing is retrained when it moves: it
# picks among the runs computed above. The rendered page has no kernel, so here first are the same views at
# a few values.

# %%
last = P["generations"]
fig = widgets.small_multiples(vae.plot_generation, "retention", list(by_retention),
                              fixed=dict(runs=by_retention, generation=last), panel_size=(3.2, 3.4),
                              suptitle=f"generation {last}, by retention ({SCALE})")  # fmt: skip
fig = widgets.small_multiples(vae.plot_generation, "generation", [g for g in P["snapshots"] if g <= last][-4:],
                              fixed=dict(runs=by_retention, retention=0.0, show="classes"),
                              suptitle=f"class histograms without real data ({SCALE})")  # fmt: skip

# %%
ui = widgets.interactive_plot(
    vae.plot_generation,
    runs=ipw.fixed(by_retention),
    retention=ipw.SelectionSlider(options=list(by_retention), value=0.0, description="retention"),
    generation=ipw.IntSlider(value=last, min=0, max=last, step=1, description="generation"),
    show=ipw.Dropdown(options=["samples", "classes"], value="samples", description="show"),
)
ui

# %% [markdown]
# ## Summary
#
# - A VAE trained recursively on its own samples forgets, as the paper reports: over the generations its
#   samples lose variety, digits merge into one another, and the histogram of digits, as judged by a
#   classifier trained once on real data, concentrates on a few labels.
# - The measures agree: falling class entropy and pixel variance, a Fréchet distance in the classifier's
#   feature space that grows by an order of magnitude, and fewer active latent dimensions. The classifier's
#   confidence falls at first, but a collapsed model can be confidently wrong: confidence is no measure of
#   variety.
# - Digits that lose their share rarely come back: a mode that one generation stops drawing is absent
#   from the next generation's training data.
# - How the next generation is fed matters: training on decoder means (a "temperature zero" sample) drives
#   the VAE into posterior collapse within a few generations.
# - Keeping a share of real images in every generation slows the drift; the more real data, the closer the
#   model stays to generation 0.
# - This page ran at the scale of the profile printed at the top; on MNIST and a GPU, `COLLAPSE_PROFILE=paper`
#   runs all 60 000 training images.
#
# ## Exercises
#
# 1. Predict, then check: does a *better* VAE (more epochs, a larger `latent_dim`) collapse more slowly?
#    Rerun the recursion with `vae.VAEConfig(epochs=..., latent_dim=...)` and compare the entropy curves.
#
# :::{admonition} Solution
# :class: dropdown
# Expect a slower decline that still does not stop. A better fit shrinks the functional error of each
# generation, but each generation still sees only $N$ samples of its predecessor (statistical error), and the
# decoder's blur compounds. A larger latent space also gives the prior more room where no training image
# lives, so samples from $\mathcal N(0, I)$ can be worse; compare `meter(first, 0)` for a few settings.
# :::
#
# 2. Use the accumulating schedule of chapter 1 (`approach=3`, every generation trains on all data so far)
#    for a few generations. What happens to the measures, and what to the training time?
#
# :::{admonition} Solution
# :class: dropdown
# `vae.run_vae_generations(data.x_train, 5, meter, config, approach=3, seed=0)`: the real images stay in
# the training set forever and are a share $1/(t+1)$ of it, so the drift should be much slower. The training set
# grows by $N$ each generation, and so does the time per generation: accumulation costs compute.
# :::
#
# 3. The Fréchet distance of two samples of the *same* distribution is not zero: with finite samples, the
#    estimated covariances differ. Estimate this floor for real images of different sizes `m`.
#
# :::{admonition} Solution
# :class: dropdown
# Split real images into two disjoint halves of size `m` and compute
# `vae.frechet_distance(*vae.feature_stats(clf.features(a)), *vae.feature_stats(clf.features(b)))`.
# The floor falls roughly like $1/m$; compare measures only at equal sample sizes, as this chapter does
# (every generation is measured with the same `n_eval`).
# :::
#
# 4. Why does the classifier keep assigning the late, blurred samples to a few digits rather than spreading
#    them evenly over all ten?
#
# :::{admonition} Solution
# :class: dropdown
# A classifier must assign every input to some digit, and it has never seen a blend. An average of many
# strokes is dark in the centre and round, which lies closest (in the classifier's features) to the
# round digits. So the histogram reflects where the blob sits among the classes, not a real digit: that is
# why the confidence falls while the entropy does, and why the Fréchet distance, which compares the whole
# feature distribution, is the more trustworthy measure.
# :::
