# stormcert: the front door. `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in emails, certificate QR codes and feeds use SITE_URL: in development, the address served
# (make run PORT=8101 links to 8101). An explicit SITE_URL in the environment wins.
SITE_URL ?= http://$(HOST):$(PORT)
export SITE_URL
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per core; PYTEST_WORKERS=0 runs the suite in this process.
PYTEST_WORKERS ?= auto
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH

.PHONY: run test chromium nginx check setup env migrate demo serve lock bench bench-protocol load cluster bench-directory bench-import clean totp program-words

run: setup migrate demo serve ## set everything up and serve http://127.0.0.1:8000

setup: $(STAMP) .env

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "stormcert needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $@

# A development .env: DEBUG on and a random SECRET_KEY. Production sets real variables instead.
.env:
	@printf 'DEBUG=1\nSECRET_KEY=dev-%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "wrote a development .env"

migrate: setup
	$(BIN)/python manage.py migrate --no-input -v0

demo: setup
	$(BIN)/python manage.py demo_data

serve:
	@echo "stormcert on http://$(HOST):$(PORT)/  (logins in README.md; staff code: make totp; links in emails and QR codes: $(SITE_URL))"
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

totp: setup ## the demo staff member's current two-factor code
	@$(BIN)/python manage.py demo_totp

