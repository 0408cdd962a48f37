# The two commands the README starts with: `make run` and `make test`.
# Each installs what is missing (Debian packages, a virtualenv in .venv, the package), skipping
# what is already there, then runs.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEBIAN_PACKAGES := tesseract-ocr tesseract-ocr-chi-sim fonts-noto-cjk poppler-utils qpdf
# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
TEST_DEBIAN_PACKAGES := chromium
STAMP_SYSTEM := $(VENV)/.system-ok
STAMP_TEST_SYSTEM := $(VENV)/.system-test-ok
STAMP_VENV := $(VENV)/.installed

.PHONY: run test lint typecheck unit bench setup clean

setup: $(STAMP_VENV)

$(STAMP_SYSTEM):
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@mkdir -p $(VENV) && touch $@

$(STAMP_TEST_SYSTEM): $(STAMP_SYSTEM)
	@missing=""; for p in $(TEST_DEBIAN_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages for the tests:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@touch $@

$(STAMP_VENV): pyproject.toml $(STAMP_SYSTEM)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

# The service on its embedded defaults (SQLite, local files, an in-process worker), with the
# sample batch loaded and queued: http://127.0.0.1:8000/ (accounts printed at start).
run: setup
	$(BIN)/dossier serve --demo

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

unit: setup $(STAMP_TEST_SYSTEM)
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

test: lint typecheck unit

# The OCR bench compares against ocrmypdf, Debian's package, in the same run.
bench: setup
	@dpkg -s ocrmypdf >/dev/null 2>&1 || (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ocrmypdf)
	$(BIN)/python -m bench.accuracy

clean:
	rm -rf var bench/out .pytest_cache .mypy_cache .ruff_cache
