"""An independent client (kcat, librdkafka's CLI) reads what our producer wrote, and vice versa."""

import json
import shutil
import subprocess

import pytest

from streams.core.contracts import Interaction, decode
from streams.kafka.producer import EventProducer
from tests.conftest import IN_CI

pytestmark = pytest.mark.integration


@pytest.fixture
def kcat():
    path = shutil.which("kcat")
    if path is None:
        if IN_CI:
            pytest.fail("kcat is not installed (infra/setup.sh installs it)")
        pytest.skip("kcat not installed")
    return path


def test_kcat_reads_our_records(settings, catalog, kcat):
    events = [
        Interaction(user_id=f"u{i % 7}", item_id=f"i{i}", event_type="click", event_id=f"k{i}") for i in range(200)
    ]
    with EventProducer(settings, catalog) as producer:
        for e in events:
            producer.send(e)
    out = subprocess.run(
        [
            kcat,
            "-C",
            "-b",
            settings.kafka_bootstrap_servers,
            "-t",
            catalog.name("interactions"),
            "-o",
            "beginning",
            "-c",
            "200",
            "-J",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    envelopes = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert len(envelopes) == 200
    got = {decode(Interaction, env["payload"]).event_id: env["key"] for env in envelopes}
    assert got == {e.event_id: e.user_id for e in events}


def test_records_written_by_kcat_satisfy_our_contract(settings, catalog, kcat):
    from streams.kafka.readers import read_topic

    line = Interaction(user_id="u-kcat", item_id="i1", event_type="like").model_dump_json()
    subprocess.run(
        [kcat, "-P", "-b", settings.kafka_bootstrap_servers, "-t", catalog.name("interactions"), "-K", "\t"],
        input=f"u-kcat\t{line}\n",
        text=True,
        timeout=30,
        check=True,
    )
    [record] = list(read_topic(settings, catalog.name("interactions"), expected=1, max_seconds=30))
    assert record.key() == b"u-kcat" and decode(Interaction, record.value()).event_type == "like"
