"""`streamrec trainer` yields the cores to the stream: it runs at the configured niceness, and so
does its autogroup (Linux weighs sessions against each other first, and each service runs in a
session of its own)."""

import os
import re
import subprocess
import sys
from pathlib import Path


def _after(niceness: int) -> tuple[int, str]:
    code = (
        f"import os, pathlib; from streams.cli.trainer import yield_cpu; yield_cpu({niceness}); "
        "a = pathlib.Path('/proc/self/autogroup'); print(os.nice(0), a.read_text() if a.exists() else '')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, start_new_session=True
    ).stdout.split(" ", 1)
    return int(out[0]), out[1]


def test_the_trainer_process_and_its_session_run_at_the_configured_niceness_and_zero_leaves_them_alone():
    base = os.nice(0)  # the test runner's own, inherited by the child
    niceness, autogroup = _after(10)
    assert niceness == min(base + 10, 19)
    if Path("/proc/self/autogroup").exists():
        assert re.search(rf"nice {niceness}\b", autogroup), autogroup
    niceness, autogroup = _after(0)
    assert niceness == base
    if Path("/proc/self/autogroup").exists():
        assert re.search(rf"nice {base}\b", autogroup), autogroup
