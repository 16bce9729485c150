# rrball — the two commands a newcomer needs: `make demo` and `make test`.
# Everything else (virtual environment, Python packages from the lock file) is set up on demand.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: setup demo test lint typecheck unit fixtures fixtures-check bench clean

setup: $(STAMP)

$(STAMP): requirements-dev.lock pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# The survival demo on a public cohort, then every bundled study plan (the five seed studies on
# their seed-shaped cohorts, the public Bioconductor ALL cohort) with reports in out/<plan>/
# (HTML, PDF, Word, Excel) and a published-vs-reproduced summary.
demo: setup
	$(BIN)/rrball demo
	$(BIN)/rrball studies --out out

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy --strict src

unit: setup
	$(BIN)/python -m pytest -q

test: lint typecheck unit

# Regenerate the R reference fixtures (needs R; `scripts/bootstrap.sh r` installs Debian's packages).
fixtures:
	bash scripts/bootstrap.sh r
	Rscript tests/stats/r/make_fixtures.R
	Rscript tests/cohort/r/export_all_pdata.R

# Fail when the committed fixtures differ from what the R scripts produce now.
fixtures-check: fixtures
	@changed=$$(git status --porcelain -- tests/stats/fixtures tests/stats/data src/rrball/data tests/cohort/fixtures); \
	if [ -n "$$changed" ]; then \
	  echo "$$changed"; git --no-pager diff --stat -- tests/stats/fixtures tests/stats/data; \
	  echo "R fixtures are stale: run 'make fixtures' and commit the result" >&2; exit 1; \
	else echo "R fixtures are fresh"; fi

$(BENCH_STAMP): requirements-bench.lock $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.lock
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	bash scripts/bootstrap.sh r
	cd benchmarks && ../$(BIN)/python run.py
	cd benchmarks && ../$(BIN)/python run_response.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
