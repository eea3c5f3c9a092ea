# The two commands of the README: `make run` (the demo) and `make test` (lint and the suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000

# Tests run on PostgreSQL and Redis (CI sets these; these defaults are the local services).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wholesale
TEST_REDIS_URL ?= redis://127.0.0.1:6379/5

.PHONY: run test lint format messages bench clean

$(VENV)/.installed-run: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

# The demo's beat runs the scheduled jobs (tracking sweeps, ERP exports, alerts, expiries) on
# their schedule, inline in its own process as the web server runs its tasks: no broker to run
# (memory:// only satisfies beat's connection). It stops with the server; its log is var/beat.log.
run: $(VENV)/.installed-run
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	DEBUG=1 CELERY_BROKER_URL=memory:// CELERY_TASK_ALWAYS_EAGER=1 \
		$(PY) -m celery -A wholesale beat --loglevel=INFO --logfile=$${WHOLESALE_VAR_DIR:-var}/beat.log & \
	beat=$$!; trap 'kill $$beat 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: lint
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)} \
		$(PY) -m pytest $(PYTEST_ARGS)

# After changing a user-facing string: extract the strings into the catalogs (locale/), have
# the new ones translated, then compile. A test fails while a string is missing from them.
LOCALES := es fr de ru pl pt_BR
messages: $(VENV)/.installed-test
	DEBUG=1 $(PY) manage.py makemessages $(addprefix -l ,$(LOCALES)) --no-obsolete \
		--ignore=$(VENV) --ignore=bench --ignore=tests --ignore=var --ignore=static --ignore=staticfiles
	DEBUG=1 $(PY) manage.py compilemessages --ignore=$(VENV)

bench: $(VENV)/.installed-test
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) var media staticfiles .pytest_cache .ruff_cache
