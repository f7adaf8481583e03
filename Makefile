# The two commands a newcomer needs (see README.md):
#   make quickstart   set up .venv and run examples/quickstart offline on the default file store
#   make test         set up .venv (and the browser, database the tests use) and run every check
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: quickstart test test-oldest setup setup-dev setup-browser setup-backends setup-postgres lint bench docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install -q -e '.[openai,server,fast]'

setup-dev: $(BIN)/python
	$(BIN)/pip install -q -e '.[all,dev]'

quickstart: setup
	$(BIN)/python examples/quickstart/main.py

lint: setup-dev
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy
	$(BIN)/mypy --strict tests/typing
	$(BIN)/lint-imports

# The browser tests drive Debian's Chromium through Playwright (Playwright's own browser
# download does not work offline); install it when missing.
setup-browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }
	@echo "chromium: $$(chromium --version 2>/dev/null)"

# The bridge tests export to real Arize Phoenix and MLflow servers (tests/bridges/). Each is
# installed from PyPI into its own venv in a cache outside the repository
# (~/.cache/otelfeedback/backends, or $OTELFEEDBACK_BACKENDS_DIR), reused when present.
setup-backends:
	$(PYTHON) tests/bridges/install_backends.py


# The PostgreSQL tests start a throwaway cluster from Debian's postgresql package (initdb and
# pg_ctl, no service); install it when missing. They fail, not skip, in CI without it.
setup-postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq postgresql; }
	@echo "postgresql: $$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)"

test: setup-dev setup-browser setup-backends setup-postgres lint
	$(BIN)/python -m pytest

bench: setup-dev
	$(BIN)/python bench/tracing_overhead.py

docs: setup-dev
	$(BIN)/python -c 'import otelfeedback.config as c; print(c.render_markdown(), end="")' > docs/configuration.md

# The oldest Python we support (3.10), when the machine has it: tests only, no lint, and not
# the real-backend or PostgreSQL tests (make test runs them; the bridge code and the file
# store are tested here too), which keeps .ci/run's two runs within its time.
OLDEST ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) $(wildcard /usr/bin/python3.10 /usr/local/bin/python3.10))
test-oldest: setup-browser
	@if [ -z "$(OLDEST)" ]; then echo "python3.10 not found: skipping the oldest-Python run"; else \
	  $(OLDEST) -m venv .venv-oldest && .venv-oldest/bin/pip install -q -e '.[all,dev]' && \
	  .venv-oldest/bin/python -m pytest -q -p no:cacheprovider -m "not backends and not postgres"; fi
