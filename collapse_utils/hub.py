"""Is the Hugging Face hub reachable? One quick probe shared by the chapters.

``transformers`` and ``datasets`` retry an unreachable hub for about half a
minute before they fail; probing first lets the chapters fall back to their
embedded defaults at once, and say why.
"""

from __future__ import annotations

import os
import socket

HUB_HOST = ("huggingface.co", 443)
OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether ``huggingface.co:443`` accepts a connection within ``timeout`` seconds.

    Returns ``False`` at once when one of :data:`OFFLINE_VARIABLES` is set to a
    true value (``1``, ``true``, ``yes``, ``on``).
    """
    for var in OFFLINE_VARIABLES:
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return False
    try:
        with socket.create_connection(HUB_HOST, timeout=timeout):
            return True
    except OSError:
        return False
