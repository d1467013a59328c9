"""The API process of `streamrec bench serve`: serves a pickled model with histories from a
pickled dict, a real producer (ingest) and Redis dedup. Run: python -m bench.serve_server DIR PORT."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import uvicorn

from serving.app import create_app
from serving.runtime import redis_dedup
from serving.state import ModelState
from streams.producer import EventProducer
from streams.settings import Settings
from streams.topics import TopicCatalog


def main(directory: str, port: int) -> None:
    root = Path(directory)
    model = pickle.loads((root / "model.pkl").read_bytes())
    histories = pickle.loads((root / "histories.pkl").read_bytes())
    settings = Settings.model_validate_json((root / "settings.json").read_text())
    state = ModelState("ranker")
    state.install(model, "bench")
    producer = EventProducer(settings, TopicCatalog.load(settings.topics_file, settings.topic_prefix),
                             report_successes=True)
    app = create_app(settings, state, histories.get, producer, redis_dedup(settings))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
