"""The images of chapter 3: MNIST from the hub (or a local folder of the same shape), or scikit-learn's digits.

:func:`load_images` returns an :class:`ImageData` (train and held-out test
images with their labels, grey levels in ``[0, 1]``). ``source="auto"`` loads
MNIST (28 x 28, as in the paper) with the ``datasets`` library when the Hugging
Face hub is reachable (:func:`collapse_utils.hub.hub_reachable`) and otherwise
falls back at once to scikit-learn's handwritten digits (8 x 8, shipped with
scikit-learn, no download), saying which path it took and why. ``mnist_path``
points the MNIST path at a local copy of the hub dataset instead (a folder of
parquet files with ``image`` and ``label`` columns, as the hub stores it, or a
``datasets.save_to_disk`` folder): the same code as the hub up to the network.
Everything downstream takes the image side from the data, so both sizes run
through the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import validate
from ..hub import hub_reachable

SOURCES = ("auto", "mnist", "digits")
MNIST_ID = "ylecun/mnist"
"""The Hugging Face dataset that ``source="mnist"`` loads."""
MNIST_SIDE = 28


@dataclass(frozen=True)
class ImageData:
    """Grey-level images in ``[0, 1]`` with digit labels, split into train and test.

    ``x_train`` and ``x_test`` have shape ``(n, side, side)`` (``float32``);
    ``y_train`` and ``y_test`` hold the digits (``int64``). ``source`` is
    ``"mnist"`` or ``"digits"`` and ``note`` says how the data were chosen.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    note: str = ""

    @property
    def side(self) -> int:
        """Image side in pixels (28 for MNIST, 8 for the digits)."""
        return int(self.x_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.x_test.shape[0])

    def describe(self) -> str:
        """One line: source, image size, split sizes."""
        name = "MNIST" if self.source == "mnist" else "scikit-learn digits"
        return f"{name}: {self.side}x{self.side} images, {self.n_train} for training, {self.n_test} held out"


def check_images(images: Any, side: int | None = None, name: str = "images") -> np.ndarray:
    """Validate a stack of square grey-level images and return it as ``float32``.

    Accepts an array of shape ``(n, side, side)`` with ``n >= 1`` and finite
    values in ``[0, 1]``; ``side``, when given, must match.

    Raises
    ------
    ValueError
        For any other shape, an empty stack, or values outside ``[0, 1]``.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 3 or x.shape[1] != x.shape[2]:
        raise ValueError(f"{name} must have shape (n, side, side) (square images), got {x.shape}")
    if side is not None and x.shape[1] != side:
        raise ValueError(f"{name} must be {side}x{side} images, got {x.shape[1]}x{x.shape[2]}")
    if x.shape[0] < 1:
        raise ValueError(f"{name} must hold at least one image, got {x.shape[0]}")
    if x.shape[1] < 1:
        raise ValueError(f"{name} must have at least one pixel, got shape {x.shape}")
    if not np.all(np.isfinite(x)) or x.min() < 0.0 or x.max() > 1.0:
        raise ValueError(f"{name} must hold finite values in [0, 1], got range [{x.min()}, {x.max()}]")
    return x


def _subsample(x: np.ndarray, y: np.ndarray, limit: int | None, rng: np.random.Generator):
    if limit is None or limit >= len(x):
        return x, y
    idx = np.sort(rng.choice(len(x), size=limit, replace=False))
    return x[idx], y[idx]


def _split_arrays(split) -> tuple[np.ndarray, np.ndarray]:
    x = np.stack([np.asarray(im, dtype=np.uint8) for im in split["image"]]).astype(np.float32) / 255.0
    return x, np.asarray(split["label"], dtype=np.int64)


def load_mnist_arrays(location: str | Path = MNIST_ID) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as ``(x_train, y_train, x_test, y_test)`` from the hub or a local folder.

    ``location`` is the hub id (:data:`MNIST_ID`), a folder of the hub's shape
    (parquet files named ``train-*`` and ``test-*`` with ``image`` and ``label``
    columns; ``datasets.load_dataset`` reads it exactly as it reads the hub), or
    a folder written by ``DatasetDict.save_to_disk``.

    Raises
    ------
    ValueError
        When the data have no ``train``/``test`` split, no ``image``/``label``
        columns, or images that are not 28 x 28.
    """
    import datasets

    path = Path(location)
    if path.is_dir() and (path / "dataset_dict.json").exists():
        ds = datasets.load_from_disk(str(path))
    else:
        ds = datasets.load_dataset(str(location))
    for split in ("train", "test"):
        if split not in ds:
            raise ValueError(f"MNIST at {location} must have a {split!r} split, got {list(ds)}")
        missing = {"image", "label"} - set(ds[split].column_names)
        if missing:
            raise ValueError(f"MNIST at {location} must have 'image' and 'label' columns, missing {sorted(missing)}")
    x_tr, y_tr = _split_arrays(ds["train"])
    x_te, y_te = _split_arrays(ds["test"])
    if x_tr.shape[1:] != (MNIST_SIDE, MNIST_SIDE) or x_te.shape[1:] != (MNIST_SIDE, MNIST_SIDE):
        raise ValueError(f"MNIST images must be 28x28, got {x_tr.shape[1:]} and {x_te.shape[1:]}")
    return x_tr, y_tr, x_te, y_te


