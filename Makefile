# The two commands: `make demo` and `make test`. Everything else is a helper target.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test lint typecheck fmt bench bench-smoke airflow clean setup setup-dev

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Embedded default only: DuckDB, pyarrow, the CLI and settings libraries.
setup: $(UV)
	$(UV) sync --frozen --no-dev --python $(PYTHON)

# Everything: all extras (spark, aws, airflow, report) and the dev tools.
setup-dev: $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)

demo: setup
	$(BIN)/musicstream demo --lake demo-lake

test: setup-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/python -m pytest

lint: setup-dev
	$(BIN)/ruff check src tests
	$(BIN)/mypy

fmt: setup-dev
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

clean:
	rm -rf $(VENV) .uv demo-lake .pytest_cache .mypy_cache .ruff_cache
