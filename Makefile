PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench screenshots clean

$(BIN)/auditwire: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.test-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

run: $(BIN)/auditwire
	@echo "auditwire is $(BIN)/auditwire (run '. $(BIN)/activate' to type just 'auditwire')"
	$(BIN)/auditwire serve

test: $(VENV)/.test-installed
	$(BIN)/ruff check
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(VENV)/.test-installed
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy

bench: $(VENV)/.test-installed
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/delivery.py

screenshots: $(VENV)/.test-installed
	$(BIN)/python -m scripts.screenshots

clean:
	rm -rf $(VENV) data
