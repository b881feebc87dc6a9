# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
PIP = $(PYTHON) -m pip

.PHONY: install demo test bench

install:
	$(PIP) install -q -e '.[test]'

demo: install
	$(PIP) install -q -e '.[examples]'
	$(PYTHON) examples/autograd_tutorial.py

test: install
	$(PIP) install -q -e '.[test,examples]' torch==2.13.0
	$(PYTHON) -m pytest -q -n 2 tests

bench: install
	$(PIP) install -q torch==2.13.0
	$(PYTHON) benchmarks/run.py
