"""Read interaction events from JSONL or CSV files, line by line.

A malformed line is reported (line number, field, reason), counted and skipped; the rest of
the file goes on.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "events.jsonl"
>>> _ = p.write_text('{"user_id": "u1", "item_id": "i1", "event_type": "click"}\\n'
...                  '{"user_id": "u1", "item_id": "i1", "event_type": "jump"}\\n')
>>> report = SourceReport()
>>> [e.item_id for e in read_interactions(p, report)]
['i1']
>>> report.rejected, report.rejections[0].line
(1, 2)
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streams.core.contracts import Interaction, decode, parse
from streams.core.errors import ConfigError, InvalidEvent

MAX_KEPT_REJECTIONS = 1000
JSON_SUFFIXES = {".jsonl", ".ndjson", ".json"}


@dataclass(frozen=True)
class Rejection:
    """One input line that did not become an event, and why."""

    line: int
    reason: str
    raw: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class SourceReport:
    """Counts of what a source read; keeps the first rejections for the user to see."""

    accepted: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def reject(self, line: int, reason: str, raw: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_KEPT_REJECTIONS:
            self.rejections.append(Rejection(line, reason, raw[:500]))


def read_interactions(path: Path, report: SourceReport) -> Iterator[Interaction]:
    """Yield the valid events of a ``.jsonl``/``.ndjson`` or ``.csv`` file, in file order."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no such file: {path}")
    rows = _json_lines(path) if path.suffix.lower() in JSON_SUFFIXES else _csv_rows(path)
    for line_no, raw, parsed in rows:
        try:
            event = decode(Interaction, raw) if parsed is None else parse(Interaction, parsed)
        except InvalidEvent as exc:
            report.reject(line_no, str(exc), raw)
            continue
        report.accepted += 1
        yield event


def _json_lines(path: Path) -> Iterator[tuple[int, str, None]]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line_no, line in enumerate(fh, start=1):
            if line.strip():
                yield line_no, line.rstrip("\n"), None


def _csv_rows(path: Path) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """CSV with a header row; empty cells are absent fields; ``value`` is read as a number and
    ``context`` may hold JSON."""
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.DictReader(fh)
        for row in reader:
            data: dict[str, Any] = {k: v for k, v in row.items() if k and v not in (None, "")}
            if None in row:  # more cells than header columns
                data["__extra_cells__"] = row[None]
            if isinstance(data.get("context"), str):
                try:
                    data["context"] = json.loads(data["context"])
                except json.JSONDecodeError:
                    pass  # validation reports the field
            if "value" in data:  # CSV has no numbers; the contract takes JSON numbers only
                try:
                    data["value"] = float(data["value"])
                except ValueError:
                    pass  # validation reports the field
            yield reader.line_num, ",".join(f"{k}={v}" for k, v in row.items() if k), data
