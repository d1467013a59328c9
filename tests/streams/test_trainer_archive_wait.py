"""A retrain job waits for the archive to catch up with the learner's window before it reads its
training data: the worker archives an event a moment after the learner learns it."""

from datetime import UTC, datetime, timedelta

from streams.core.contracts import Interaction, RetrainRequest, TimeWindow
from streams.core.settings import Settings
from streams.stores.archive import write_batch
from streams.trainer.service import training_events

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


def rating(n: int) -> Interaction:
    return Interaction(
        user_id=f"u{n % 3}", item_id=f"i{n}", event_type="rating", value=4.0, timestamp=T0 + timedelta(seconds=n)
    )


def request(end: datetime, events: int | None) -> RetrainRequest:
    return RetrainRequest(
        model_name="ranker", trigger="volume", reason="test", data_window=TimeWindow(end=end, events=events)
    )


class Clock:
    def __init__(self, on_sleep=lambda: None):
        self.now, self.sleeps, self.on_sleep = 0.0, 0, on_sleep

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        self.on_sleep()


def test_the_job_waits_until_the_learners_newest_event_is_archived(tmp_path):
    settings = Settings(_env_file=None, archive_dir=tmp_path)
    write_batch(tmp_path, [(0, n, rating(n)) for n in range(5)])  # the worker is behind: 0..4 of 0..9
    late = [(0, n, rating(n)) for n in range(5, 10)]
    clock = Clock(on_sleep=lambda: write_batch(tmp_path, late) if clock.sleeps == 3 else None)
    frame = training_events(settings, request(rating(9).timestamp, events=10), clock.sleep, clock)
    assert clock.sleeps == 3
    assert sorted(frame["item_id"]) == sorted(f"i{n}" for n in range(9))  # [start, end): the newest is the end


def test_the_job_trains_on_what_is_there_after_the_wait(tmp_path):
    settings = Settings(_env_file=None, archive_dir=tmp_path, trainer_archive_wait_s=5)
    write_batch(tmp_path, [(0, n, rating(n)) for n in range(5)])
    clock = Clock()
    frame = training_events(settings, request(rating(9).timestamp, events=10), clock.sleep, clock)
    assert clock.now >= 5 and len(frame) == 5


def test_a_window_set_by_hand_is_read_at_once(tmp_path):
    settings = Settings(_env_file=None, archive_dir=tmp_path)
    write_batch(tmp_path, [(0, n, rating(n)) for n in range(5)])
    clock = Clock()
    frame = training_events(settings, request(rating(30).timestamp, events=None), clock.sleep, clock)
    assert clock.sleeps == 0 and len(frame) == 5
