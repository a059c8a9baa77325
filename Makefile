# One command to run perfdash on the example fleet, one to run every test.
#   make run    set up, then validate + build + test the example fleet (slos/ -> alerts/),
#               and ingest + compare real k6 runs in the local store (no database to set up)
#   make test   set up, then lint and run the whole test suite (unit + integration)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup system-deps run test lint clean

$(BIN)/perfdash: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,local]'
	@touch $@

system-deps:
	./scripts/install-system-deps.sh

# uPlot for perfdash preview (npm, locked in package-lock.json; never committed).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

setup: system-deps $(BIN)/perfdash node_modules/.package-lock.json

run: setup
	$(BIN)/perfdash validate
	$(BIN)/perfdash build
	$(BIN)/perfdash test
	./scripts/baseline-demo.sh $(BIN)/perfdash

lint: $(BIN)/perfdash
	$(BIN)/ruff check perfdash tests benchmarks testing
	$(BIN)/ruff format --check perfdash tests benchmarks testing
	$(BIN)/mypy perfdash

test: setup lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache node_modules
