# One-command entry points; see README.md.
#   make run    set up, then run the workflow (workflow/Snakefile) end to end on the
#               embedded default; TARGETS="figures/zoom.pdf" builds only those
#   make test   set up, then run the test suite (what CI runs)
#   make test-slurm  the workflow on a one-node SLURM cluster started for the
#               test and stopped after it (as root; installs slurm-wlm, munge)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch/torchvision pinned to the builds the project is tested with; override
# TORCH_SPEC on a machine that needs another build (e.g. a specific CUDA wheel).
TORCH_SPEC ?= torch==2.14.1 torchvision==0.29.1
CORES ?= 2
CONFIG ?= config/config.yaml
TARGETS ?=
# pytest-xdist workers of `make test` (one per core of the CI machine); tests that
# share an expensive module fixture carry an xdist_group mark and stay on one worker.
TEST_WORKERS ?= 2

.PHONY: setup run test test-slurm lint bench clean-results

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required, got " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: setup
	$(BIN)/snakemake --profile profiles/default --cores $(CORES) $(TARGETS) --configfile $(CONFIG)

test: setup
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

test-slurm: setup
	ci/slurm/test.sh $(BIN)/python

lint: setup
	$(BIN)/snakemake --lint --configfile $(CONFIG)
	$(BIN)/snakefmt --check workflow

bench: setup
	$(BIN)/python benchmarks/engine.py

clean-results:
	rm -rf results figures logs benchmarks/rules .snakemake
