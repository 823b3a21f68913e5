# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Node tools of the tests: the official AsyncAPI parser validates schemas/asyncapi.yaml, and a
# sender written in Node from docs/signing.md checks the signing vectors and publishes to a hub.
NODE_TOOLS := tools/asyncapi tools/signing
NODE_STAMPS := $(NODE_TOOLS:%=%/node_modules/.installed)

.PHONY: install run-deps system-deps run test lint typecheck docs bench battery clean

# The hub's dependencies, theirs and so on at the versions the image installs
# (deploy/constraints.txt): the tests run with what ships.
$(STAMP): pyproject.toml deploy/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint deploy/constraints.txt -e '.[dev,embedded]'
	touch $(STAMP)

tools/%/node_modules/.installed: tools/%/package.json tools/%/package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --prefix tools/$*
	touch $@

# Installs the Debian packages listed in $$missing, only as root; otherwise prints the command.
APT_MISSING = if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	else \
		echo "missing system packages:$$missing; run: sudo apt-get install -y$$missing"; \
	fi

# System packages the hub needs to run: exiftool removes the location and camera of the
# portal's evidence photos and videos (connectors/lapor/metadata.py); `kawal up --demo` runs
# the portal. Installed only when missing.
run-deps:
	@missing=""; \
	command -v exiftool >/dev/null 2>&1 || missing="$$missing libimage-exiftool-perl"; \
	$(APT_MISSING)

# System packages of the tests on a fresh Debian machine, beside run-deps: headless Chromium
# renders the web page, PostgreSQL backs the audit-store tests, Prometheus (and its promtool)
# runs the alert rules' tests and `kawal up --monitoring`, Alertmanager (and its amtool) the
# alert routing's tests. Installed only when missing.
system-deps: run-deps
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v amtool >/dev/null 2>&1 || missing="$$missing prometheus-alertmanager"; \
	$(APT_MISSING)

install: $(STAMP) $(NODE_STAMPS)

# With Debian's prometheus installed (make system-deps), also metrics, targets and alerts.
run: install run-deps
	$(BIN)/kawal up --demo $$(command -v prometheus >/dev/null 2>&1 && echo --monitoring)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

docs: install
	$(BIN)/python -m streams.contract.asyncapi
	$(BIN)/python -m streams.contract.kubernetes
	$(BIN)/python -m streams.contract.compose

test: system-deps lint typecheck
	$(BIN)/kawal schema check
	$(BIN)/python -m streams.contract.asyncapi --check
	$(BIN)/python -m streams.contract.kubernetes --check
	$(BIN)/python -m streams.contract.compose --check
	# Three test processes, each file in one (its module fixtures start its hubs once): tests
	# wait on brokers and child processes, which left a third of two cores idle with two
	# processes; three took 11:47 where two took 14:48 and 15:04 on the same machine.
	# The 15 slowest are listed at the end: the suite is to stay well under 15 minutes.
	$(BIN)/pytest -n 3 --dist loadfile --durations=15

bench: install
	$(BIN)/python -m bench

# Long runs outside `make test`, each printing its figures: 100,000 events with kills, a
# rebalance of two workers under load, a 50,000-event backlog beside another institution;
# then 20,000 new generated inputs of each kind: requests to the hub and the portal, command
# lines to `kawal`, institutions' records to the connectors' mappings, inbound records to the
# pipeline's step, feed records to an outbound connector's checks.
battery: system-deps install
	$(BIN)/pytest -m battery -s
	KAWAL_FUZZ_EXAMPLES=20000 $(BIN)/pytest tests/web/test_request_fuzz.py tests/connectors/test_lapor_fuzz.py \
		tests/cli/test_cli_fuzz.py tests/connectors/test_mapping_fuzz.py tests/hub/test_ingress_fuzz.py \
		tests/connectors/test_feed_fuzz.py

clean:
	rm -rf $(VENV) $(NODE_TOOLS:%=%/node_modules) .kawal .pytest_cache .mypy_cache .ruff_cache
