# One-command entry points. `make run` and `make test` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.planqa-installed
# PyTorch's CPU build; elsewhere set TORCH_SPEC or install a CPU wheel first (see README).
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup run index test test-fast lint eval eval-ci eval-report browser-deps clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# --build: the port opens at once, the index is built in the background when missing or stale.
run: setup
	$(VENV)/bin/planqa serve --build

index: setup
	$(VENV)/bin/planqa index

# Chromium and a CJK font for the browser tests (Debian packages; needs root).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wenquanyi"; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi

test: setup browser-deps
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow and not browser"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# The evaluation reads the live index; `index --no-force` builds it only when missing or stale.
eval: setup
	$(VENV)/bin/planqa index --no-force
	$(VENV)/bin/planqa eval

# The accuracy floor CI enforces (eval/floors.toml), on the committed gold set.
eval-ci: setup
	$(VENV)/bin/planqa index --no-force
	$(VENV)/bin/planqa eval --out eval/reports/runs/ci --check-floors

# The report committed under eval/reports/latest (report.md, chart.png) and linked from the README;
# its report.json stays local (.gitignore).
eval-report: setup
	$(VENV)/bin/planqa index --no-force
	$(VENV)/bin/planqa eval --out eval/reports/latest

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
