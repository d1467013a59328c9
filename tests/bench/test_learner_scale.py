"""The scale-out bench's arithmetic: events learned by a moment, from a learner's batches."""

import pytest

from bench.learner_scale import _events_at


def test_events_at_a_moment_interpolate_between_batches():
    timeline = [(10.0, 1_000), (12.0, 3_000), (13.0, 3_500)]
    assert _events_at(timeline, 11.0) == pytest.approx(2_000)
    assert _events_at(timeline, 12.0) == 3_000
    assert _events_at(timeline, 9.0) == 1_000 and _events_at(timeline, 20.0) == 3_500  # before / after: the ends
