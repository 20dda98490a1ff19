# Two entry points that work on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs only what running needs; `make test` adds the dev extra.
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck deploy-lint lighthouse pytest bench schema clean

$(VENV)/bin/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "make: installing upwatch into $(VENV) (pip install -e .; first run only)"
	$(BIN)/python -m pip install --quiet -e .
	@echo "make: upwatch is $(BIN)/upwatch; \`. $(BIN)/activate\` puts it on your PATH"
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	@echo "make: installing upwatch with its dev tools into $(VENV) (pip install -e '.[dev]')"
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP) $(RUN_STAMP)

# The example's channels read secrets from the environment; for a local demo they point at a
# closed local port, so alerts fail visibly instead of reaching anyone. Set real ones to try them.
DEMO_ENV := SLACK_WEBHOOK_URL=$${SLACK_WEBHOOK_URL:-http://127.0.0.1:9/demo-slack} \
	SMTP_URL=$${SMTP_URL:-smtp://127.0.0.1:9} \
	PAGER_WEBHOOK_URL=$${PAGER_WEBHOOK_URL:-http://127.0.0.1:9/demo-pager} \
	WEBHOOK_SECRET=$${WEBHOOK_SECRET:-whsec_ZGVtby1zZWNyZXQtZm9yLWxvY2FsLXJ1bnM=}

run: $(RUN_STAMP)
	@echo "make run: starting upwatch with monitors.yaml on http://localhost:$${PORT:-8080} (Ctrl-C stops)"
	$(DEMO_ENV) $(BIN)/upwatch run -c monitors.yaml

test: $(DEV_STAMP) lint typecheck deploy-lint lighthouse pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

# The deployment files: hadolint on the Dockerfile, and .railway/railway.ts type-checked against the
# `railway` SDK pinned in .railway/package-lock.json. Without npm the type check is skipped, except
# under CI=true, where it is required.
deploy-lint: $(DEV_STAMP)
	$(BIN)/hadolint Dockerfile
	@if command -v npm >/dev/null 2>&1; then \
		cd .railway && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
		&& ./node_modules/.bin/tsc --noEmit -p . && echo "tsc: .railway/railway.ts ok"; \
	elif [ "$${CI:-}" = true ]; then \
		echo "deploy-lint: npm is required under CI=true, to type-check .railway/railway.ts" >&2; \
		exit 1; \
	else \
		echo "deploy-lint: npm not found: skipping the type check of .railway/railway.ts" \
			"(install Node.js 20+ with npm to run it)"; \
	fi

# Lighthouse, pinned in .lighthouse/package-lock.json, for the status page's browser test
# (accessibility, best practices and SEO gates). Without npm the test is skipped, except under
# CI=true, where it is required.
lighthouse:
	@if command -v npm >/dev/null 2>&1; then \
		cd .lighthouse && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error; \
	elif [ "$${CI:-}" = true ]; then \
		echo "lighthouse: npm is required under CI=true, for the status page's Lighthouse gates" >&2; \
		exit 1; \
	else \
		echo "lighthouse: npm not found: the Lighthouse gates of the status page are skipped" \
			"(install Node.js 20+ with npm to run them)"; \
	fi

pytest: $(DEV_STAMP)
	$(BIN)/pytest

schema: $(RUN_STAMP)
	$(BIN)/upwatch schema > docs/monitors.schema.json

bench: $(DEV_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist .railway/node_modules \
		.lighthouse/node_modules
