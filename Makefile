# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.maillon-installed
DEMO   ?= build/maillon-demo.xlsx

.PHONY: demo test lint bench template addin clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/maillon demo $(DEMO)

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	$(PY) benchmarks/bench_engine.py
	$(PY) benchmarks/bench_recompute.py

template: $(STAMP)
	$(PY) -m maillon.addin.filemode.template

addin: $(STAMP)
	$(PY) -m maillon.addin.excel_addin.build

clean:
	rm -rf build .pytest_cache
