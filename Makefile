# Two entry points that work on a fresh machine: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck deploy-lint pytest bench schema clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The example's channels read secrets from the environment; for a local demo they point at a
# closed local port, so alerts fail visibly instead of reaching anyone. Set real ones to try them.
DEMO_ENV := SLACK_WEBHOOK_URL=$${SLACK_WEBHOOK_URL:-http://127.0.0.1:9/demo-slack} \
	SMTP_URL=$${SMTP_URL:-smtp://127.0.0.1:9} \
	PAGER_WEBHOOK_URL=$${PAGER_WEBHOOK_URL:-http://127.0.0.1:9/demo-pager} \
	WEBHOOK_SECRET=$${WEBHOOK_SECRET:-whsec_ZGVtby1zZWNyZXQtZm9yLWxvY2FsLXJ1bnM=}

run: $(STAMP)
	$(DEMO_ENV) $(BIN)/upwatch run -c monitors.yaml

test: $(STAMP) lint typecheck deploy-lint pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The deployment files: hadolint on the Dockerfile, and .railway/railway.ts type-checked against the
# `railway` SDK pinned in .railway/package-lock.json. Without npm the type check is skipped, except
# under CI=true, where it is required.
deploy-lint: $(STAMP)
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

pytest: $(STAMP)
	$(BIN)/pytest

schema: $(STAMP)
	$(BIN)/upwatch schema > docs/monitors.schema.json

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build dist .railway/node_modules
