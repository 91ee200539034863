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
# # Variational autoencoders
#
# The paper's third experiment {cite}`shumailov2023curse,shumailov2024nature` takes a neural generative
# model, a **variational autoencoder** (VAE) {cite}`kingma2014vae`, trained on handwritten digits.
# Generation 0 is the VAE trained on real images; generation $t+1$ is a fresh VAE trained *only* on images
# that generation $t$ generated (the real images are not a generation). The figure below runs it two ways:
# the book's protocol (each generation trains on a fixed sample drawn once from its predecessor) and the
# authors' (each generation trains on fresh samples of its predecessor in every mini-batch).

# %% tags=["skip-execution", "remove-cell"]
# Colab only: install this book's helper package and its requirements.
import subprocess
import sys

if "google.colab" in sys.modules:
    package = "model-collapse-book @ git+https://github.com/model-collapse-book/model-collapse"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", package])

# %% tags=["remove-input"]
import dataclasses
import time

import ipywidgets as ipw
import matplotlib.pyplot as plt
import numpy as np
import torch

from collapse_utils import live, plotting, profiles, prose, vae, widgets
from collapse_utils.plotting import COLUMN_WIDTH

plotting.style()
START = time.perf_counter()

# generations: after generation 0; seeds: independent runs of every variant; epochs: per generation;
# retentions: shares of real images kept in the training set (fixed retention); n_eval: samples per
# generation for the measures; threads: torch CPU threads (None: torch's default); workers: processes that
# share the runs (split by seed, one torch thread each: both cores of a CPU; 1 on a GPU); weight_decay and
# reduction: the authors' Adam (weight decay 1e-5 on a loss summed over the batch), used by every run;
# authors: the VAE of the authors' protocol (None: the book's VAE, the closest CPU analogue; AUTHORS_VAE:
# their convolutional VAE, VAE_experiments.ipynb), run for authors_generations generations (their notebook
# runs five);
# max_train: training images loaded; book_train: how many of them the book's protocol uses (None: all);
# digits_vae: the settings used instead when a profile meant for MNIST falls back to the 8x8 digits
# fmt: off
AUTHORS_VAE = dict(arch="conv", capacity=64, latent_dim=20, epochs=30, batch_size=256, lr=1e-3)
DIGITS_VAE = dict(epochs=30, latent_dim=8, hidden=(128, 64), batch_size=32, lr=1e-3, authors=None,
                  book_train=None)
P = profiles.choose(
    quick=dict(source="digits", max_train=400, book_train=None, max_test=200, generations=3, seeds=2, epochs=20,
               latent_dim=8, hidden=(128, 64), batch_size=32, lr=2e-3, weight_decay=1e-5, reduction="sum",
               retentions=(0.1, 0.5), snapshots=(0, 1, 2, 3), n_eval=200, classifier_epochs=15, threads=1,
               workers=1, authors=None, authors_generations=3, digits_vae=None),
    book=dict(source="auto", max_train=1000, book_train=None, max_test=450, generations=10, seeds=5, epochs=30,
              latent_dim=8, hidden=(128, 64), batch_size=32, lr=1e-3, weight_decay=1e-5, reduction="sum",
              retentions=(0.1, 0.5), snapshots=(0, 1, 2, 4, 7, 10), n_eval=1000, classifier_epochs=20, threads=1,
              workers=2, authors=None, authors_generations=5, digits_vae=None),
    gpu=dict(source="auto", max_train=None, book_train=20000, max_test=5000, generations=20, seeds=5, epochs=10,
             latent_dim=16, hidden=(512, 256), batch_size=128, lr=1e-3, weight_decay=1e-5, reduction="sum",
             retentions=(0.1, 0.5), snapshots=(0, 1, 2, 5, 10, 20), n_eval=2000, classifier_epochs=10,
             threads=None, workers=1, authors=AUTHORS_VAE, authors_generations=5, digits_vae=DIGITS_VAE),
    paper=dict(source="auto", max_train=None, book_train=None, max_test=None, generations=20, seeds=5, epochs=20,
               latent_dim=16, hidden=(512, 256), batch_size=128, lr=1e-3, weight_decay=1e-5, reduction="sum",
               retentions=(0.1, 0.5), snapshots=(0, 1, 2, 5, 10, 20), n_eval=5000, classifier_epochs=20,
               threads=None, workers=1, authors=AUTHORS_VAE, authors_generations=5, digits_vae=DIGITS_VAE),
)
# fmt: on
device = profiles.torch_device()
WORKERS = P["workers"] if device == "cpu" else 1  # processes for the runs (one device: one process on a GPU)
if device == "cpu" and P["threads"]:
    torch.set_num_threads(P["threads"])  # these small networks run fastest on one thread

