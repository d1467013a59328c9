"""Batch training: from an interaction log to a two-stage recommender (candidate generators +
LambdaMART ranker), evaluated with one offline protocol against baselines.

- :mod:`~models.batch.data`: interaction frames, graded labels, the temporal split;
- :mod:`~models.batch.generators`: popularity, item-kNN, EASE (each scores a user's history);
- :mod:`~models.batch.sequence`: a SASRec-style next-item model (PyTorch);
- :mod:`~models.batch.ranker`: candidates -> features -> LightGBM LambdaMART;
- :mod:`~models.batch.metrics`: NDCG/Recall/MAP/HitRate@k, coverage, diversity, novelty;
- :mod:`~models.batch.pipeline`: the whole job, pure (no Kafka, no MLflow).
"""
