"""One logging set-up for every streamrec process: a level and a format (plain text or JSON lines),
chosen by ``streamrec --log-level/--log-json`` or ``STREAMREC_LOG_LEVEL`` / ``STREAMREC_LOG_JSON``.
streamrec's loggers and uvicorn's access and error logs go through one handler at that level;
other libraries only from WARNING up (unless the level is DEBUG).

>>> import io, logging
>>> stream = io.StringIO()
>>> configure_logging("INFO", json_lines=True, stream=stream)
>>> logging.getLogger("streamrec.example").info("hello %s", "world")
>>> logging.getLogger("httpx").info("GET /ready")  # a library's INFO line stays out
>>> import json; record = json.loads(stream.getvalue()); (record["level"], record["logger"], record["message"])
('INFO', 'streamrec.example', 'hello world')
"""

from __future__ import annotations

import json
import logging
import sys
from typing import TextIO

PLAIN = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
# loggers whose records we own (uvicorn's are re-routed to our handler)
OURS = ("streamrec", "uvicorn", "uvicorn.access", "uvicorn.error")


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the exception, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str = "INFO", json_lines: bool = False, stream: TextIO | None = None) -> None:
    """Route the root logger and uvicorn's loggers to one handler on ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines() if json_lines else logging.Formatter(PLAIN))
    level = level.upper()
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # other libraries (httpx, mlflow, feast, ...) speak at WARNING unless DEBUG is asked for
    root.setLevel(
        level if logging.getLevelName(level) <= logging.DEBUG else max(logging.getLevelName(level), logging.WARNING)
    )
    for name in OURS:
        logger = logging.getLogger(name)
        if name != "streamrec":
            logger.handlers[:] = []
            logger.propagate = True
        logger.setLevel(level)