# %% tags=["remove-input"]
data = vae.load_images(P["source"], max_train=P["max_train"], max_test=P["max_test"], seed=profiles.seed(0),
                       verbose=False)  # fmt: skip
if data.source == "digits" and P["digits_vae"]:
    P = {**P, **P["digits_vae"]}
config, authors_config = vae.protocol_configs(P, device)
clf = vae.train_classifier(data, epochs=P["classifier_epochs"], seed=profiles.seed(0), device=device)
meter = vae.GenerationMeter(clf, data.x_test, n_eval=P["n_eval"], grid=64, seed=profiles.seed(0))
real = meter.measure_images(data.x_train[: P["n_eval"]])
seeds = [profiles.seed(k) for k in range(P["seeds"])]
G, n_book = P["generations"], min(P["book_train"] or data.n_train, data.n_train)
AG = P["authors_generations"]
authors_shown = sorted({g for g in P["snapshots"] if g <= AG} | {AG})[-5:]

# %% tags=["remove-input"]
variants = {
    "Bernoulli draws": vae.Variant(config, G, n_train=n_book),
    "decoder means": vae.Variant(dataclasses.replace(config, decode="mean"), G, n_train=n_book),
    "authors' protocol": vae.Variant(authors_config, AG, protocol="fresh"),
} | {f"retention {r:g}": vae.Variant(config, G, retention=r, n_train=n_book) for r in P["retentions"]}
every = vae.run_variants(data.x_train, meter, variants, seeds, keep_models=[0], progress="generations",
                         workers=WORKERS)
groups = {k: every[k] for k in ("Bernoulli draws", "decoder means", "authors' protocol")}
retained = {k: g for k, g in every.items() if k.startswith("retention")}
runs, authors = groups["Bernoulli draws"], groups["authors' protocol"]
run = runs[0]
MAIN_SECONDS, MAIN_CPU = time.perf_counter() - START, time.thread_time()

# %% tags=["remove-input"] mystnb={"figure": {"caption": "Random samples of one run (first seed) at a few generations under the book's protocol (Bernoulli draws, a fixed sample per generation) and the authors' protocol (decoder means, fresh samples every batch), and the variety of the samples over generations for all seeds (median and 10-90% band), at this page's scale.", "name": "fig-vae-key"}, "image": {"alt": "Two rows of generated digits at a few generations, one per protocol, above a plot of variety against generation for both protocols"}}
common = min(G, AG)
shown = sorted({g for g in P["snapshots"] if g <= common} | {common})
shown = shown[:4] + shown[-1:] if len(shown) > 5 else shown
vae.plot_overview({"book's\nprotocol": run, "authors'\nprotocol": authors[0]}, shown,
                  {"book's protocol": runs, "authors' protocol": authors}, real=real["feature_var"])  # fmt: skip
plt.show()

# %% tags=["remove-input"]
prose.show(vae.takeaway(runs, authors))

# %% [markdown]
# The rest of the chapter builds this result up and measures it:
#
# 1. the data and a small VAE, and what "a sample of a VAE" means ({ref}`vae-model`);
# 2. a judge trained once on real images, and the numbers it gives ({ref}`vae-judge`);
# 3. the recursion under both protocols: the paper's Figure 9 and how it compares ({ref}`vae-recursion`);
# 4. which digits vanish, those lost by generation 0 apart from those lost by the recursion ({ref}`vae-classes`);
# 5. statistical against functional approximation error: what fresh samples change ({ref}`vae-errors`);
# 6. the authors' latent measure: generation 0's codes of later samples ({ref}`vae-latents`);
# 7. Bernoulli draws or decoder means ({ref}`vae-decode`), and keeping real images ({ref}`vae-retention`);
# 8. sliders to explore the stored runs.
#
# Every statement below that depends on the run is computed by the code beside it (or printed just above it),
# so the chapter stays true at any seed.
#
# (vae-ran)=
# ## How this page ran

# %% tags=["hide-input"]
profiles.report("Chapter 3", P, device=device)
print(f"data: {data.describe()}\n      ({data.note})")
print(f"the book's VAE: {config}\nthe authors' protocol: {authors_config}")
arch = ("fully connected, hidden widths " + ", ".join(map(str, config.hidden))
        + f", latent dimension {config.latent_dim}")  # fmt: skip
arch_a = (f"convolutional ({authors_config.capacity} and {2 * authors_config.capacity} channels), latent dimension "
          f"{authors_config.latent_dim}" if authors_config.arch == "conv" else "the book's VAE (above)")  # fmt: skip
