# mmfrozen: every target sets up the stack's venv first when it is missing or stale
# (tools/setup_env.sh). STACK=upstream (default: upstream OpenMMLab in .venv/) or STACK=onedl
# (its maintained fork, the onedl-* distributions, in .venv-onedl/).
STACK ?= upstream
VENV := $(if $(filter onedl,$(STACK)),.venv-onedl,.venv)
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# What `make test-stack` runs: the set-up, version checks and the wheel's install, the freeze, the
# runner, the checkpoint loader, sweeps, LoRA, the LVIS metric, the results table, `mim train` and
# the tools from the installed wheel, the mini-study's quick run.
STACK_TESTS ?= tests/test_version.py tests/test_tools/test_setup_env.py tests/test_freezing.py \
	tests/test_checkpoint.py tests/test_engine/test_frozen_runner.py \
	tests/test_engine/test_freeze_backbone_hook.py tests/test_sweep/test_detector_sweep.py \
	tests/test_models/test_backbones/test_lora.py tests/test_evaluation/test_lvis_metric.py \
	tests/test_analysis/test_results/test_table.py \
	tests/test_package.py::test_wheel_installs_into_either_stack_leaving_it_as_it_is \
	tests/test_package.py::test_mim_train_and_the_tools_run_outside_the_checkout \
	tests/test_mini_study.py::test_quick_run_produces_every_artefact

.PHONY: setup test test-fast test-stack demo clean-venv

setup:
	@STACK=$(STACK) bash tools/setup_env.sh

## The whole test suite (what CI runs).
test: setup
	$(PY) -m pytest -ra --durations=30 $(PYTEST_ARGS)

## Everything but the tests marked slow.
test-fast: setup
	$(PY) -m pytest -ra -m "not slow" $(PYTEST_ARGS)

## The named subset of the suite that checks a stack, e.g. `make test-stack STACK=onedl`.
test-stack: setup
	$(PY) -m pytest -ra --durations=10 $(STACK_TESTS) $(PYTEST_ARGS)

## The mini-study: the paper's experiment in miniature, on the CPU, no downloads.
demo: setup
	$(PY) tools/mini_study.py $(ARGS)

clean-venv:
	rm -rf $(VENV)
