# Every target creates .venv on first use and installs the package into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Keep BLAS/OpenMP to one thread per process: 2-core machines oversubscribe otherwise.
export OMP_NUM_THREADS ?= 1

.PHONY: install demo test test-slow bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,parquet,plot,distributed]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/coarse-mip demo

test: $(STAMP)
	$(BIN)/ruff check coarse_mip tests benchmarks examples
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q coarse_mip tests

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow tests

bench: $(STAMP)
	$(BIN)/python benchmarks/orlib.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
