"""How many cores one process's OCR engine may use: this process's cores, shared among the
worker processes a batch runs at once (it sets `WORKERS` in each of them). A lone worker (one
file, a bench page) reads a page on every core; a batch of one worker per core, one each."""

from __future__ import annotations

import os

WORKERS = 1  # processes of this batch reading at once on this machine (set in each worker)


def usable() -> int:
    """The cores this process may run on (its affinity: a container's or taskset's share)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def per_worker(most: int) -> int:
    """Threads for one worker's engine: its share of the cores, at least one, at most `most`."""
    return max(1, min(most, usable() // max(1, WORKERS)))
