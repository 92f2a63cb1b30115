# passd developer tasks; the logic lives in scripts/. `make` alone lists them.
#
#   make test ARGS='-run TestX ./billing/'   passes ARGS to go test (default ./...)
#   DATABASE_URL=... make run                 uses that database instead of ./.data
#   make bench BENCH_ARGS='--phases submit --submit-duration 3s'   a quick bench

.DEFAULT_GOAL := help
ARGS ?= ./...
BENCH_ARGS ?=

.PHONY: help build run migrate test bench vet lint fmt lint-api db-stop docs release backup-drill failover-drill

help: ## list the targets (default)
	@echo 'usage: make TARGET'
	@awk 'BEGIN { FS = ":.*## " } /^[a-zA-Z0-9_-]+:.*## / { printf "  %-15s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

build: ## build cmd/passd into bin/passd
	@bash scripts/build.sh

run: ## build, start/reuse the dev database (./.data), migrate, seed demo data, serve on :8080
	@bash scripts/run.sh

migrate: ## build and apply migrations to the database make run uses
	@bash scripts/migrate.sh

test: ## lint + lint-api + go vet + go test -race against a throwaway PostgreSQL (ARGS='-run TestX ./pkg/')
	@bash scripts/test.sh $(ARGS)

bench: ## passd vs pgbench/raw SQL on a private durable PostgreSQL; table + bench/results/latest.json (BENCH_ARGS='--phases submit')
	@bash scripts/bench.sh $(BENCH_ARGS)

vet: ## go vet ./...
	go vet ./...

lint: ## gofmt check + staticcheck ./... (the version pinned in go.mod, run with go tool)
	@bash scripts/lint.sh

lint-api: ## lint the API contract openapi/openapi.yaml with spectral (installs it with npm ci when missing)
	@bash scripts/lint-api.sh

fmt: ## check formatting: list Go files gofmt would change, fail if any
	@bash scripts/fmt.sh

db-stop: ## stop the private dev PostgreSQL cluster in ./.data (data kept)
	@bash scripts/db.sh stop

docs: ## write docs/configuration.md and packaging/passd.env from the configuration code (a test fails when stale)
	go run ./cmd/passd config docs > docs/configuration.md
	go run ./cmd/passd config env > packaging/passd.env

release: ## build the Debian package (static passd, systemd unit, /etc/passd/passd.env) into dist/ with nfpm
	@bash scripts/release.sh

backup-drill: ## back a private cluster up with pgBackRest under load, restore it to a point in time, check passd on it (also run by make test)
	@bash scripts/backup-drill.sh

failover-drill: ## kill a private primary under load, promote its synchronous standby, check passd lost no acknowledged write and serves again unaided (also run by make test)
	@bash scripts/failover-drill.sh
