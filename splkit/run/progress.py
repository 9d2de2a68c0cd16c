"""One progress bar for every long step: a plain-text tqdm bar on the terminal, none in batch runs.

``splkit run`` sets ``SPLKIT_BATCH=1`` for the notebook kernels it starts, because a progress bar in an
executed notebook ends up as hundreds of carriage-return updates in the book; the runner prints its own
progress line per notebook instead.  Interactive use (a terminal, JupyterLab) keeps the bar.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from tqdm.std import tqdm

BATCH_ENV = "SPLKIT_BATCH"


def progress_bar(iterable: Iterable | None = None, **kwargs) -> tqdm:
    """``tqdm(iterable, **kwargs)`` as text (no ipywidgets needed), disabled in batch runs."""
    kwargs.setdefault("disable", bool(os.environ.get(BATCH_ENV)))
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)
