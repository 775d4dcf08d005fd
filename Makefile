# mmfrozen: every target sets up .venv/ first when it is missing or stale (tools/setup_env.sh).
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup test test-fast demo clean-venv

setup:
	@bash tools/setup_env.sh

## The whole test suite (what CI runs).
test: setup
	$(PY) -m pytest -ra --durations=30 $(PYTEST_ARGS)

## Everything but the tests marked slow.
test-fast: setup
	$(PY) -m pytest -ra -m "not slow" $(PYTEST_ARGS)

## The mini-study: the paper's experiment in miniature, on the CPU, no downloads.
demo: setup
	$(PY) tools/mini_study.py $(ARGS)

clean-venv:
	rm -rf .venv
