# Two commands on a fresh clone: `make demo` opens the kiosk on a demo store, `make test` runs the suite.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_DB ?= demo.sqlite3

.PHONY: demo test bench setup clean

$(STAMP): pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV)
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/kiosk demo --db $(DEMO_DB)

test: $(STAMP)
	bash scripts/bootstrap.sh $(VENV) --test
	. scripts/pg-env.sh && $(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) $(DEMO_DB)
