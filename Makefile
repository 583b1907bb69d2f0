# The two commands a newcomer needs: `make demo` and `make test`.
# Everything lives in .venv inside the checkout; nothing is installed globally.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_QUERY ?= where do we split identifiers into words for the embedding text

.PHONY: setup demo test test-fast test-vscode-real vscode-screenshots lint typecheck unit bench clean

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
	rm -rf $(VENV) .quiver-cache .mypy_cache .ruff_cache .pytest_cache editors/vscode/.realhost
