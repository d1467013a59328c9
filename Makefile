# The two commands of the README. Both do all set-up first (infra/setup.sh, idempotent).
.PHONY: setup demo test lint test-unit bench infra-up infra-down schemas clean compose-test

setup:
	@bash infra/setup.sh

demo: setup
	.venv/bin/streamrec demo

test: setup lint
	.venv/bin/python -m pytest

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

test-unit: setup
	.venv/bin/python -m pytest -m "not integration"

bench: setup
	.venv/bin/streamrec infra up --only kafka
	.venv/bin/streamrec bench produce

# docker-compose.yml in real containers with podman (not in `make test`: ~15 min the first time)
compose-test: setup
	bash infra/containers/compose-test.sh

infra-up: setup
	.venv/bin/streamrec infra up

infra-down:
	.venv/bin/streamrec infra down

schemas: setup
	.venv/bin/streamrec schemas export

clean:
	-.venv/bin/streamrec infra down
	rm -rf .run .pytest_cache infra/kafka/target
