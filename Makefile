# make run   — set up and run xxgk on the bundled example reports
# make test  — set up and run the tests
# make bench — set up and measure speed and memory
# make compile — compile the extraction's hot modules again after an edit (mypyc, setup.py;
#                until then their source runs: xxgk.compiled)
.PHONY: setup compile run test test-all bench lint clean

VENV := .venv
BUILT := pyproject.toml scripts/setup.sh setup.py src/xxgk/compiled.py
STAMP := $(VENV)/.installed-$(shell cat $(BUILT) | cksum | cut -d' ' -f1)

$(STAMP): $(BUILT)
	bash scripts/setup.sh
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

compile: setup
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .

PORT ?= 8000

run: setup
	$(VENV)/bin/xxgk ingest examples; status=$$?; \
	  [ $$status -le 1 ] || { echo "ingest failed (exit $$status)"; exit $$status; }; \
	  [ $$status -eq 0 ] || echo "some example files could not be read (see above); serving the rest"
	XXGK_TOKEN=$${XXGK_TOKEN:-$$($(VENV)/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))')} \
	  $(VENV)/bin/xxgk serve --port $(PORT)

test: setup
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/python -m pytest -q -n 2 -m "not slow"

test-all: setup
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/python -m pytest -q -n 2

bench: setup
	$(VENV)/bin/python -m xxgk.bench

lint: setup
	$(VENV)/bin/ruff check src tests

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
