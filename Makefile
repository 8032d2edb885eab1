PYTHON := .venv/bin/python
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test lint lock

help: ## show this help
	@echo "tg-inviter"
	@echo "  make run                 start everything (local PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set)"
	@echo "  make test [ARGS='-k x']  ruff, mypy, then the tests against a fresh local test database"
	@echo "  make lint                only ruff and mypy"
	@echo "  make lock [UPGRADE=1]    refresh requirements/lock*.txt from pyproject.toml's ranges"
	@echo "run, test and lint first run scripts/bootstrap.sh (system packages, .venv, Python dependencies)."

run: ## start the installation
	@bash scripts/bootstrap.sh
	@$(PYTHON) -m launcher run

test: ## ruff, mypy, then the test suite; pytest arguments via ARGS=
	@bash scripts/bootstrap.sh test
	@$(PYTHON) -m launcher test $(ARGS)

lint: ## ruff and mypy only
	@bash scripts/bootstrap.sh test
	@$(PYTHON) -m launcher lint

lock: ## refresh the lock files (UPGRADE=1: newest versions the ranges allow)
	@bash scripts/lock.sh
