# vncoverage: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
PYTEST_ARGS ?=
NPM ?= npm
# pinned npm copies of the CDN files of map.html, for the browser test (tests/web/)
WEB := .cache/web
# exact versions of every Python package, as last validated (see the file's header)
CONSTRAINTS := .ci/constraints.txt
PIP := $(BIN)/python -m pip install --quiet -c $(CONSTRAINTS)

.PHONY: run test lint bench sample assets constraints clean help

help:
	@echo "make run    - create $(VENV) if needed, install, run on the bundled sample (-> $(OUT)/)"
	@echo "make test   - same set-up with the test extras and the web assets, run all tests"
	@echo "make assets - npm copies of the map's JavaScript/CSS for the browser test ($(WEB))"
	@echo "make lint   - ruff (with the complexity limit), mypy and the layer contract"
	@echo "make constraints - refresh $(CONSTRAINTS) from the test environment"
	@echo "make bench  - stage timings of the main job (scripts/bench.py)"
	@echo "make sample - regenerate the bundled sample data (scripts/make_sample_data.py)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) -e '.[test]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/vncoverage run --out $(OUT)

assets: $(WEB)/.installed

$(WEB)/.installed: tests/web/package.json tests/web/package-lock.json
	@if command -v $(NPM) >/dev/null 2>&1; then \
	  mkdir -p $(WEB) && cp tests/web/package.json tests/web/package-lock.json $(WEB)/ && \
	  $(NPM) ci --prefix $(WEB) --no-audit --no-fund --ignore-scripts --loglevel=error && \
	  touch $@; \
	else \
	  echo "npm not found: the browser test will be skipped (it fails when CI is set)"; \
	fi

test: $(VENV)/.installed-test assets
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

# ruff (pycodestyle, pyflakes, ..., mccabe with max-complexity 14), mypy (strict defs),
# import-linter (the layer contract of pyproject.toml: imports only go down)
lint: $(VENV)/.installed-test
	$(BIN)/ruff check vncoverage tests scripts notebooks
	$(BIN)/mypy
	$(BIN)/lint-imports

constraints: $(VENV)/.installed-test
	@{ sed -n '/^#/p' $(CONSTRAINTS); $(BIN)/python -m pip freeze --exclude-editable; } \
	  > $(CONSTRAINTS).new && mv $(CONSTRAINTS).new $(CONSTRAINTS)

bench: $(VENV)/.installed-test
	$(BIN)/python scripts/bench.py

sample: $(VENV)/.installed
	$(BIN)/python scripts/make_sample_data.py

clean:
	rm -rf $(OUT) .pytest_cache .mypy_cache .ruff_cache
