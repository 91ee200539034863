"""Helpers of the executable book *Model Collapse*.

One module per chapter (:mod:`.gaussian`, :mod:`.gmm`, :mod:`.vae`, :mod:`.llm`)
plus the shared pieces: scale profiles (:mod:`.profiles`), the generational loop
and data schedules (:mod:`.schedules`) and sliders (:mod:`.widgets`).
"""

__version__ = "0.1.0"
