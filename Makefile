# The two commands of the README: `make demo` and `make test` (ruff, the docs site, pytest).
# Both bootstrap the environment: uv (installed with pip if missing), then `uv sync --frozen`.
PYTHON ?= python3
UV := $(PYTHON) -m uv
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export NO_MKDOCS_2_WARNING ?= 1
export UV_PYTHON ?= $(shell $(PYTHON) -c 'import sys; print(sys.executable)')

.PHONY: bootstrap demo test ui sandbox lint bench docs

bootstrap:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --quiet

demo: bootstrap
	$(UV) run --frozen elex demo

# pytest exits 5 when it collects no test: that is not a failure of the suite.
# The suite runs on one pytest-xdist worker per core (at most 4): TEST_WORKERS=0 runs it
# in one process, TEST_WORKERS=3 on three workers.
TEST_WORKERS ?= auto
test: bootstrap
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen mkdocs build --strict
	@$(UV) run --frozen pytest -n $(TEST_WORKERS) --maxprocesses 4; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# dagster dev on the demo's instance, with the sandbox APIs serving the runs it launches.
ui: bootstrap
	$(UV) run --frozen elex ui

sandbox: bootstrap
	$(UV) run --frozen elex sandbox

# Benchmarks of the data path (bench/README.md); quick check: make bench BENCH_ARGS="--sizes 100k".
BENCH_ARGS ?= --readme
bench: bootstrap
	$(UV) run --frozen python bench/run.py $(BENCH_ARGS)

lint: bootstrap
	$(UV) run --frozen ruff check .

# The documentation site (docs/, mkdocs.yml), served at http://127.0.0.1:8000.
docs: bootstrap
	$(UV) run --frozen mkdocs serve
