# Two commands on a fresh clone: `make demo` opens the kiosk on a demo store, `make test` runs the suite.
VENV    ?= .venv
PY      := $(VENV)/bin/python
DEMO_DB ?= demo.sqlite3

.PHONY: demo test bench clean

# Each stamp records that bootstrap ran for that use; editing the project's files reruns it.
$(VENV)/.demo: pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV)
	touch $@

$(VENV)/.test: pyproject.toml scripts/bootstrap.sh
	bash scripts/bootstrap.sh $(VENV) --test
	touch $@ $(VENV)/.demo

demo: $(VENV)/.demo
	$(VENV)/bin/kiosk demo --db $(DEMO_DB)

test: $(VENV)/.test
	. scripts/pg-env.sh && $(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(VENV)/.test
	$(PY) bench/run.py $(BENCH)

clean:
	rm -rf $(VENV) $(DEMO_DB)
