# Reseller Hub — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEV_ENV := DEBUG=1

.PHONY: run test lint format install worker beat bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## Serve the portal with demo data on SQLite, eager Celery and console e-mail.
run: install
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

## Run the test suite (SQLite by default; PostgreSQL/Redis/worker/browser when configured).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Lint, formatting, import layers and types (as CI runs them).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(DEV_ENV) $(BIN)/mypy .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Refresh the catalogues from the code, then compile them (needs the gettext tools).
messages: install
	$(DEV_ENV) $(BIN)/python manage.py makemessages -l pt_BR -l es -e html,txt,py \
		--ignore=.venv --ignore=tests --ignore=bench
	$(DEV_ENV) $(BIN)/python manage.py compilemessages --ignore=.venv

## A Celery worker and beat against REDIS_URL / DATABASE_URL from the environment.
worker: install
	$(BIN)/celery -A config worker --loglevel=INFO --queues=hub

beat: install
	$(BIN)/celery -A config beat --loglevel=INFO

bench: install
	$(BIN)/python bench/bulk.py

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 sent_emails
