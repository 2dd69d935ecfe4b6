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

# Mutation testing of the pure core and the rule modules ([tool.mutmut] in pyproject.toml):
# prints every mutant no test killed, then the count per module. MUTATE='kiosk.audit*' runs
# (and re-runs) one area. A first run took 31 min for lottery and audit (2,200 mutants) on
# two cores shared with other work, about an hour for all six; mutmut keeps its results in
# mutants/, so a later run re-tests only the functions that changed (a changed test
# selection starts afresh).
mutate: $(VENV)/.test
	$(VENV)/bin/mutmut run --max-children $(or $(JOBS),2) $(MUTATE) || true
	@$(VENV)/bin/mutmut results | grep -v ': not checked$$' | tee mutants/survivors.txt
	@echo "not killed, per module:"
	@sed -E 's/^ *(.*)\.x[_ǁ].*: (.*)$$/\1 (\2)/' mutants/survivors.txt | sort | uniq -c

clean:
	rm -rf $(VENV) $(DEMO_DB)
