#!/usr/bin/env bash
# `make compose-test`: docker-compose.yml in real containers (podman, no Docker engine needed),
# driven from outside as a user would (tests/containers/). Not part of `make test`: the first run
# builds images for ~15 minutes; later runs reuse them.
#   1. tools: podman + runc + debootstrap (apt); Docker Compose v2 built from its Go module (in the
#      streamrec cache), talking to podman's Docker-compatible API;
#   2. images: a Debian base from debootstrap (no registry here), stand-ins for Kafka, Redis,
#      MLflow and Prometheus at the versions the compose file names (infra/containers/*.Containerfile),
#      and ours from the Dockerfile, installed offline from a wheel directory;
#   3. `compose up` of infrastructure + app + Prometheus on ports of their own (2xxxx);
#   4. the checks (pytest tests/containers), then `compose down -v`, whatever happened.
# KEEP_STACK=1 leaves the stack running for a look (then: DOCKER_HOST=unix:///run/streamrec-podman.sock
# ~/.cache/streamrec/bin/docker-compose -p streamrec-ct --profile app --profile monitoring down -v).
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { printf '\033[1m[compose-test %3ds]\033[0m %s\n' "$((SECONDS))" "$*"; }
cache="${STREAMREC_CACHE:-$HOME/.cache/streamrec}"
base=localhost/debian-base:bookworm

# -- 1. tools
missing=()
for tool in podman runc debootstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  say "installing ${missing[*]} (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [[ ! -f /etc/containers/containers.conf ]]; then
  # crun fails on this kind of machine (cgroups v1 hybrid, no RLIMIT_NOFILE); runc works
  mkdir -p /etc/containers
  printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' > /etc/containers/containers.conf
fi
COMPOSE_VERSION=v2.40.3
if [[ ! -x "$cache/bin/docker-compose" ]]; then
  say "building Docker Compose $COMPOSE_VERSION from its Go module (first time: a few minutes)"
  src=$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  work=$(mktemp -d) && cp -r "$src/." "$work" && chmod -R u+w "$work"
  (cd "$work" && go build -trimpath -o "$cache/bin/docker-compose" ./cmd)  # `go install` refuses its go.mod
  rm -rf "$work"
fi
# podman's Docker-compatible API, for compose
export DOCKER_HOST=unix:///run/streamrec-podman.sock
api_service="" healthchecks=""
down() {
  set +e  # bring everything down, whatever already stopped
  [[ -n "$healthchecks" ]] && kill "$healthchecks" 2>/dev/null
  if [[ "${KEEP_STACK:-0}" == 1 ]]; then say "stack left running (KEEP_STACK=1)"; return 0; fi
  say "compose down -v"
  compose --profile app --profile monitoring down -v >/dev/null 2>&1
  [[ -n "$api_service" ]] && kill "$api_service" 2>/dev/null
  return 0
}
trap down EXIT
trap "exit 143" TERM INT  # so that the EXIT trap brings the stack down
podman system service --time=0 "$DOCKER_HOST" >/dev/null 2>&1 &
api_service=$!
for _ in $(seq 50); do [[ -S /run/streamrec-podman.sock ]] && break; sleep 0.2; done
compose() { "$cache/bin/docker-compose" -p streamrec-ct "$@"; }

# -- 2. images
if ! podman image exists "$base"; then
  say "building $base with debootstrap (~5 min)"
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" >/dev/null
  tar -C "$rootfs" -c . | podman import - "$base" >/dev/null
  rm -rf "$rootfs"
fi
.venv/bin/python -c 'import streams' 2>/dev/null || make -s setup
say "wheels for offline installs (pip's cache; quick once complete)"
wheels="$cache/wheelhouse"
.venv/bin/pip download -q -d "$wheels" -r requirements.lock "mlflow==3.17.2" "setuptools>=69" wheel
offline="--no-index --find-links /wheels"
build() {  # image, Containerfile, context, extra args...
  local image=$1 file=$2 context=$3; shift 3
  say "building $image"
  podman build -q --build-arg BASE_IMAGE="$base" -v "$wheels:/wheels:ro" --build-arg "PIP_OPTIONS=$offline" \
    -f "$file" -t "$image" "$@" "$context" >/dev/null
}
build localhost/streamrec-standin/kafka:4.1.1 infra/containers/kafka.Containerfile infra
build localhost/streamrec-standin/redis:7 infra/containers/redis.Containerfile infra
build localhost/streamrec-standin/mlflow:3.17.2 infra/containers/mlflow.Containerfile infra
build localhost/streamrec-standin/prometheus:debian infra/containers/prometheus.Containerfile infra
build localhost/streamrec:compose-test Dockerfile .

# -- 3. up
export KAFKA_IMAGE=localhost/streamrec-standin/kafka:4.1.1 REDIS_IMAGE=localhost/streamrec-standin/redis:7 \
  MLFLOW_IMAGE=localhost/streamrec-standin/mlflow:3.17.2 PROMETHEUS_IMAGE=localhost/streamrec-standin/prometheus:debian \
  STREAMREC_IMAGE=localhost/streamrec:compose-test BASE_IMAGE="$base" \
  KAFKA_PORT=29092 REDIS_PORT=26379 MLFLOW_PORT=25000 API_PORT=28000 PROMETHEUS_PORT=29090
services=(kafka redis mlflow topics worker learner trainer api prometheus)  # Grafana: no stand-in (not checked)
compose --profile app --profile monitoring down -v >/dev/null 2>&1 || true
# podman without systemd schedules no health checks: run each container's at its own interval, as
# an engine would (failures count against its retries, so running them faster would fail them early)
( set +e +o pipefail  # a container without a health check, or one that fails it, is not an error here
  declare -A due
  while true; do
    now=$(date +%s)
    for c in $(podman ps --filter label=com.docker.compose.project=streamrec-ct --format '{{.Names}}'); do
      if (( now >= ${due[$c]:-0} )); then
        # whole seconds; containers without a health check give no number (checked once a minute)
        every=$(podman inspect --format '{{.Config.Healthcheck.Interval.Seconds}}' "$c" 2>/dev/null | cut -d. -f1)
        due[$c]=$(( now + ${every:-60} ))
        [[ -z "$every" ]] || podman healthcheck run "$c" >/dev/null 2>&1 || true  # unhealthy is a state, not an error
      fi
    done
    sleep 1
  done ) &
healthchecks=$!
say "compose up: ${services[*]}"
compose --profile app --profile monitoring up -d --no-build "${services[@]}" >"$cache/compose-test-up.log" 2>&1 \
  || { cat "$cache/compose-test-up.log"; exit 1; }

# -- 4. the checks, from outside
say "driving the stack from outside (tests/containers)"
status=0
STREAMREC_CONTAINERS=1 .venv/bin/python -m pytest tests/containers -p no:cacheprovider -v -s || status=$?
if ((status)); then
  for s in "${services[@]}"; do
    say "logs of $s (last 30 lines)"; compose logs --tail 30 "$s" 2>&1 | tail -30 || true
  done
fi
say "done in $((SECONDS / 60)) min $((SECONDS % 60)) s: $([[ $status == 0 ]] && echo passed || echo FAILED)"
exit "$status"
