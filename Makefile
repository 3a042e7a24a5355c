# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 90

.PHONY: install demo test browser lint eval bench bench-sources bench-review bench-extraction clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned: this machine kind keeps a CPU build of 2.13.0 on disk, while a
	# bare "torch" (pulled in by the semantic extra) would download a multi-GB CUDA build
	$(BIN)/python -m pip install -q 'torch==2.13.0'
	$(BIN)/python -m pip install -q -e '.[dev,semantic]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m demo

test: browser $(STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Debian's chromium + chromium-driver for the browser tests: installed when missing (as root),
# else one line saying what to install
browser:
	@sh scripts/ensure-browser.sh

lint: $(STAMP)
	$(BIN)/ruff check evidence sources verdicts flows demo bench tests
	$(BIN)/ruff format --check evidence sources verdicts flows demo bench tests
	$(BIN)/mypy

# the team's labelled sets: ranking (31 claims), stance/composition/suggestion offline (67
# claims), then end to end over HTTP on the multi-host news corpus (discovery included)
eval: $(STAMP)
	$(BIN)/python -m bench.eval_ranking
	$(BIN)/python -m bench.eval_evidence
	$(BIN)/python -m bench.eval_e2e
	$(BIN)/python -m bench.eval_demo

bench: $(STAMP)
	$(BIN)/python -m bench.flows

bench-sources: $(STAMP)
	$(BIN)/python -m bench.sources

bench-review: $(STAMP)
	$(BIN)/python -m bench.review

bench-extraction: $(STAMP)
	$(BIN)/python -m bench.extraction

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
