# The two commands a newcomer needs: `make demo` and `make test`.
# Everything lives in .venv inside the checkout; nothing is installed globally.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_QUERY ?= where do we split identifiers into words for the embedding text
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml)
WHEEL := dist/quiver_lsp-$(VERSION)-py3-none-any.whl
VSIX := dist/quiver-$(VERSION).vsix

.PHONY: setup demo dist test test-fast test-vscode-real vscode-screenshots lint typecheck unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Index this repository and answer a semantic search over it.
demo: setup
	$(BIN)/quiver index .
	$(BIN)/quiver search . "$(DEMO_QUERY)"

# What a user installs (README, "Install"): the server's wheel, and the VS Code extension,
# which ships the wheel in server/ for its "Set Up Quiver's Server". Offline but for pip's
# build back-end (setuptools, from the package index) and `npm ci` when node_modules is missing.
dist: setup
	rm -rf build dist/quiver_lsp-*.whl dist/quiver-*.vsix editors/vscode/server
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	mkdir -p editors/vscode/server && cp $(WHEEL) editors/vscode/server/
	cd editors/vscode && { [ -x node_modules/.bin/vsce ] || npm ci --no-audit --no-fund; } \
		&& node_modules/.bin/vsce package --no-dependencies --skip-license --allow-missing-repository \
			--out ../../$(VSIX)
	@echo "Built $(WHEEL) and $(VSIX)"

lint: setup
	$(BIN)/ruff check server tests benchmarks

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest

test: lint typecheck unit

# The inner loop: lint and every test that needs neither the model nor an editor (< 1 min).
test-fast: lint
	$(BIN)/pytest -q -m "not model and not slow and not editor"

# The VS Code extension in real VS Code (code-server and headless Chromium, installed into
# editors/vscode/.realhost and by apt the first time, ~80 s; then ~30 s). Part of `unit`.
test-vscode-real: setup
	$(BIN)/pytest -q tests/editors/test_vscode_real.py

# Re-takes docs/screenshots/vscode-*.png in real VS Code, with the same harness.
vscode-screenshots: setup
	bash editors/vscode/test/realhost/install.sh
	cd editors/vscode && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund; } \
		&& npm run compile && npm run bundle
	work=$$(mktemp -d) && node editors/vscode/out/test/realhost/driver.js --quiver $(BIN)/quiver \
		--work "$$work" --screenshots docs/screenshots; status=$$?; rm -rf "$$work"; exit $$status

bench: setup
	for b in parse embed ivf text fuzzy search quality workspace_symbol incremental startup; do $(BIN)/python benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) .quiver-cache .mypy_cache .ruff_cache .pytest_cache editors/vscode/.realhost \
		build dist editors/vscode/server
