"""Processes that never train or score with torch keep it out of their memory."""

from __future__ import annotations

import sys


def hide_torch() -> bool:
    """Make ``import torch`` raise ImportError in this process; False if torch is already loaded.

    Feast imports torch as it is imported itself, whenever torch is installed
    (``feast.torch_wrapper``), only to offer tensors from offline retrieval. The worker's
    processing child never asks for those, yet paid for them: importing Feast took 12.6 s and
    788 MB with torch and 7.7 s and 187 MB without it (2026-12-07, 2 vCPU). Call this before
    anything imports Feast, in a process of its own.

    >>> import subprocess, sys
    >>> code = "from streams.core.torch_free import hide_torch; hide_torch(); import torch"
    >>> "import of torch halted" in subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr
    True
    """
    if "torch" in sys.modules:
        return False
    sys.modules["torch"] = None  # the import system's documented way to make an import fail
    return True
