# The two commands a newcomer needs: `make serve` and `make test`. Everything else is here too.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: serve site site-zensical check test bench lock clean

# Create the virtual environment from the pinned, hashed lock (re-created when the lock changes).
$(STAMP): requirements.lock
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	touch $(STAMP)

serve: $(STAMP)       ## validate, check, build and serve on http://127.0.0.1:8000 (live reload)
	$(PY) -m scripts.build serve

site: $(STAMP)        ## validate, check and build the site into site/ (atomically)
	$(PY) -m scripts.build site

site-zensical: $(STAMP)  ## the same generated sources built with the pinned Zensical into site-zensical/
	$(PY) -m scripts.build site-zensical

check: $(STAMP)       ## validation and the project's checks only
	$(PY) -m scripts.build check

test: $(STAMP)        ## the whole test suite (what CI runs)
	$(PY) -m pytest

# Lighthouse for the reader-side benchmark, pinned by bench/lighthouse/package-lock.json. Without
# npm, `make bench` still runs and reports the reader side as not measured.
LIGHTHOUSE := bench/lighthouse/node_modules/.package-lock.json
$(LIGHTHOUSE): bench/lighthouse/package-lock.json
	-npm ci --prefix bench/lighthouse --no-audit --no-fund --loglevel=error

bench: $(STAMP) $(LIGHTHOUSE)  ## benchmark: prints three tables, rewrites docs/performance.md's results
	$(PY) -m scripts.bench

lock:                 ## re-resolve the lock from pyproject.toml (needs network to PyPI)
	$(PYTHON) -m venv /tmp/jre-lock && /tmp/jre-lock/bin/pip install --quiet pip-tools
	/tmp/jre-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --extra dev --strip-extras -o requirements.lock pyproject.toml

clean:
	rm -rf build site site-zensical bench/lighthouse/node_modules
