"""Write one benchmark's section into docs/benchmarks.md (between its markers), with the machine."""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

HEADER = """# Benchmarks

Measured on the project's own machines; every figure states its command and conditions.
Ratios against a baseline measured in the same run are the figures to compare across
machines (absolute numbers move with the host's load). Each section is rewritten by its
`streamrec bench ...` command.
"""


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def write_section(name: str, body: str, path: Path = Path("docs/benchmarks.md")) -> Path:
    """Replace (or append) the section marked ``<!-- bench:name -->`` in ``path``."""
    text = path.read_text() if path.is_file() else HEADER
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"<!-- bench:{name} -->\n{body.strip()}\n\n_Run {stamp} on: {machine()}._\n<!-- /bench:{name} -->"
    pattern = re.compile(rf"<!-- bench:{re.escape(name)} -->.*?<!-- /bench:{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
