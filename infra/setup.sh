#!/usr/bin/env bash
# Everything a fresh machine needs, idempotent and quick when already done:
#   1. system packages: redis-server, kcat, Java 17+, Maven, Prometheus' promtool (Debian/Ubuntu apt, as root);
#   2. a Python venv with the pinned dependency set (requirements.lock) + streamrec itself;
#   3. the Kafka broker jars from Maven Central (infra/kafka/target/libs);
#   4. helm, built from its Go module into ~/.cache/streamrec/bin (the chart's lint/render test).
# The venv lives in ~/.cache/streamrec/venv-<hash of the lock> and .venv links to it, so
# clones on one machine share one install (torch alone is ~3 GB); a new lock gets a new venv.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# -- 1. system packages
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v kcat >/dev/null || missing+=(kcat)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v promtool >/dev/null || missing+=(prometheus)  # promtool checks and tests the alert rules
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "please install: ${missing[*]} (needs root and apt, or your OS's packages)"; exit 1
  fi
fi

# -- 2. Python venv
pick_python() {
  for p in "${PYTHON:-}" python3.11 python3.12 python3; do
    [[ -n "$p" ]] && command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(not (3,11) <= sys.version_info[:2] < (3,13))' && { echo "$p"; return; }
  done
  say "Python 3.11 or 3.12 is required"; exit 1
}
PY=$(pick_python)
hash=$( (cat requirements.lock; "$PY" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-12)
cache="${STREAMREC_CACHE:-$HOME/.cache/streamrec}"
venv="$cache/venv-$hash"
if [[ ! -f "$venv/.complete" ]]; then
  say "creating $venv (first time: downloads the pinned packages, torch included)"
  rm -rf "$venv"; mkdir -p "$cache"
  "$PY" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip setuptools wheel
  "$venv/bin/pip" install -q -r requirements.lock
  touch "$venv/.complete"
fi
if [[ "$(readlink .venv 2>/dev/null)" != "$venv" ]]; then
  rm -rf .venv && ln -s "$venv" .venv
fi
# streamrec itself, editable, pointing at this clone
if [[ ! -x .venv/bin/streamrec ]] || ! .venv/bin/python -I -c "import streams, pathlib, sys; sys.exit(pathlib.Path(streams.__file__).resolve().parent.parent != pathlib.Path.cwd().resolve())" 2>/dev/null; then
  say "installing streamrec (editable) from $(pwd)"
  mkdir -p .run
  .venv/bin/pip install -q --no-deps --no-build-isolation -e . > .run/pip-editable.log 2>&1 \
    || { cat .run/pip-editable.log; say "installing streamrec failed"; exit 1; }
fi

# -- 3. Kafka jars
if ! ls infra/kafka/target/libs/kafka_2.13-*.jar infra/kafka/target/libs/kafka-tools-[0-9]*.jar >/dev/null 2>&1; then
  say "fetching the Kafka broker jars (Maven Central)"
  mvn -B -q -f infra/kafka/pom.xml package
fi
# -- 4. helm (tests/test_helm_chart.py renders and lints deploy/helm/streamrec offline)
HELM_VERSION=v3.22.0
if ! "$cache/bin/helm" version --short 2>/dev/null | grep -q "${HELM_VERSION%.*}"; then
  if command -v go >/dev/null; then
    say "building helm $HELM_VERSION from its Go module (first time: a few minutes)"
    GOBIN="$cache/bin" GOFLAGS=-trimpath go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  else
    say "no Go toolchain: helm not built (install Go 1.24+ or put helm on the PATH for the chart test)"
  fi
fi
say "ready: $(.venv/bin/python --version), Kafka jars in infra/kafka/target/libs, helm in $cache/bin"
