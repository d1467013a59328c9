"""Read your writes when the broker is down: the answer is not held up for long, once a second at most."""

import time

from serving.read_your_writes import ReadYourWrites, Settled
from serving.recent_events import RecentEvents
from streams.core.settings import Settings
from streams.infra.kafka import free_port


def test_a_broker_outage_costs_one_budget_then_answers_go_out_at_once():
    settings = Settings(_env_file=None, kafka_bootstrap_servers=f"127.0.0.1:{free_port()}")  # nothing listens there
    outcomes: list[Settled] = []
    reads = ReadYourWrites(settings, RecentEvents(), budget_s=0.2, counted=outcomes.append)
    try:
        began = time.monotonic()
        first = reads.settle("u1")
        then = time.monotonic()
        second = reads.settle("u1")
        after = time.monotonic()
    finally:
        reads.close()
    reads._unavailable_until = 0.0  # past the pause: the closed consumer is asked again
    assert reads.settle("u2") == Settled.UNAVAILABLE  # an answer in flight at shutdown never fails for it
    outcomes.pop()
    assert (first, second) == (Settled.UNAVAILABLE, Settled.SKIPPED) and outcomes == [first, second]
    assert then - began < 2.0  # the budget, give or take a loaded machine: never the client's own timeouts
    assert after - then < 0.05  # no broker round trip at all
