"""Where events come from: files, the synthetic user simulator, and public datasets.

Every source yields validated contracts in event-time order and counts what it rejected.
"""

from streams.sources.files import Rejection, SourceReport, read_interactions

__all__ = ["Rejection", "SourceReport", "read_interactions"]