prose.show(prose.ran_at([
    ("images", f"{data.source}, {data.side}×{data.side} pixels, {n_book:,} for training", "MNIST, 28×28, 60,000"),
    ("the book's VAE", arch, "(the book's choice)"),
    ("the authors' protocol: VAE", arch_a, "convolutional (64 and 128 channels), latent dimension 20"),
    ("training, every generation", f"{config.epochs} epochs, batch {config.batch_size}, Adam at {config.lr:g}, "
     f"weight decay {config.weight_decay:g}, loss summed over the batch",
     "30 epochs, batch 256, Adam at 0.001, weight decay 1e-05, loss summed over the batch"),
    ("authors' protocol: new samples per generation", f"{data.n_train * authors_config.epochs:,}", "1,800,000"),
    ("generations after generation 0", f"{G} (authors' protocol: {P['authors_generations']})",
     "5 in the authors' notebook's loop"),
    ("runs per compared setting", P["seeds"], "one run shown (the paper's Figure 9)"),
]))  # fmt: skip

# %% [markdown]
# The right-hand column quotes the authors' notebook `VAE_experiments.ipynb` in their `curse_recurse`
# repository {cite}`shumailov2023code`: its settings cell (latent dimension 20, 30 epochs, batch 256,
# capacity 64, learning rate 0.001), its `train_vae_gen` (Adam with weight decay 1e-5; the loss of its
# `vae_loss`, summed over the batch; new samples of the previous generation in every batch of an epoch over
# MNIST's 60,000 training images) and its generation loop (`for gen_number in range(5)`).
#
# ## The data
#
# The paper used MNIST {cite}`lecun1998mnist`: 70 000 handwritten digits of 28×28 grey pixels.
# `vae.load_images("auto")` loads it with the `datasets` library when the Hugging Face hub is reachable (on
# Colab, say). Where it is not, it falls back at once to the handwritten digits that ship with scikit-learn
# {cite}`alpaydin1998digits`: 1797 images of 8×8 pixels with 17 grey levels, the same ten digits at a much
# lower resolution. Everything below takes the image size from the data, so the code path is the same for
# both; the "data" line printed above says which data this page ran on.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The real training images: four of each digit.", "name": "fig-vae-real"}, "image": {"alt": "A grid of real handwritten digits, four of each"}}
fig, axes = plt.subplots(2, 5, figsize=(COLUMN_WIDTH, 3.4))
for digit, ax in enumerate(axes.flat):
    vae.plot_images(data.x_train[data.y_train == digit][:4], ax=ax, ncols=2, title=str(digit))
fig.suptitle("real training images, four of each digit")
fig.tight_layout()
plt.show()

# %% [markdown]
# (vae-model)=
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
# **Architecture: a departure.** The authors' notebook `VAE_experiments.ipynb` fixes the architecture:
# a convolutional VAE (two convolutions with 4×4 kernels and stride 2, to 64 and 128 channels, and a linear
# layer to a 20-dimensional code; the decoder mirrors it), `vae.ConvVAE` here. The `gpu` profile runs it on
# MNIST for the authors' protocol (where MNIST cannot be loaded, it falls back to the digits and the book's
# VAE). On a CPU, at this book's default scale, the book uses a small fully
# connected VAE (`vae.VAE`, the widths printed above) for both protocols, so that all runs of a generation
# train together as one batched network; on 8×8 digits the authors' 30 epochs of batches of 256 would be 4
# steps per epoch. The optimiser is the authors' for every run: Adam at the printed learning rate with weight
# decay $10^{-5}$ on a loss summed over the batch. Each generation is a fresh random initialisation, as in
# their notebook. Below, generation 0 of the first seed, trained on the real images: its reconstructions,
# and two kinds of *new* images: the decoder's pixel probabilities at random latents (the **decoder means**,
# grey) and one binary draw per pixel from them (**samples** of the model).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Generation 0 of the first seed, trained on the real images: real test images, their reconstructions, decoder means at random latents, and Bernoulli draws from those means.", "name": "fig-vae-one"}, "image": {"alt": "Four panels of digit images: real, reconstructed, decoder means and Bernoulli draws"}}
first = run.models[0]
z = np.random.default_rng(profiles.seed(0)).standard_normal((36, config.latent_dim))
views = {
    "real images": data.x_test[:36],
    "reconstructions": first.reconstruct(data.x_test[:36]),
    "decoder means\nat z ~ N(0, I)": first.decode(z),
    "Bernoulli draws\nfrom them": vae.binarise(first.decode(z), np.random.default_rng(profiles.seed(1))),
}
fig, axes = plt.subplots(1, 4, figsize=(COLUMN_WIDTH, 2.4))
for ax, (title, images) in zip(axes, views.items()):
    vae.plot_images(images, ax=ax, title=title)
fig.tight_layout()
plt.show()

