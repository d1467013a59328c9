# The streamrec services (worker, learner, trainer, API and the one-shot `topics` set-up) for
# docker compose and Kubernetes. Multi-stage: the deps stage makes a venv with the runtime
# dependencies pinned by requirements.lock (no test tools); the runtime stage copies it onto a
# clean base with libgomp1 (LightGBM), adds streamrec itself (a small layer) and runs as the
# unprivileged user `streamrec` (uid 10001).
#   docker build -t streamrec:latest .
#   docker build --build-arg BASE_IMAGE=python:3.12-slim -t streamrec:latest .
# BASE_IMAGE must be Debian-based with Python 3.11/3.12, or Debian bookworm without Python (then
# Debian's python3 is installed): `make compose-test` builds on a bare debootstrap image.
# The image is large (7.3 GB): PyPI's Linux torch wheels bring the CUDA libraries, and the API
# needs torch to load a champion that contains the sequence model.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS python-base
ENV DEBIAN_FRONTEND=noninteractive PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN set -eux; \
    packages="libgomp1 ca-certificates"; \
    command -v python3 >/dev/null || packages="$packages python3 python3-venv"; \
    apt-get update; apt-get install -y --no-install-recommends $packages; \
    rm -rf /var/lib/apt/lists/*

FROM python-base AS deps
# extra pip options: `make compose-test` installs offline from a mounted wheel directory
# ("--no-index --find-links /wheels"); empty = download from PyPI
ARG PIP_OPTIONS=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv
COPY requirements.lock pyproject.toml /src/
# the runtime dependencies of pyproject.toml at the versions of the lock (not the dev extras); a
# layer of its own, so a change to the code does not reinstall them
RUN python3 -c "import tomllib; print(*tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
      > /src/runtime.txt \
    && /opt/venv/bin/pip install --no-cache-dir $PIP_OPTIONS -c /src/requirements.lock -r /src/runtime.txt

FROM python-base AS runtime
RUN useradd --create-home --uid 10001 --user-group streamrec \
    && mkdir -p /data && chown streamrec:streamrec /data
COPY --from=deps /opt/venv /opt/venv
COPY pyproject.toml README.md topics.yaml /src/
COPY streams /src/streams
COPY models /src/models
COPY serving /src/serving
COPY bench /src/bench
COPY feature_repo /src/feature_repo
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation /src \
    && /opt/venv/bin/pip check && rm -rf /src
ENV PATH=/opt/venv/bin:$PATH \
    GIT_PYTHON_REFRESH=quiet \
    STREAMREC_RUN_DIR=/data \
    STREAMREC_METRICS_HOST=0.0.0.0 \
    STREAMREC_SERVE_HOST=0.0.0.0
USER streamrec
WORKDIR /home/streamrec
# /data: the archive, the Feast registry and the learner's snapshots (one volume shared by all services)
VOLUME ["/data"]
EXPOSE 8000 9108 9109 9110
CMD ["streamrec", "--help"]
