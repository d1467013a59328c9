# The streamrec services (worker, trainer, API) for docker compose.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY streams streams
COPY models models
COPY serving serving
COPY bench bench
COPY feature_repo feature_repo
COPY topics.yaml .
RUN pip install --no-cache-dir --no-deps -e .
ENV STREAMREC_PROJECT_ROOT=/app
CMD ["streamrec", "--help"]
