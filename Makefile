# Soát — every target creates .venv itself on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# Bytecode is compiled at install (as pip does for a wheel) and again before the tests and a
# benchmark, so that no run compiles the sources where PYTHONDONTWRITEBYTECODE is set (this
# machine: every `soat` process compiled ~30 modules, ≈ 0.04-0.06 s).
SOURCES := soat loaders dashboard benchmarks
COMPILE := $(BIN)/python -m compileall -q $(SOURCES) >/dev/null

.PHONY: venv demo serve test lint format bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	$(COMPILE)
	touch $(STAMP)

venv: $(STAMP)

demo: venv  ## make the sample province, load it, open the dashboard
	$(BIN)/soat demo

serve: venv
	$(BIN)/soat serve

# The load tests (marker `alone`) run after the rest, alone on the machine: beside the other
# worker's tests their browsers starve. Exit 5 = the arguments selected none of them.
test: venv  ## the whole suite: unit, SQL-database loaders, AppTest pages, browser
	$(COMPILE)
	$(BIN)/python -m pytest -q -n 2 -m "not alone" $(PYTEST_ARGS); s=$$?; [ $$s -eq 0 ] || [ $$s -eq 5 ]
	$(BIN)/python -m pytest -q -m alone $(PYTEST_ARGS); s=$$?; [ $$s -eq 0 ] || [ $$s -eq 5 ]

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: venv  ## measured figures, appended to BENCHMARKS.md (default 2 M students)
	$(COMPILE)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

bench-quick: venv
	$(COMPILE)
	$(BIN)/python -m benchmarks.run --students 100000 --xlsx-students 10000 --no-record

clean:
	rm -rf $(VENV) data/store data/soat.duckdb data/soat.duckdb.wal data/app.sqlite data/app.sqlite-wal data/app.sqlite-shm tests/artifacts