# %% [markdown]
# What to look for: reconstructions are blurred, since a few numbers per image are not enough to store
# every pixel. Decoder means at random latents should look like digits, some of them in-between shapes
# where the prior put a code that no training image used. The Bernoulli draws are the model's honest
# samples: the decoder says "this pixel is dark with probability 0.7", and a sample decides. (At 8×8 pixels
# they look rough to us; on MNIST's 28×28 they look like slightly noisy digits.)
#
# (vae-judge)=
# ## A judge trained once
#
# Pictures show collapse; numbers measure it. A digit classifier (a small MLP, `vae.train_classifier`) is
# trained once on the real training images and never again. For every generation we draw `n_eval` samples
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
# - the **variety** of the samples in the same feature space: the total variance of their features,
#   relative to that of real images (1 for real images). The pixel variance would not do: it falls both when
#   samples look alike *and* when they are blurred, and it cannot tell the two apart;
# - the number of **active latent dimensions**: those whose encoder mean varies across real images
#   (variance above 0.01, the "active units" of {cite}`burda2016iwae`);
# - the authors' own measure, the spread of **generation 0's codes** of each generation's samples
#   ({ref}`vae-latents`).
#
# The same measures on real images give the reference values (dashed lines in the plots below).

# %% tags=["hide-input"]
measured = ("entropy", "confidence", "frechet", "feature_var", "pixel_var")
print(f"classifier accuracy on {data.n_test} held-out real images: {clf.test_accuracy:.3f}")
print("real training images:      ", {k: round(float(real[k]), 3) for k in measured})
print("generation 0, first seed:  ", {k: round(float(getattr(run, k)[0]), 3) for k in measured})

# %% [markdown]
# Compare the two printed lines: the gap between generation 0's numbers and the real images' is the error of
# a single fit. The paper's Nature version names three sources of such error {cite}`shumailov2024nature`:
# **statistical approximation error** (finitely many training images), **functional expressivity error** (a
# model family that cannot represent the data: here a Gaussian latent space and independent pixels given the
# code) and **functional approximation error** (the limits of the learning procedure: a few epochs of Adam
# from a random start). (The arXiv version counts expressivity under functional approximation.) All three
# are present in every generation; the question of this chapter is what the recursion does with them.
#
# (vae-recursion)=
# ## The recursion under two protocols
#
# `vae.run_vae_batch` runs the recursion: generation 0 trains on the real images; every later generation
# trains a fresh VAE on images generated by its predecessor; every generation is measured by the judge. It
# runs many recursions *together*: every generation, the VAEs of all runs are trained at once, their weights
# stacked so that one batched matrix product does the work of many (`vae.train_vaes`). Each run is still
# exactly the VAE and the optimiser it would be alone, with its own seed, data and random numbers (the tests
# check this against `vae.run_vae_generations`, one run at a time). Runs with the same seed share generation
# 0, which is the same model.
#
# What "trained on images generated by its predecessor" means is where the book and the authors differ:
#
# - **the book's protocol** (`protocol="fixed"`): generation $t$ draws $N$ images once, $N$ the size of the
#   real training set, and generation $t+1$ trains on them for all its epochs. This is the setting of the
#   paper's theory and of chapters {doc}`1 <01_gaussian>` and {doc}`2 <02_gmm>`: each generation sees a finite
#   sample, so it adds statistical approximation error. By default the images are Bernoulli draws;
# - **the authors' protocol** (`protocol="fresh"`, as their `train_vae_gen` does): every mini-batch of every
#   epoch is new: fresh latents decoded by generation $t$'s decoder, whose **means** are the training images.
#   Each generation sees $N$ times the number of epochs of new images, so the statistical approximation error
#   all but vanishes and what remains is functional error.
#
# Here is the paper's Figure 9 for the first seed under both: the same random latents decoded by the
# decoders of several generations, next to real images. (Each generation is a new network, so a latent does
# not keep its meaning from one generation to the next: each panel is just random samples.)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Figure 9 at this page's scale, under the book's protocol: random samples (decoder means) of several generations of the first seed's run trained on Bernoulli draws, beside real images.", "name": "fig-vae-grids"}, "image": {"alt": "Grids of generated digits at several generations beside real digits, book's protocol"}}
fig = vae.plot_sample_grids(run, P["snapshots"], real=data.x_test, ncols=4)
fig.suptitle("the book's protocol: random samples by generation")
fig.tight_layout()
plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The paper's Figure 9 at this page's scale, under the authors' protocol: random samples (decoder means) of several generations of the first seed's run trained on fresh decoder means every batch.", "name": "fig-vae-grids-authors"}, "image": {"alt": "Grids of generated digits at several generations, authors' protocol"}}
fig = vae.plot_sample_grids(authors[0], authors_shown, ncols=4)
fig.suptitle("the authors' protocol: random samples by generation")
fig.tight_layout()
plt.show()

# %% tags=["remove-input"]
verdict, note = vae.figure9_note(runs, authors)
prose.show(prose.paper_note("the paper's Figure 9 and the authors' latent measure", verdict, note))