# Each worker has its own test database (test-db.sqlite3_gw0, test_<name>_gw0 on PostgreSQL),
# live server port, browser, media and key folders (conftest.py). --dist loadfile keeps a file's
# tests together, so a browser journey file warms one worker's pages once.
test: setup chromium nginx ## the whole suite, browsers included
	$(BIN)/python manage.py collectstatic --no-input -v0 >/dev/null 2>&1 || true
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium (tests/browser/conftest.py). When it is missing,
# root installs it here (CI, a fresh container); anyone else is told the one command to run.
chromium:
	@if [ ! -x "$(CHROMIUM_PATH)" ]; then \
	  if [ "$(CHROMIUM_PATH)" = /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== installing Chromium for the browser tests"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core >/dev/null || exit 1; \
	  else \
	    echo "The browser tests need Chromium at $(CHROMIUM_PATH), which is missing. Install it with:" >&2; \
	    echo "  sudo apt-get install -y chromium fonts-dejavu-core" >&2; \
	    echo "(or point CHROMIUM_PATH at a Chromium), then run make test again." >&2; \
	    exit 1; \
	  fi; \
	fi

# tests/deploy drive Debian's nginx with deploy/nginx/stormcert-proxy.conf in front of gunicorn
# (slow clients, body caps). Installed like Chromium when missing.
NGINX_PATH ?= /usr/sbin/nginx
export NGINX_PATH
nginx:
	@if [ ! -x "$(NGINX_PATH)" ]; then \
	  if [ "$(NGINX_PATH)" = /usr/sbin/nginx ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "== installing nginx for the deployment tests"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    (apt-get install -y -qq nginx-light >/dev/null 2>&1 || \
	     (apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null)) || exit 1; \
	  else \
	    echo "The deployment tests need nginx at $(NGINX_PATH), which is missing. Install it with:" >&2; \
	    echo "  sudo apt-get install -y nginx-light" >&2; \
	    exit 1; \
	  fi; \
	fi

# Programs are data: no program's code, name or exam step code may appear in stormcert/ outside
# the definition files, demo data and migrations (tests/test_no_program_words.py says which words).
program-words: setup
	$(BIN)/pytest -q -n 0 tests/test_no_program_words.py

check: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy stormcert tests conftest.py
	$(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=0 SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(64))') ALLOWED_HOSTS=qisp.example.org \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

# Exam day under faults (bench/exam_day.py, figures printed, not a test): on a throwaway PostgreSQL
# cluster of its own (bench/.run/pg, port 5433; the shared server on 5432 is never restarted), the
# mixed load of a final (candidates, directory visitors, course registrations, payments, the /ping/
# floor) while a gunicorn worker is killed every 60 s, a tenth of the clients is cut off for 30 s
# and the database is restarted once; then the checker (bench/check.py) must find 0 lost answers,
# 0 double payments, 0 oversold seats, 0 duplicate certificates. `make bench` is the short run,
# `make load` the long one (1,000 candidates, about 15 minutes). Override with BENCH_ARGS="...".
BENCH_SHORT := --candidates 200 --questions 70 --think-min 1.2 --think-max 2.0 --visitors 20 \
  --registrants 100 --course-sessions 10 --capacity 6 --payers 60 --holders 20000 --throughput-seconds 10
LOAD_LONG := --candidates 1000 --questions 70 --think-min 5 --think-max 9 --visitors 100 \
  --registrants 300 --course-sessions 20 --capacity 10 --payers 200 --holders 50000
bench: setup
	@mkdir -p bench/.run
	$(BIN)/python bench/exam_day.py --own-postgres $(BENCH_SHORT) $(BENCH_ARGS)

# The exam protocol flat out (bench/protocol.py, issue 20): N candidates start at once, answer every
# question with no think time and submit, on a throwaway cluster of its own (a free port from 5434); prints
# starts/s, the herd's drain time, saves/s, p50/p95/p99, errors, lost answers and the server's CPU
# milliseconds per request (app and database). C = 50, C = 200 and a 1,000-start herd by default;
# PROTOCOL_ARGS="--quick" for a one-minute check, "--server gunicorn-sync gunicorn-gthread:2x4 granian"
# side by side (KIND:WORKERSxTHREADS), "--compare OLD_CHECKOUT ." for ratios. Granian is not a dependency: install it
# apart (pip install --target DIR granian) and set GRANIAN_PATH=DIR.
bench-protocol: setup
	@mkdir -p bench/.run
	$(BIN)/python bench/protocol.py $(PROTOCOL_ARGS)

load: setup
	@mkdir -p bench/.run
	$(BIN)/python bench/exam_day.py --own-postgres $(LOAD_LONG) $(BENCH_ARGS)

# Scale-out on one machine (bench/cluster.py, figures printed, not a test): on loopback, nginx (the
# site's deploy/nginx/stormcert-proxy.conf included as it is) in front of 3 app nodes (gunicorn with
# deploy/systemd/stormcert-app.service's flags, each on its own port), one PostgreSQL of its own
# (bench/.run/cluster/pg, port 5447), Redis database 7 (emptied first; CLUSTER_REDIS_URL overrides),
# the worker and tick. First the cross-node checks (a sign-in used on another node, a fee change seen
# by every node, the public rate limit held across nodes), then the exam-day mix through nginx while
# a node is killed, a rolling restart is done and slow clients hold connections; the four zeros must
# hold. About 10 minutes (5 of load). Any option of cluster.py overrides: BENCH_ARGS="--nodes 2".
CLUSTER_RUN := --candidates 100 --questions 70 --think-min 2 --think-max 3 --visitors 20 \
  --registrants 60 --course-sessions 6 --capacity 6 --payers 40 --holders 5000
cluster: setup
	@mkdir -p bench/.run
	$(BIN)/python bench/cluster.py $(CLUSTER_RUN) $(BENCH_ARGS)

# Directory and verification benchmark (bench/directory.py): loads 100,000 holders, then prints
# search server time and verification throughput. Set DATABASE_URL to a scratch PostgreSQL database.
bench-directory: setup
	@mkdir -p bench/.run
	@db=$${DATABASE_URL:-sqlite:///$(CURDIR)/bench/.run/bench-directory.sqlite3}; \
	DATABASE_URL=$$db $(BIN)/python manage.py migrate --no-input -v0 && \
	DATABASE_URL=$$db $(BIN)/python bench/directory.py $(BENCH_ARGS)

# Legacy import: a 10,000-row file through the staff pages (upload, dry run in chunks, import).
bench-import: setup
	@mkdir -p bench/.run
	@db=$${DATABASE_URL:-sqlite:///$(CURDIR)/bench/.run/bench-import.sqlite3}; \
	DATABASE_URL=$$db $(BIN)/python manage.py migrate --no-input -v0 && \
	DATABASE_URL=$$db $(BIN)/python bench/legacy_import.py $(BENCH_ARGS)

lock: ## re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* test-db.sqlite3* staticfiles .mypy_cache .ruff_cache
