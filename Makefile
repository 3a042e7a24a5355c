# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90

.PHONY: install demo test lint eval bench bench-sources bench-review clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m flows.demo

test: $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check evidence sources verdicts flows tests
	$(BIN)/ruff format --check evidence sources verdicts flows tests

eval: $(STAMP)
	$(BIN)/python -m bench.eval_ranking

bench: $(STAMP)
	$(BIN)/python -m bench.flows

bench-sources: $(STAMP)
	$(BIN)/python -m bench.sources

bench-review: $(STAMP)
	$(BIN)/python -m bench.review

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
