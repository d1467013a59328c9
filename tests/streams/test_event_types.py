"""One event-type table (streams/core/events.py): a type added there flows through the contract,
the online features, the Feast views, the learners' targets and the training labels -- no KeyError,
no dead letter. Run in a fresh interpreter, since the contract builds its enum at import."""

import subprocess
import sys
import textwrap

from streams.core import events
from streams.core.contracts import EventType


def test_the_contract_and_the_table_agree():
    assert [t.value for t in EventType] == events.names()


def test_a_new_event_type_flows_everywhere(project_root):
    script = textwrap.dedent("""
        import pandas as pd
        from streams.core import events
        events.register(events.EventKind("share", weight=3.5, affinity=2.5, grade=3, positive=True))

        from streams.core.contracts import Interaction, encode, decode
        from streams.features.user import UserState, user_features
        from models.learners.targets import implicit_target, is_positive
        from models.batch.data import graded_labels
        from streams.stores.feast import definitions
        from streams.core.settings import Settings

        event = decode(Interaction, encode(Interaction(user_id="u", item_id="i", event_type="share")))
        state = UserState()
        state.apply(event, 0, 0, category="books")
        row = user_features(state)
        assert row["share_24h"] == 1, row
        assert state.affinity["books"] == 2.5
        assert implicit_target("share", None) == 3.5 and is_positive("share", None)
        labels = graded_labels(pd.DataFrame({"event_type": ["share", "view"], "value": [None, None]}))
        assert labels.tolist() == [3, 1]
        views = {d.name: d for d in definitions(Settings(_env_file=None).feature_repo)}
        assert "share_24h" in {f.name for f in views["user_features"].schema}
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=project_root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]
