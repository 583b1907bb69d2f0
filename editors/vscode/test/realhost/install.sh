#!/usr/bin/env bash
# Installs what the extension's tests in real VS Code need, or says why it cannot:
#   - Debian packages (system-wide): chromium and fonts-liberation (the headless client
#     that opens the workbench), ripgrep (code-server's search), and the tool chain
#     code-server's native modules build with (build-essential, pkg-config, libkrb5-dev);
#   - code-server 4.100.3 (the server of VS Code 1.100.3, with the real Node extension
#     host) from npm, pinned by package.json/package-lock.json beside this script, into
#     editors/vscode/.realhost/ (git-ignored), where a second run finds it.
#
#   editors/vscode/test/realhost/install.sh        (QUIVER_REALHOST_DIR moves the folder)
#
# Exit status: 0 installed (or already there); 3 this machine cannot install it (not root
# with packages missing, no package registry, no Node 20): the message says what is
# missing, and the tests skip (under CI=true they fail); anything else is a failure.
# Takes about 30 s of apt and 50 s of npm on 2 cores the first time, under a second after.
# ./README.md says why each step is there.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
extension=$(cd "$here/../.." && pwd)
dest=${QUIVER_REALHOST_DIR:-$extension/.realhost}
# --no-install-recommends keeps out what chromium recommends (systemd, avahi, cups...);
# fonts-liberation is the one recommendation the screenshots need.
apt_packages=(chromium fonts-liberation ripgrep build-essential pkg-config libkrb5-dev)

cannot() {
  echo "realhost install: cannot install here: $1" >&2
  echo "Suggestion: $2" >&2
  exit 3
}

mkdir -p "$dest"
# One install at a time (two test runs started together share the folder).
exec 9>"$dest/.lock"
flock -w 900 9 || cannot "another install holds $dest/.lock for 15 minutes" "remove $dest and retry"

# The stamp names what was installed: a changed lock file or Node reinstalls.
lock_sum=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo none)
stamp="$dest/.installed-$lock_sum-node$node_major"

missing_packages() {
  local package
  for package in "${apt_packages[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
      echo "$package"
    fi
  done
}

missing=$(missing_packages | xargs)
if [ -z "$missing" ] && [ -f "$stamp" ]; then
  exit 0
fi

started=$(date +%s)
if [ -n "$missing" ]; then
  command -v apt-get >/dev/null ||
    cannot "no apt-get to install: $missing" "install them with your package manager"
  [ "$(id -u)" = 0 ] || cannot "not root, and these Debian packages are missing: $missing" \
    "sudo apt-get install -y $missing, then run this again"
  echo "realhost install: apt-get install $missing"
  apt-get update -qq >"$dest/apt.log" 2>&1 ||
    cannot "apt-get update failed (no Debian registry?): $(tail -n 2 "$dest/apt.log" | xargs)" \
      "check the access to the Debian mirror; the log is $dest/apt.log"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
    >>"$dest/apt.log" 2>&1 || {
    tail -n 20 "$dest/apt.log" >&2
    echo "realhost install: apt-get install $missing failed; the log is $dest/apt.log" >&2
    exit 1
  }
fi

if [ ! -f "$stamp" ]; then
  [ "$node_major" = 20 ] || cannot "code-server 4.100.3 needs Node 20, found: $node_major" \
    "install Node 20 (later code-server releases need Node 22 or 24)"
  command -v npm >/dev/null || cannot "npm not found" "install npm (Debian: apt-get install npm)"
  echo "realhost install: npm ci code-server into $dest"
  rm -rf "$dest/node_modules" "$dest"/.installed-*
  cp "$here/package.json" "$here/package-lock.json" "$dest/"
  # @vscode/ripgrep (1.15.11 in code-server 4.100.3's lib/vscode) downloads rg from
  # GitHub in its install script, unless its cache in $TMPDIR already has the tarball:
  # give it Debian's rg, the same 13.0.0.
  export TMPDIR="$dest/tmp"
  cache="$TMPDIR/vscode-ripgrep-cache-1.15.11"
  mkdir -p "$cache"
  tar -czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C /usr/bin rg
  # yes: node-pty's install would stop on an npx prompt; nodedir: node-gyp builds argon2
  # and kerberos (no prebuilt binaries can be fetched) against the local Node headers;
  # unsafe_perm: code-server's postinstall refuses to run as root without it.
  if ! (cd "$dest" && npm_config_yes=true npm_config_nodedir=/usr npm_config_unsafe_perm=true \
    npm ci --no-audit --no-fund >"$dest/npm.log" 2>&1); then
    tail -n 30 "$dest/npm.log" >&2
    if grep -qE 'ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET' "$dest/npm.log"; then
      cannot "npm could not reach the registry (see $dest/npm.log)" \
        "check the access to the npm registry"
    fi
    echo "realhost install: npm ci failed; the log is $dest/npm.log" >&2
    exit 1
  fi
  [ -x "$dest/node_modules/.bin/code-server" ] || {
    echo "realhost install: npm ci left no $dest/node_modules/.bin/code-server" >&2
    exit 1
  }
  touch "$stamp"
fi
echo "realhost install: done in $(($(date +%s) - started)) s"
