# grassroots: `make run` starts everything, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export GRASSROOTS_HOME ?= $(CURDIR)/var

.PHONY: run test lint bench system-deps venv migrate demo clean

# System packages the platform needs (installed with apt when we are root or have sudo).
# WeasyPrint (the yearly report's PDF) needs Pango; Noto Serif and DejaVu have Vietnamese glyphs.
APT_RUN := mosquitto icecast2 ffmpeg espeak-ng fonts-noto-core fonts-dejavu-core python3-venv \
	libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
APT_TEST := chromium chromium-driver faketime poppler-utils

system-deps:
	@scripts/ensure-apt.sh $(APT_RUN)

system-deps-test: system-deps
	@scripts/ensure-apt.sh $(APT_TEST)

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip >/dev/null 2>&1 || true
	$(PIP) install -q -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

migrate: venv
	$(VENV)/bin/grassroots migrate --no-input -v0
	$(VENV)/bin/grassroots collectstatic --no-input -v0

demo: migrate
	$(VENV)/bin/grassroots load_demo

run: system-deps demo
	exec $(VENV)/bin/grassroots run

# Parallel test workers (pytest-xdist): most tests wait on real processes, so more workers
# than cores pays; each worker has its own home and database (config/settings.py).
PYTEST_WORKERS ?= 3

test: system-deps-test venv
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check grassroots agent protocol bench tests scripts
	$(VENV)/bin/ruff format --check grassroots agent protocol bench tests scripts
	$(VENV)/bin/grassroots makemigrations --check --dry-run -v0

bench: system-deps venv
	$(PY) -m bench

clean:
	rm -rf $(VENV) var
