"""The compact stored form of a user's state: the same state back, fewer bytes, older forms read."""

import cramjam
import orjson

from streams.features.state_store import COMPACT_TAG, LZ4_TAG, decode, encode
from streams.features.user import UserState, user_features
from tests.streams.test_features import generated


def folded(n=4000, seed=9) -> tuple[dict[str, UserState], list]:
    events, categories = generated(n=n, seed=seed)
    states: dict[str, UserState] = {}
    for offset, e in enumerate(events):
        states.setdefault(e.user_id, UserState()).apply(e, 0, offset, categories.get(e.item_id))
    return states, events


def test_every_state_comes_back_whole_and_keeps_recognising_copies():
    states, events = folded()
    for state in states.values():
        back = decode(encode(state), UserState)
        assert back.to_dict() == state.to_dict()
        assert user_features(back) == user_features(state)
    newest = events[-1]
    back = decode(encode(states[newest.user_id]), UserState)
    assert back.classify(newest, 0, len(events) + 5) == "duplicate"  # a re-sent copy at another offset
    assert back.apply(newest, 0, len(events) - 1, None) is False  # its own record again


def test_compact_form_is_smaller_than_the_json_one():
    states, _ = folded()
    json_form = sum(
        len(cramjam.lz4.compress_block(orjson.dumps(s.to_dict(), option=orjson.OPT_NON_STR_KEYS)))
        for s in states.values()
    )
    compact = sum(len(encode(s)) for s in states.values())
    assert encode(next(iter(states.values())))[:1] == COMPACT_TAG
    assert compact < 0.8 * json_form


def test_states_stored_in_the_older_forms_are_still_read():
    states, _ = folded(n=1500)
    for state in list(states.values())[:20]:
        raw = orjson.dumps(state.to_dict(), option=orjson.OPT_NON_STR_KEYS)
        for blob in (raw, LZ4_TAG + bytes(cramjam.lz4.compress_block(raw))):
            assert decode(blob, UserState).to_dict() == state.to_dict()
        assert decode(encode(decode(raw, UserState)), UserState).to_dict() == state.to_dict()
