"""One router per resource: recommend, events, models (and retrain, drift), experiments, health."""
