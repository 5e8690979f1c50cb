# FlowGuard: `make demo` runs the main job on the embedded default, `make test` runs the tests,
# `make test-fast` only their fast tier (pytest -m fast, under 2 minutes), `make ui [PORT=N]` starts
# Dagster's UI and daemon, `make clean` removes what demo, ui and test wrote.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster
PORT ?= 3000

.PHONY: install demo test test-fast ui clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.local.yaml
	mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.local.yaml $@.partial && mv $@.partial $@  # never half-written for a reader

demo: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/flowguard demo

test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The fast tier's JVM lives about a minute: compiling with C1 only (no C2) cuts its CPU time by ~40 %.
test-fast: install
	SPARK_SUBMIT_OPTS="-XX:TieredStopAtLevel=1 $$SPARK_SUBMIT_OPTS" $(BIN)/python -m pytest -m fast

ui: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/flowguard ui --port $(PORT)

# The landing zone, the warehouse, the Dagster instance and the tests' screenshots; not .venv.
clean:
	rm -rf data .dagster test-artifacts
