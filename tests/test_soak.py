"""Uploads at once, good and hostile, against a running server: stored once, refused with reasons,
the server's memory flat, nothing left running (200 uploads: slow, run by `make bench` too)."""

from __future__ import annotations

import pytest

from xxgk.soak import run

from .conftest import SHARED


def test_a_few_uploads_at_once_leave_the_server_as_it_was() -> None:
    soak = run(SHARED / "corpus", uploads=8, at_once=4, hostile=4)
    assert soak.problems == [] and soak.left_running == []
    assert soak.stored == soak.good == 4 and soak.refused == soak.hostile == 4
    assert soak.end_rss_mb <= 1.10 * soak.start_rss_mb


@pytest.mark.slow
def test_soak_200_uploads_20_at_a_time_20_hostile() -> None:
    soak = run(SHARED / "corpus", uploads=200, at_once=20, hostile=20)
    assert soak.problems == [] and soak.left_running == []
    assert soak.stored == soak.good == 180 and soak.refused == soak.hostile == 20
    assert soak.end_rss_mb <= 1.10 * soak.start_rss_mb
