# The whole interface of the course. Every target installs what it needs first (`setup`),
# so on a fresh clone `make lab` and `make test` each work alone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LAB_ARGS ?=
# Tools that call other tools (nbgrader runs alembic) must find the venv's first.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# Jupyter refuses to run as root unless told to (containers, CI boxes).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: help setup lab test check lint lectures site bench clean distclean

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

setup: $(STAMP)  ## create .venv and install the course (idempotent)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@bash .ci/sandbox-tools || true
	@touch $@

lab: setup  ## JupyterLab on the lecture notebooks (the main job)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" \
		--LabApp.default_url=/lab/tree/lectures $(ROOT_FLAG) $(LAB_ARGS)

test: setup  ## everything, offline, FAST mode: lint, unit tests, notebooks, grading pipeline
	$(MAKE) --no-print-directory lint
	# One BLAS thread: FAST-mode matrices are small, and threads thrash on a busy 2-core box.
	COURSE_FAST=1 COURSE_OFFLINE=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest tests

check: setup  ## the inner loop, < 1 min: lint and unit tests (no notebooks, no grading pipeline)
	$(MAKE) --no-print-directory lint
	COURSE_FAST=1 COURSE_OFFLINE=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest tests -q -m "not notebooks and not grading and not browser"

lint: setup  ## ruff over Python and notebooks, and no stored notebook outputs
	$(VENV)/bin/ruff check .
	$(PY) tests/nbrun.py --check-clean lectures assignments/source

# FAST=1: FAST mode with the 60 s budget, into build/lectures-fast/ (full mode: 300 s, build/lectures/).
lectures: setup  ## every lecture in full mode, 5 min each, into build/lectures/*.html; time + claims tables (FAST=1: 60 s)
	COURSE_OFFLINE=1 $(PY) tests/nbrun.py $(if $(filter 1,$(FAST)),--fast --html build/lectures-fast,--html build/lectures) lectures/*.ipynb

# FAST=1: FAST mode; LECTURES="01_intro_history 02_image_classification": only these (default: all).
site: setup  ## offline HTML edition in build/site/ (index, every lecture executed, math, no network)
	COURSE_OFFLINE=1 $(PY) -m assignments.pipeline.site $(if $(filter 1,$(FAST)),--fast) \
		$(if $(LECTURES),--lectures "$(LECTURES)") $(if $(WEEK),--week "$(WEEK)")

bench: setup  ## benchmarks of the reference solutions against torch
	@for b in assignments/bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:  ## remove generated material (build/, caches); keeps .venv and datasets
	rm -rf build .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +

distclean: clean  ## also remove .venv
	rm -rf $(VENV)

-include assignments/course.mk
