# Shujiao — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench lint clean

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

## make demo — embedded default (SQLite, filesystem broker, a real Celery worker), demo data, web on :8000
demo: install
	$(BIN)/python -m workers.fingerprint.warm
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py serve_demo

## make test — the whole suite (PostgreSQL, Redis and real worker processes where reachable)
test: install
	$(BIN)/python -m workers.fingerprint.warm
	$(BIN)/python -m pytest

## make bench — benchmarks side by side with their peers; figures into docs/benchmarks.md
bench: install
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m bench

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf var/ staticfiles/ .pytest_cache
