/**
 * A fake `python` for the tests of the server set-up (serverSetup.ts) in plain Node
 * (test/unit) and in the fake host (test/integration): a shell script that records its
 * arguments and makes the files `venv` and `pip` would, in a moment and offline. The
 * real venv and pip run in tests/editors/test_install.py.
 *
 *   -c ...                  prints $FAKE_PYTHON_VERSION (the set-up's version check)
 *   -m venv DIR             makes DIR/bin/python, a copy of itself
 *   -m pip install ... W    writes DIR/bin/quiver: a copy of $FAKE_SERVER when set, else
 *                           a script that prints `quiver 0.1.0`
 *
 * $FAKE_FAIL=venv or pip makes that step fail as the real one does; every call is
 * appended to $FAKE_LOG.
 */
import * as fs from "node:fs";
import * as path from "node:path";

const FAKE_PYTHON = String.raw`#!/bin/sh
echo "$0 $*" >> "$FAKE_LOG"
case "$1 $2" in
  "-c "*) echo "$FAKE_PYTHON_VERSION" ;;
  "-m venv")
    [ "$FAKE_FAIL" = venv ] && { echo "Error: ensurepip is not available" >&2; exit 1; }
    eval dir=\${$#}
    mkdir -p "$dir/bin" && cp "$0" "$dir/bin/python" ;;
  "-m pip")
    echo "Collecting numpy"
    [ "$FAKE_FAIL" = pip ] && { echo "ERROR: No matching distribution found for numba" >&2; exit 1; }
    bin=$(dirname "$0")
    if [ -n "$FAKE_SERVER" ]; then
      cp "$FAKE_SERVER" "$bin/quiver"
    else
      printf '#!/bin/sh\necho "quiver 0.1.0"\n' > "$bin/quiver"
    fi
    chmod +x "$bin/quiver"
    echo "Successfully installed quiver-lsp-0.1.0" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
`;

/** Writes the fake as the executable `file` (its folder created). */
export function writeFakePython(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, FAKE_PYTHON, { mode: 0o755 });
}

/** The calls the fake received so far (`<argv0> <args>`), one a line in `log`. */
export function fakePythonCalls(log: string): string[] {
  return fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter((line) => line !== "") : [];
}
