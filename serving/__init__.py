"""The FastAPI serving layer: /recommend, /events, models and experiments (issue 6)."""
