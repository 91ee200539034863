"""Chapter 3: recursive training of variational autoencoders on handwritten digits.

Shumailov et al. train a variational autoencoder (VAE) on MNIST, then train the
next VAE only on images that the previous one generates, and so on. This
package runs that recursion with the shared data schedules
(:mod:`collapse_utils.schedules`), for one run or many runs at once.

**Generation** means one thing throughout: generation 0 is the VAE trained on
the original (real) images; generation ``t + 1`` is a fresh VAE trained on the
training set built from generation ``t``'s samples (and, with retention, real
images). The real data are not a generation. Retention here is *fixed*: the
retained images are a subsample of the original training sample.

Modules
-------
:mod:`~collapse_utils.vae.data`
    MNIST (hub or a local folder of the hub's shape) or scikit-learn's digits;
:mod:`~collapse_utils.vae.nets`
    the networks: the book's fully connected VAE, the authors' convolutional
    shape, and both stacked to train many at once;
:mod:`~collapse_utils.vae.model`
    the configuration, training one at a time (:func:`train_vae`) or many at
    once (:func:`train_vaes`), on a fixed set of images or on a teacher's fresh
    samples every batch (the authors' protocol), and sampling;
:mod:`~collapse_utils.vae.judge`
    the digit classifier trained once on real images and the per-generation measures;
:mod:`~collapse_utils.vae.recursion`
    the recursion, one run (:func:`run_vae_generations`) or a batch of runs
    (:func:`run_vae_batch`), under the book's protocol (a fixed sample per
    generation) or the authors' (fresh samples every batch), and :class:`VAERun`;
:mod:`~collapse_utils.vae.sentences`
    the chapter's sentences computed from its runs;
:mod:`~collapse_utils.vae.findings`
    the chapter's verdicts (the two protocols, retention, generation 0's
    losses, the paper's Figure 9 against the authors' recorded numbers), each
    sentence's explanation chosen by the computed verdict;
:mod:`~collapse_utils.vae.plots`
    the chapter's figures.

Randomness: all sampling (latents, Bernoulli pixels, the data schedule) comes
from the run's numpy generator; each fit derives a torch seed from it for the
initialisation, the mini-batch order and the reparameterisation noise. A run
is therefore reproducible from its seed on a given device and thread count.
"""

from .data import MNIST_ID, SOURCES, ImageData, check_images, load_digits_arrays, load_images, load_mnist_arrays, tile_images
from .judge import (
    METRICS,
    N_CLASSES,
    DigitClassifier,
    GenerationMeter,
    class_entropy,
    feature_stats,
    frechet_distance,
    latent_spread,
    latent_tail,
    softmax,
    train_classifier,
)
from .model import (
    ACTIVE_THRESHOLD,
    DECODE_MODES,
    REDUCTIONS,
    FittedVAE,
    VAEConfig,
    check_device,
    multiply_adds,
    torch_seed,
    train_vae,
    train_vaes,
    training_flops,
)
from .nets import ARCHS, VAE, ConvVAE, StackedConvVAE, StackedVAE, stack_vaes
from .plots import (
    plot_class_heatmap,
    plot_generation,
    plot_images,
    plot_latent_density,
    plot_metrics,
    plot_overview,
    plot_sample_grids,
)
from .recursion import (
    PROTOCOLS,
    RETAINED,
    SERIES,
    Variant,
    VAERun,
    check_protocol,
    protocol_configs,
    run_vae_batch,
    run_vae_generations,
    run_variants,
    stack,
)
from .findings import (
    AUTHORS_LATENT_SD,
    authors_ratio_range,
    compare_halving,
    decode_explanation,
    figure9_note,
    findings_items,
    halving,
    latent_sentence,
    lost_at_start_sentence,
    protocol_sentence,
    protocol_verdict,
    retention_sentence,
    retention_verdict,
    takeaway,
)
from .sentences import (
    active_dims_sentence,
    binarisation_sentence,
    binarise,
    decode_sentence,
    first_generation_below,
    first_lost,
    first_lost_sentence,
    never_lost_sentence,
    ordering_sentence,
    trajectory_sentence,
)

__all__ = [
    "ACTIVE_THRESHOLD",
    "ARCHS",
    "PROTOCOLS",
    "REDUCTIONS",
    "ConvVAE",
    "StackedConvVAE",
    "check_protocol",
    "latent_spread",
    "latent_tail",
    "multiply_adds",
    "stack_vaes",
    "AUTHORS_LATENT_SD",
    "Variant",
    "authors_ratio_range",
    "compare_halving",
    "decode_explanation",
    "figure9_note",
    "findings_items",
    "halving",
    "latent_sentence",
    "lost_at_start_sentence",
    "plot_latent_density",
    "plot_overview",
    "protocol_sentence",
    "protocol_verdict",
    "retention_sentence",
    "retention_verdict",
    "run_variants",
    "protocol_configs",
    "takeaway",
    "DECODE_MODES",
    "METRICS",
    "MNIST_ID",
    "N_CLASSES",
    "RETAINED",
    "SERIES",
    "SOURCES",
    "VAE",
    "DigitClassifier",
    "FittedVAE",
    "GenerationMeter",
    "ImageData",
    "StackedVAE",
    "VAEConfig",
    "VAERun",
    "active_dims_sentence",
    "binarisation_sentence",
    "binarise",
    "check_device",
    "check_images",
    "class_entropy",
    "decode_sentence",
    "feature_stats",
    "first_generation_below",
    "first_lost",
    "first_lost_sentence",
    "frechet_distance",
    "load_digits_arrays",
    "load_images",
    "load_mnist_arrays",
    "never_lost_sentence",
    "ordering_sentence",
    "plot_class_heatmap",
    "plot_generation",
    "plot_images",
    "plot_metrics",
    "plot_sample_grids",
    "run_vae_batch",
    "run_vae_generations",
    "softmax",
    "stack",
    "tile_images",
    "torch_seed",
    "train_classifier",
    "train_vae",
    "train_vaes",
    "training_flops",
    "trajectory_sentence",
]
