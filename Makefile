# Two commands on a fresh clone: `make demo` opens the kiosk on a demo store, `make test` runs the suite.
VENV    ?= .venv
PY      := $(VENV)/bin/python
DEMO_DB ?= demo.sqlite3

.PHONY: demo test bench mutate clean

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

# Mutation testing of the pure core and the rule modules ([tool.mutmut] in pyproject.toml);
# prints the mutants no test killed. Slow: about a quarter of an hour on two cores.
mutate: $(VENV)/.test
	$(VENV)/bin/mutmut run --max-children $(or $(JOBS),2) || true
	$(VENV)/bin/mutmut results

clean:
	rm -rf $(VENV) $(DEMO_DB)
