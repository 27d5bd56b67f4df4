# Two commands from a fresh clone, with Python 3.11+ only:
#   make run    install, prepare the database and demo data, serve on http://127.0.0.1:8000
#   make test   install and run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test test-packaging lint docs bench bench-scaleout bench-topics bench-presence bench-soak bench-hostile bench-restart bench-memory bench-hold bench-sse bench-c100k clean

$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed: run make with PYTHON=/path/to/python3.11"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py demo_data
	@echo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl-C stops)"
	@echo "  demo page:      http://$(HOST):$(PORT)/   (sign in as demo / demo-password)"
	@echo "  admin:          http://$(HOST):$(PORT)/admin/"
	@echo "  echo:           $(BIN)/python -m websockets ws://$(HOST):$(PORT)/ws/echo"
	@echo "  json:           $(BIN)/python -m websockets ws://$(HOST):$(PORT)/ws/json"
	@echo "  notifications:  TOKEN=\$$($(BIN)/python manage.py issue_token demo)"
	@echo "                  $(BIN)/python -m websockets \"ws://$(HOST):$(PORT)/ws/notifications?token=\$$TOKEN\""
	@echo "                  $(BIN)/python manage.py notify demo hello      (in another terminal)"
	@echo
	exec $(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

# Two workers (pytest-xdist), each taking the next test when it is free: the suite
# waits on daphne and clients as much as it computes. Bytecode is cached (an
# environment that turns caching off pays for compiling every module in every process),
# and hypothesis loads none of the extensions other packages register (trio's, say).
TEST_WORKERS ?= 2

test: install
	PYTHONDONTWRITEBYTECODE= HYPOTHESIS_NO_PLUGINS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal

# The apps as a user gets them: a fresh virtualenv and startproject site, an upgrade from 0.1 (tests/packaging/).
test-packaging: install
	REALTIME_PACKAGING=1 $(BIN)/python -m pytest tests/packaging

# The documentation site (docs/, mkdocs.yml): every warning an error, a broken link or anchor included.
$(VENV)/.docs-installed: requirements-docs.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-docs.txt
	@touch $@

docs: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --clean

$(VENV)/.bench-installed: bench/requirements.txt $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@touch $@

# Benchmarks (bench/README.md): loopback only, on this machine's PostgreSQL and Redis.
bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench.perf
	$(BIN)/python -m bench.report

bench-scaleout: $(VENV)/.bench-installed
	$(BIN)/python -m bench.scaleout fanout
	$(BIN)/python -m bench.scaleout connections

bench-topics: $(VENV)/.bench-installed
	$(BIN)/python -m bench.topics

bench-presence: $(VENV)/.bench-installed
	$(BIN)/python -m bench.presence

bench-soak: $(VENV)/.bench-installed
	$(BIN)/python -m bench.soak

bench-hostile: $(VENV)/.bench-installed
	$(BIN)/python -m bench.hostile

# Where the memory of an idle connection goes: tracemalloc by package and line, per connection (bench/memory.py).
bench-memory: $(VENV)/.bench-installed
	$(BIN)/python -m bench.memory

# C100k (issue 25): 100,000 idle authenticated connections asked of five daphne processes and Redis, held ten
# minutes, then one notification to every user (bench/c100k.py; about 35 minutes).
bench-c100k: $(VENV)/.bench-installed
	$(BIN)/python -m bench.c100k

# 20,000 idle authenticated connections held by one daphne process for ten minutes (bench/hold.py).
bench-hold: $(VENV)/.bench-installed
	$(BIN)/python -m bench.hold

# Server-Sent Events against WebSockets: memory per idle stream, fan-out p99, POST round trips, CPU per delivery (bench/sse.py).
bench-sse: $(VENV)/.bench-installed
	$(BIN)/python -m bench.sse

# The reconnect storm of a rolling restart behind deploy/'s nginx (needs nginx: apt-get install nginx).
bench-restart: $(VENV)/.bench-installed
	$(BIN)/python -m bench.restart

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-db.sqlite3 site
