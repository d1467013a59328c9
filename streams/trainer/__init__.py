"""The batch trainer: retrain request -> training data from the archive -> two-stage model ->
MLflow run and registered version -> challenger/champion aliases -> ModelUpdate records."""
