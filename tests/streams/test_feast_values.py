"""The worker writes Feast's Value and Timestamp protos as bytes of its own; they must be the
bytes protobuf itself produces, or Feast would read other values (or none)."""

import math
import random
from datetime import UTC, datetime

import pytest
from feast.protos.feast.types.Value_pb2 import StringList, Value
from google.protobuf.timestamp_pb2 import Timestamp

from streams.stores.feast_values import encoder, timestamp_bytes

rng = random.Random(7)
INTS = [0, 1, 127, 128, 1023, 1024, 16_384, 2**31, 2**63 - 1, -1, -128, -(2**63)] + [
    rng.randint(-(10**12), 10**12) for _ in range(300)
]
FLOATS = [0.0, -0.0, 0.5, 1 / 3, 1e-30, 3.4e38, 1e39, -1e300, math.inf, -math.inf, math.nan] + [
    rng.uniform(-1e6, 1e6) for _ in range(300)
]
STRINGS = ["", "a", "é ☃ 𝄞", "x" * 300] + [str(rng.random()) for _ in range(50)]


def test_int64_values_are_protobufs_bytes():
    for n in INTS:
        assert encoder("INT64")(n) == Value(int64_val=n).SerializeToString(), n


def test_float_and_double_values_are_protobufs_bytes():
    for x in FLOATS:
        assert encoder("FLOAT")(x) == Value(float_val=x).SerializeToString(), x
        assert encoder("DOUBLE")(x) == Value(double_val=x).SerializeToString(), x


def test_strings_lists_and_missing_strings_are_protobufs_bytes():
    for s in STRINGS:
        assert encoder("STRING")(s) == Value(string_val=s).SerializeToString()
    for size in (0, 1, 3, 20, 200):
        items = [rng.choice(STRINGS) for _ in range(size)]
        assert encoder("STRING_LIST")(items) == Value(string_list_val=StringList(val=items)).SerializeToString()
    assert encoder("STRING")(None) == Value().SerializeToString()


def test_they_decode_to_the_values_written():
    assert Value.FromString(encoder("INT64")(-5)).int64_val == -5
    assert Value.FromString(encoder("STRING_LIST")(["i1", "i2"])).string_list_val.val == ["i1", "i2"]


TIMES = [0.0, 1.0, 0.000001, 1_767_225_899.15479, 1_796_112_639.999999, 2_000_000_000.5, -1.25]


def test_timestamps_are_what_from_datetime_sets():
    for t in TIMES + [rng.uniform(0, 4e9) for _ in range(300)]:
        stamp = Timestamp()
        stamp.FromDatetime(datetime.fromtimestamp(t, UTC))
        assert timestamp_bytes(t) == stamp.SerializeToString(), t


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="no encoder"):
        encoder("BYTES_LIST")
