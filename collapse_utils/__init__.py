"""Helpers of the executable book *Model Collapse*.

One module per chapter (:mod:`.gaussian`, :mod:`.gmm`, the packages :mod:`.vae` and
:mod:`.llm`) plus the shared pieces: scale profiles and seeds (:mod:`.profiles`),
argument validators (:mod:`.validate`), the generational loop and data schedules
(:mod:`.schedules`), figure style and bands (:mod:`.plotting`), computed sentences
(:mod:`.prose`), progress bars (:mod:`.progress`), sliders (:mod:`.widgets`,
:mod:`.live`) and the hub probe (:mod:`.hub`).

Throughout, generation 0 is the model fitted to the original data and generation
t + 1 the model fitted to data built from generation t's samples.
"""

__version__ = "0.1.0"

#: The book's repository (also set in ``_config.yml``; a test checks that they agree).
REPOSITORY = "https://github.com/model-collapse-book/model-collapse"


def colab_url(notebook: str) -> str:
    """The Colab address of a chapter, e.g. ``colab_url("01_gaussian")``."""
    path = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{path}/blob/main/notebooks/{notebook}.ipynb"