# %% [markdown]
# (vae-classes)=
# ## Which digits vanish
#
# The heat map shows, for the first seed, the share of samples that the classifier assigns to each digit,
# generation by generation; the second figure the entropy of that histogram for all seeds (line: median over
# seeds; band: 10–90% of the seeds). A digit counts as lost once fewer than 1% of the samples look like it.
# Generation 0 is trained on real images: a digit it already fails to draw was lost by the first fit, not by
# the recursion, and is counted apart.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The judge's verdict on each generation's samples under the book's protocol: the share of samples classified as each digit, generation by generation (first seed).", "name": "fig-vae-classes"}, "image": {"alt": "Heat map of the share of samples per digit against generation"}}
fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 3.2))
vae.plot_class_heatmap(run, ax=ax)
ax.set_title(f"share of samples per digit, seed {run.seed}")
fig.tight_layout()
plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The entropy of the class histogram over generations under both protocols: median and band over the seeds, with the real images' value for reference.", "name": "fig-vae-entropy"}, "image": {"alt": "Entropy of the class histogram against generation, median and band over seeds, for both protocols"}}
axes = vae.plot_metrics({"book's protocol": runs, "authors' protocol": authors}, real=real, metrics=("entropy",),
                        ncols=1)  # fmt: skip
axes[0].set_ylim(0, 3.5)
axes[0].figure.tight_layout()
plt.show()
for r in runs:
    print(f"seed {r.seed}: {r.describe_vanishing(level=0.01)}")

# %% tags=["remove-input"]
prose.show(" ".join([
    vae.lost_at_start_sentence(runs),
    vae.first_lost_sentence(runs, recursion_only=True),
    vae.never_lost_sentence(runs),
]))  # fmt: skip

# %% [markdown]
# Where digits fade unevenly, one reason is the judge: a blurred, averaged stroke pattern is what a
# classifier calls a round digit more often than a thin one, so the histogram drifts towards a few labels.
# Like the rare categories of {doc}`chapter 1 <01_gaussian>`, a digit that has lost its share seldom gets it
# back: once generation $t$ stops drawing it, generation $t+1$ has almost nothing to learn it from.
#
# The other measures, for all seeds:

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Measures of each generation's samples under the book's protocol over the seeds: the judge's confidence, the Fréchet distance to real images in the judge's feature space, the variety of the judge's features relative to real images, and the VAE's active latent dimensions.", "name": "fig-vae-measures"}, "image": {"alt": "Four panels of sample measures against generation, median and band over seeds"}}
axes = vae.plot_metrics({"Bernoulli draws": runs}, real=real,
                        metrics=("confidence", "frechet", "feature_var", "active_dims"))  # fmt: skip
axes[0].figure.tight_layout()
plt.show()

# %% tags=["remove-input"]
prose.show(" ".join([
    vae.trajectory_sentence(runs, "feature_var"),
    vae.trajectory_sentence(runs, "frechet", fmt=".1f"),
    vae.trajectory_sentence(runs, "confidence"),
    vae.active_dims_sentence(runs),
]))  # fmt: skip

# %% [markdown]
# How to read them:
#
# - **Variety** is the loss that the paper calls model collapse: fewer distinct kinds of samples, first
#   of the rare styles (the tails), then of whole digits.
# - The **Fréchet distance** to real digits combines wrong-looking samples and missing variety; its
#   real-vs-real floor is the dashed line.
# - The classifier's **confidence** measures how much samples look like *some* digit, not whether they
#   cover all of them: a run that converges on one shape that the classifier happens to like can be
#   confidently wrong. That is why variety is measured separately.
# - **Active latent dimensions**: with less variation left in the training data, a VAE has less reason
#   to pay the KL price for a dimension. (The count is noisy: each generation is a new network.)
#
# (vae-errors)=
# ## Statistical against functional approximation error
#
# The two protocols differ in two ways: the book's default trains on Bernoulli draws, the authors' on
# decoder means; and the book's draws a fixed sample, the authors' fresh samples every batch. To separate
# the two, the book also runs its protocol on decoder means. Then "decoder means" and "authors' protocol"
# differ only in the sample: $N$ images drawn once, or new images in every batch. Whatever the fresh samples
# change is the **statistical approximation error** of the book's protocol; what both still lose is
# **functional** error, the error of each fit.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The book's protocol (a fixed sample per generation: Bernoulli draws, or decoder means) and the authors' protocol (fresh decoder means every batch): four measures over generations, median and 10-90% band over seeds.", "name": "fig-vae-protocols"}, "image": {"alt": "Four panels comparing three ways of training the next generation, against generation"}}
labels = {"Bernoulli draws": "book's, Bernoulli draws", "decoder means": "book's, decoder means",
          "authors' protocol": "authors', fresh means"}  # fmt: skip
