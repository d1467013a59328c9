"""The worker's processing child loads Feast without torch, and everything it writes with still works."""

import json
import subprocess
import sys

CHILD = """
import json, sys
from streams.core.torch_free import hide_torch
hidden = hide_torch()
from streams.stores.feast import open_store  # noqa: E402 (after hiding, as the child does)
from streams.stores.feast_values import encoder  # noqa: E402
import feast.torch_wrapper  # noqa: E402
from feast.protos.feast.types.Value_pb2 import Value  # noqa: E402
print(json.dumps({
    "hidden": hidden,
    "torch_loaded": sys.modules.get("torch") is not None,
    "feast_sees_torch": feast.torch_wrapper.TORCH_AVAILABLE,
    "value": Value(int64_val=7).SerializeToString().hex(),
}))
"""


def test_the_processing_child_loads_feast_without_torch():
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout
    seen = json.loads(out.strip().splitlines()[-1])
    assert seen == {"hidden": True, "torch_loaded": False, "feast_sees_torch": False, "value": "2007"}


def test_a_process_that_already_has_torch_keeps_it():
    code = "import torch, sys; from streams.core.torch_free import hide_torch; print(hide_torch(), sys.modules['torch'] is torch)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True"]
