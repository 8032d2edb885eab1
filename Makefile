PYTHON := .venv/bin/python
ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run test

help: ## show this help
	@echo "tg-inviter"
	@echo "  make run                 start everything (local PostgreSQL/Redis unless DATABASE_URL/REDIS_URL are set)"
	@echo "  make test [ARGS='-k x']  run the tests against a fresh local test database"
	@echo "Both first run scripts/bootstrap.sh (system packages, .venv, Python dependencies)."

run: ## start the installation
	@bash scripts/bootstrap.sh
	@$(PYTHON) -m launcher run

test: ## run the test suite; pytest arguments via ARGS=
	@bash scripts/bootstrap.sh test
	@$(PYTHON) -m launcher test $(ARGS)