axes = vae.plot_metrics({labels[k]: g for k, g in groups.items()}, real=real,
                        metrics=("feature_var", "frechet", "entropy", "active_dims"))  # fmt: skip
axes[0].figure.tight_layout()
plt.show()

# %% tags=["remove-input"]
prose.show(vae.protocol_sentence(groups["decoder means"], authors))

# %% [markdown]
# (vae-latents)=
# ## Generation 0's codes of later samples
#
# The authors measure collapse in the latent space (in their notebook `VAE_experiments.ipynb`
# {cite}`shumailov2023code`): they encode
# samples of every later generation with the encoder of the *first* VAE, and plot the density of the encoder
# means, all latent dimensions pooled. If later generations draw ever fewer kinds of images, the first
# encoder maps them to an ever narrower region: the tails of the density wash out. The figure shows this
# density for the first seed's run under the authors' protocol, on a logarithmic axis so that the tails stay
# visible, and the spread (standard deviation) of the codes and their share beyond generation 0's own 1% and
# 99% quantiles for all seeds under both protocols. (Unlike the authors, the book includes generation 0's own
# samples, the reference; the authors encode 100 samples per generation, the book `n_eval`.)

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The authors' latent measure: the density of generation 0's encoder means over the samples of later generations (first seed, authors' protocol; all latent dimensions pooled; logarithmic density axis), and the spread of those codes and their share in generation 0's 2% tails over generations for both protocols (median and 10-90% band over seeds).", "name": "fig-vae-latents"}, "image": {"alt": "Densities of latent codes at several generations, and two panels of their spread and tail share against generation"}}
fig = plt.figure(figsize=(COLUMN_WIDTH, 5.6))
top, bottom = fig.add_gridspec(2, 1, height_ratios=[1.1, 1])
vae.plot_latent_density(authors[0], authors_shown, ax=fig.add_subplot(top))
pair = bottom.subgridspec(1, 2)
vae.plot_metrics({"book's protocol": runs, "authors' protocol": authors}, metrics=("latent_spread", "latent_tail"),
                 axes=[fig.add_subplot(pair[0, 0]), fig.add_subplot(pair[0, 1])])  # fmt: skip
fig.tight_layout()
plt.show()

# %% tags=["remove-input"]
prose.show(vae.latent_sentence({"the book's protocol": runs, "the authors' protocol": authors}))

# %% [markdown]
# The authors' notebook keeps, in a commented-out table at its end, the mean and standard deviation of these
# codes for five runs of five generations: the standard deviation falls from 0.67–0.70 at the first generation
# trained on samples to 0.43–0.47 at the fifth. The note beside the paper's Figure 9 above sets this page's
# runs against those numbers.
#
# (vae-decode)=
# ## What the next generation trains on: Bernoulli draws or decoder means
#
# The paper does not say whether each generation trains on the decoder's Bernoulli draws or on its means; the
# authors' notebook trains on the means (its decoder ends with a sigmoid, and `train_vae_gen` feeds those
# probabilities to the next VAE). Training on the Bernoulli draws, $x \sim p(x \mid z)$, is closer to the
# paper's theory: there each generation fits *samples* of the previous model, as a language model learns from
# sampled text. The means are the *expected* image, like sampling at temperature zero. The book runs both
# under its protocol. One mechanism to know: a VAE whose training images vary little can stop using latent
# dimensions altogether, because they no longer pay their KL price (*posterior collapse*, well known from VAEs
# with strong decoders {cite}`bowman2016continuous`).

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Training each generation on decoder means instead of Bernoulli draws (book's protocol): random samples of a few generations (first seed).", "name": "fig-vae-means-grids"}, "image": {"alt": "Grids of generated digits at a few generations when training on decoder means"}}
fig = vae.plot_sample_grids(groups["decoder means"][0], list(P["snapshots"])[:4], ncols=4)
fig.suptitle("trained on decoder means: random samples by generation")
fig.tight_layout()
plt.show()

# %% tags=["remove-input"]
means = {k: groups[k] for k in ("decoder means", "Bernoulli draws")}
prose.show(" ".join([
    vae.decode_sentence(means),
    vae.active_dims_sentence(groups["decoder means"]).replace("The encoders", "Trained on means, the encoders"),
    vae.decode_explanation(groups["decoder means"], runs),
]))  # fmt: skip

# %% [markdown]
# The lesson carries over to other models: *how* you sample from a model (means, argmax, low temperature)
# can change how fast recursive training forgets. Bernoulli draws bring a shift of their own. Generation 0
# trained on the real grey levels; from generation 1 on, every training image is binary. How large is that
# shift, in the judge's terms?

# %% tags=["remove-input"]
prose.show(vae.binarisation_sentence(meter, data.x_train[: P["n_eval"]], runs, seed=profiles.seed(2)))

# %% [markdown]
# Binarising is a change of the data made once, at generation 1, and carried from then on: it changes a
# pixel the more, the greyer it is (the first number above), so the 8×8 digits with their 17 grey levels
# shift more than MNIST, whose pixels are mostly near 0 or 1. The recursion on Bernoulli draws measures this
# shift and the recursion's own errors together.
#
# (vae-retention)=
# ## Keeping real data
#
# As in chapters {doc}`1 <01_gaussian>` and {doc}`2 <02_gmm>`, the schedule can keep a share $r$ of real
# images in every generation's training set (`retention`); the rest are Bernoulli draws of the previous
# generation (book's protocol). Retention in this chapter is **fixed**: the retained images are a random
# subset, drawn afresh each generation, of the *original training sample*, never new images from the true
# distribution (chapter 1's "fresh" retention, which a finite data set cannot give). These runs were trained
# with all the others at the top of the page, and share generation 0 with them (same seeds, same model).

# %% tags=["hide-input"]
for name, group in retained.items():
    print(f"{name}: real share of the training set by generation {np.round(group[0].original_share()[:4], 3)} ...")

# %% tags=["hide-input"] mystnb={"figure": {"caption": "Keeping a fixed share of the real images in every generation's training set (book's protocol, Bernoulli draws): four measures over generations for no retention and two retention fractions (median and band over seeds).", "name": "fig-vae-retention"}, "image": {"alt": "Four panels of measures against generation for three retention fractions"}}
by_retention = {"no real data": runs} | retained
axes = vae.plot_metrics(by_retention, real=real, metrics=("entropy", "confidence", "frechet", "feature_var"))
axes[0].figure.tight_layout()
plt.show()

# %% tags=["remove-input"]
prose.show(" ".join([
    vae.ordering_sentence(by_retention, "feature_var", higher_is_closer=True),
    vae.ordering_sentence(by_retention, "frechet", higher_is_closer=False, fmt=".1f"),
]))  # fmt: skip
prose.show(vae.retention_sentence(by_retention))

# %% [markdown]
# The printed shares confirm the schedule: generation 0 is all real, every later training set holds exactly
# the retained fraction of real images. Whatever the retention does, it cannot undo the error of each fit (the
# three errors above are there in every generation); and because the retained images come from one fixed
# sample, a model kept on them can at best learn that sample again, never more than it.
#
# ## Explore
#
# The sliders below draw `vae.plot_generation`: generation $g$ of the first seed's run with retention $r$
# (book's protocol), as samples or as a class histogram (over generation 0's, in grey). Nothing is retrained
# when they move: they pick among the runs computed above, in the rendered book as in a running notebook.
# First, the same views at a few values.

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function at the last generation for each retention fraction (first seed).", "name": "fig-vae-multiples-retention"}, "image": {"alt": "Generated digits at the last generation for each retention fraction"}}
first_seed = {0.0: run} | {float(n.split()[-1]): g[0] for n, g in retained.items()}
fig = widgets.small_multiples(vae.plot_generation, "retention", list(first_seed),
                              fixed=dict(runs=first_seed, generation=G), panel_size=(2.3, 2.8),
                              suptitle=f"generation {G}, by retention")  # fmt: skip
plt.show()

# %% tags=["hide-input"] mystnb={"figure": {"caption": "The slider's function as class histograms at the last snapshots, without real data (first seed); generation 0's histogram in grey.", "name": "fig-vae-multiples-classes"}, "image": {"alt": "Class histograms of generated digits at three generations"}}
fig = widgets.small_multiples(vae.plot_generation, "generation", [g for g in P["snapshots"] if g <= G][-3:],
                              fixed=dict(runs=first_seed, retention=0.0, show="classes"), panel_size=(2.3, 2.6),
                              suptitle="class histograms without real data")  # fmt: skip
plt.show()

# %%
prose.show(live.explore_note("03_vae"))
live.explore(
    vae.plot_generation,
    grid=dict(retention=list(first_seed), generation=list(range(G + 1)), show=["samples", "classes"]),
    controls=dict(
        retention=ipw.SelectionSlider(options=list(first_seed), value=0.0, description="retention"),
        generation=ipw.IntSlider(value=G, min=0, max=G, step=1, description="generation"),
        show=ipw.Dropdown(options=["samples", "classes"], value="samples", description="show"),
    ),
    fixed=dict(runs=first_seed),
    start=dict(retention=0.0, generation=G),
    alt="Generated digits (or their class histogram) of one generation of the first seed's run",
    caption="One generation of the first seed's run at the chosen retention of real images: generated digits, or "
            "their class histogram beside generation 0's (grey).",
    name="fig-vae-explore",
)

# %% tags=["hide-input"]
workers_note = f"the runs in {WORKERS} worker processes, " if WORKERS > 1 else ""
print(f"chapter 3 ran in {time.perf_counter() - START:.0f} s ({MAIN_SECONDS:.0f} s for the runs), "
      f"{workers_note}{time.process_time():.0f} s of CPU time in this process, {time.thread_time():.0f} s of it in "
      f"the main thread ({MAIN_CPU:.0f} s by the end of the runs; profile '{profiles.current()}', device {device})")  # fmt: skip

# %% [markdown]
# ## Summary

# %% tags=["remove-input"]
prose.show(prose.findings(vae.findings_items(runs, groups["decoder means"], authors, by_retention)))

# %% [markdown]
# What holds at any seed:
#
# - A VAE trained recursively on its own samples is measured here generation by generation, over several
#   seeds, by a judge trained once on real data: the class histogram and its entropy, the classifier's
#   confidence, a Fréchet distance in the classifier's feature space, the variety of the samples in that
#   space, the active latent dimensions, and the authors' measure, generation 0's codes of later samples.
# - Confidence is no measure of variety: a collapsed model can be confidently wrong; pixel variance mixes
#   blur with loss of variety, which is why the variety is measured in the judge's features.
# - The book's protocol (a fixed sample per generation) and the authors' (fresh samples every batch) differ in
#   the statistical approximation error of each generation; comparing them on the same kind of images (decoder
#   means) tells how much of the collapse that error causes, at this scale.
# - Digits that generation 0 already fails to draw are lost by the first fit, not by the recursion.
# - Retention here is fixed: a share of the original sample kept in every generation's training set.
# - This page ran at the scale of the profile printed in {ref}`vae-ran`; with a GPU the `gpu` profile runs
#   MNIST at the paper's 28×28 and the authors' protocol with their convolutional VAE (see
#   {doc}`../book/how-to-run`).
#
# ## Exercises
#
# 1. Predict, then check: does a *better* VAE (more epochs, a larger `latent_dim`) collapse more slowly?
#    Rerun the recursion with `vae.VAEConfig(epochs=..., latent_dim=...)` and compare the variety curves.
#
# :::{admonition} Solution
# :class: dropdown
# A better fit shrinks the functional approximation error of each generation, but under the book's protocol
# each generation still sees only $N$ samples of its predecessor (statistical approximation error), and the
# model family is the same (functional expressivity error). A larger latent space also gives the prior more
# room where no training image lives, so samples from $\mathcal N(0, I)$ can be worse; compare
# `meter(vae.train_vae(data.x_train, config, seed=0), 0)` for a few settings before running the recursion.
# :::
#
# 2. Use the accumulating schedule of {doc}`chapter 1 <01_gaussian>` (`approach=3`, every generation trains
#    on all data so far) for a few generations. What happens to the measures, and what to the training time?
#
# :::{admonition} Solution
# :class: dropdown
# `vae.run_vae_batch(data.x_train, 5, meter, config, seeds=seeds, approach=3)`: the real images stay in
# the training set forever and are a share $1/(t+1)$ of it. The training set grows by $N$ each generation,
# and so does the time per generation: accumulation costs compute.
# :::
#
# 3. Fresh Bernoulli draws: run the authors' protocol on Bernoulli draws instead of means
#    (`vae.Variant(config, 5, protocol="fresh")` with `config.decode == "bernoulli"`, through
#    `vae.run_variants`). Which error does that remove from the book's default, and which remains?
#
# :::{admonition} Solution
# :class: dropdown
# It removes the statistical approximation error of the book's default (a fixed sample of Bernoulli draws)
# while keeping its kind of data, so comparing it with the "Bernoulli draws" runs separates the sample size
# from the kind of data, as the "decoder means" runs do for the authors' protocol. What remains is the
# functional error of each fit, and the binarisation shift measured above.
# :::
#
# 4. With the sliders (retention 0, 0.1 and 0.5; generations 0 to the last), find for each retention the
#    first generation at which the class histogram puts more than half of the samples on one digit.
#
# :::{admonition} Solution
# :class: dropdown
# Set "show" to classes and step the generation slider for each retention value. The answer depends on the
# seed and profile; the retention figure above gives the same information for all seeds as the class
# entropy (one digit holding more than half of the samples keeps the entropy under about 2.6 bits).
# :::
#
# 5. The Fréchet distance of two samples of the *same* distribution is not zero: with finite samples, the
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
# 6. Why does the classifier assign late, blurred samples to a few digits rather than spreading them
#    evenly over all ten?
#
# :::{admonition} Solution
# :class: dropdown
# A classifier must assign every input to some digit, and it has never seen a blend. An average of many
# strokes is dark in the centre and round, which lies closest (in the classifier's features) to the
# round digits. So the histogram reflects where the blobs sit among the classes, not real digits: that
# is why the entropy alone can mislead, and why the Fréchet distance and the variety, which look at the
# whole feature distribution, are the more trustworthy measures.
# :::
