# The two commands: `make demo` and `make test`. Everything else is a helper target.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Installed packages get their bytecode at install (pip's default; uv's is not to): otherwise
# a process where PYTHONDONTWRITEBYTECODE is set compiles pandas and the rest at every import
# (~3 s of a one-day batch's 5 s measured here), and the others pay it once per file.
export UV_COMPILE_BYTECODE := 1

.PHONY: demo test lint typecheck fmt fuzz bench bench-smoke bench-api airflow clean setup setup-dev

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# The embedded default (DuckDB, pyarrow, the CLI and settings libraries) plus the report
# extra, so the demo ends with its HTML report. --inexact keeps what setup-dev installed.
setup: $(UV)
	$(UV) sync --frozen --no-dev --inexact --extra report --python $(PYTHON)

# Everything: all extras (spark, aws, airflow, report) and the dev tools.
setup-dev: $(UV)
	$(UV) sync --frozen --all-extras --python $(PYTHON)

demo: setup
	$(BIN)/musicstream demo --lake demo-lake

test: setup-dev
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/musicstream deploy print --out build/musicstream-stack.json && $(UV) tool run \
		--python $(PYTHON) --from checkov==3.3.30 checkov --quiet --compact --skip-download \
		--framework cloudformation --file build/musicstream-stack.json
	$(BIN)/python -m pytest

lint: setup-dev
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: setup-dev
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

# The byte-level fuzz test of landing files with many more examples than `make test` runs
# (FUZZ_EXAMPLES, default 2000: about 40 minutes on 2 cores).
FUZZ_EXAMPLES ?= 2000
fuzz: setup-dev
	MUSICSTREAM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/ingest/test_fuzz.py -p no:cacheprovider

# A real local Airflow (UI on http://localhost:8080, login printed at start) running dags/
# against ./lake (or $MUSICSTREAM_LAKE); state in .airflow/.
airflow: setup-dev
	mkdir -p lake/landing
	PATH="$(CURDIR)/$(BIN):$$PATH" AIRFLOW_HOME="$(CURDIR)/.airflow" \
	AIRFLOW__CORE__DAGS_FOLDER="$(CURDIR)/dags" AIRFLOW__CORE__LOAD_EXAMPLES=False \
	MUSICSTREAM_LAKE="$${MUSICSTREAM_LAKE:-$(CURDIR)/lake}" $(BIN)/airflow standalone

# The AWS stack (lake bucket, KPI tables, topic, Glue job, IAM roles) as a CloudFormation
# template; the README's "Deploy to AWS" section deploys it.
.PHONY: deploy-synth
deploy-synth: setup-dev
	$(BIN)/musicstream deploy print --out build/musicstream-stack.json

# Benchmarks (not part of `make test`): every case side by side at SCALE (1M, 10M, 30M, 100M
# streams) plus scaling runs at 1M/10M/30M; writes BENCHMARKS.md and bench/benchmarks.png.
# BENCH_ARGS passes options through, e.g. BENCH_ARGS=--no-spark (python -m bench --help).
SCALE ?= 10M
bench: setup-dev
	BENCH_COMMAND="make bench SCALE=$(SCALE)" $(BIN)/python -m bench --scale $(SCALE) $(BENCH_ARGS)

# The same harness at 1M streams, results under bench/out/smoke/: about a minute of DuckDB and
# pandas, plus several minutes for the two Spark cases on 2 cores (BENCH_ARGS=--no-spark).
bench-smoke: setup-dev
	BENCH_COMMAND="make bench-smoke" $(BIN)/python -m bench --scale 1M --scaling 100k,1M \
		--report bench/out/smoke/BENCHMARKS.md --chart bench/out/smoke/benchmarks.png $(BENCH_ARGS)

# The read API under load (SCALE streams, default 10M): `musicstream serve` with 1 and 2 workers
# loaded by wrk (installed from Debian when missing) while a run restates the lake's dates;
# writes the section "Read API under load" of BENCHMARKS.md (python -m bench.api --help).
bench-api: setup-dev
	BENCH_COMMAND="make bench-api SCALE=$(SCALE)" $(BIN)/python -m bench.api --scale $(SCALE) \
		$(BENCH_API_ARGS)

clean:
	rm -rf $(VENV) .uv demo-lake .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build