def load_digits_arrays(test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """scikit-learn's 8 x 8 digits (1797 images, 17 grey levels), split stratified by ``test_fraction``."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)  # 17 grey levels 0..16
    y = digits.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    return x_tr, y_tr, x_te, y_te


def load_images(
    source: str = "auto",
    max_train: int | None = None,
    max_test: int | None = None,
    seed: int = 0,
    test_fraction: float = 0.25,
    verbose: bool = True,
    mnist_path: str | Path | None = None,
) -> ImageData:
    """Load handwritten digits: MNIST when possible, scikit-learn's digits otherwise.

    Parameters
    ----------
    source:
        ``"mnist"`` (MNIST through ``datasets``; errors propagate),
        ``"digits"`` (scikit-learn's 8 x 8 digits, 1797 images, split
        stratified into train and test by ``test_fraction``) or ``"auto"``
        (MNIST if the hub is reachable, or ``mnist_path`` is given, and
        loading works; else the digits, at once, with a one-line reason).
    max_train, max_test:
        Optional caps on the split sizes (a seeded random subset).
    seed:
        Seed of the digits split and of the subsets.
    verbose:
        Print which data were loaded and why.
    mnist_path:
        A local folder of the hub dataset's shape to read MNIST from instead
        of the hub (see :func:`load_mnist_arrays`).
    """
    source = validate.choice("source", source, SOURCES)
    for name, value in (("max_train", max_train), ("max_test", max_test)):
        if value is not None:
            validate.integer(name, value, 1)
    test_fraction = validate.real("test_fraction", test_fraction, 0.0, 1.0, low_open=True, high_open=True)
    seed = validate.integer("seed", seed, 0)
    verbose = validate.boolean("verbose", verbose)
    if mnist_path is not None and not Path(mnist_path).is_dir():
        raise ValueError(f"mnist_path must be an existing folder, got {str(mnist_path)!r}")
    location = MNIST_ID if mnist_path is None else mnist_path
    where = "the Hugging Face hub" if mnist_path is None else f"the local folder {mnist_path}"

    arrays = None
    mnist_note = f"MNIST (28x28, as in the paper) loaded from {where}"
    if source == "mnist":
        arrays, used, note = load_mnist_arrays(location), "mnist", mnist_note
    elif source == "auto":
        if mnist_path is None and not hub_reachable():
            note = (
                "the Hugging Face hub is not reachable, so this chapter uses scikit-learn's 8x8 digits "
                "instead of the paper's MNIST (same code; where the hub is reachable, as on Colab, it loads MNIST)"
            )
        else:
            try:
                arrays, used, note = load_mnist_arrays(location), "mnist", mnist_note
            except Exception as error:  # any network or format problem: fall back, and say so
                note = (
                    f"loading MNIST from {where} failed ({type(error).__name__}: {str(error)[:120]}), "
                    "so this chapter uses scikit-learn's 8x8 digits instead"
                )
    else:
        note = "scikit-learn's 8x8 digits, as requested"
    if arrays is None:
        arrays, used = load_digits_arrays(test_fraction, seed), "digits"
    x_tr, y_tr, x_te, y_te = arrays
    rng = np.random.default_rng(seed)
    x_tr, y_tr = _subsample(x_tr, y_tr, max_train, rng)
    x_te, y_te = _subsample(x_te, y_te, max_test, rng)
    data = ImageData(
        check_images(x_tr, name="training images"),
        y_tr,
        check_images(x_te, name="test images"),
        y_te,
        used,
        note,
    )
    if verbose:
        print(f"data: {data.describe()}\n      ({note})")
    return data


def tile_images(images: np.ndarray, ncols: int | None = None, pad: int = 1, fill: float = 1.0) -> np.ndarray:
    """Arrange ``(n, side, side)`` images in a mosaic (rows of ``ncols``), separated by ``pad`` pixels."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 3 or x.shape[0] < 1:
        raise ValueError(f"images must have shape (n, side, side) with n >= 1, got {x.shape}")
    n, h, w = x.shape
    ncols = int(np.ceil(np.sqrt(n))) if ncols is None else validate.integer("ncols", ncols, 1)
    pad = validate.integer("pad", pad, 0)
    nrows = int(np.ceil(n / ncols))
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), fill, dtype=np.float32)
    for i in range(n):
        r, c = divmod(i, ncols)
        out[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = x[i]
    return out
