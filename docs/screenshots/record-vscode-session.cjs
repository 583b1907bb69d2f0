#!/usr/bin/env node
/**
 * Records docs/screenshots/vscode-session.txt: what the VS Code extension's protocol
 * stack exchanges with the real `quiver serve --stdio`, since VS Code itself cannot be
 * downloaded here.
 *
 *   (cd editors/vscode && npm ci && npm run compile)
 *   node docs/screenshots/record-vscode-session.cjs [OUTPUT] > /dev/null
 *
 * It reuses the compiled extension code: the integration test's server harness
 * (editors/vscode/out/test/integration/quiverServer.js: vscode-languageserver-protocol,
 * the JSON-RPC stack vscode-languageclient runs on), the `initializationOptions` the
 * extension builds from its default settings (out/src/settings.js) and the QuickPick
 * formatting (out/src/format.js). The messages are logged by vscode-jsonrpc's own
 * tracer at `verbose`, the format VS Code's "Quiver" output channel shows with
 * `"quiver.trace.server": "verbose"`. The server is the committed one (`git archive
 * HEAD server`, run by .venv/bin/python), or QUIVER_BIN when set.
 */
"use strict";

const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const repo = path.resolve(__dirname, "..", "..");
const extension = path.join(repo, "editors", "vscode");
const out = path.join(extension, "out");
const lsp = require(require.resolve("vscode-languageserver-protocol/node", { paths: [extension] }));
const harness = require(path.join(out, "test", "integration", "quiverServer.js"));
const { initializationOptions } = require(path.join(out, "src", "settings.js"));
const { SearchRequest, StatusRequest } = require(path.join(out, "src", "protocol.js"));
const { resultRow, searchTitle, kindName } = require(path.join(out, "src", "format.js"));

const NAME_QUERY = "rwb";
const SENTENCE = "send an http request again after it fails";

/** Waits (bounded) until `condition()` holds, without sending anything. */
async function until(what, timeoutMs, condition) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The committed server: `git archive HEAD server` run by the checkout's venv Python. The
 * export is kept per commit in the temp folder, and warmed up once with `quiver search`,
 * so that numba's kernel cache is as warm as in a checkout that has run before.
 */
function committedServer() {
  const commit = execFileSync("git", ["-C", repo, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  const home = path.join(os.tmpdir(), `quiver-record-server-${commit}`);
  const wrapper = path.join(home, "quiver");
  if (!fs.existsSync(wrapper)) {
    const source = path.join(home, "src");
    fs.mkdirSync(source, { recursive: true });
    execFileSync("sh", ["-c", `git -C "${repo}" archive HEAD server | tar -x -C "${source}"`]);
    const python = path.join(repo, ".venv", "bin", "python");
    fs.writeFileSync(wrapper, `#!/bin/sh\nPYTHONPATH=${source}/server exec ${python} -m quiver "$@"\n`, {
      mode: 0o755,
    });
    const fixture = path.join(repo, "tests", "editors", "fixtures", "workspace");
    const cache = path.join(home, "warm-up-cache");
    execFileSync(wrapper, ["search", fixture, "warm up", "--cache-dir", cache], { stdio: "ignore" });
    fs.rmSync(cache, { recursive: true, force: true });
  }
  return {
    binary: wrapper,
    described: `the server of commit ${commit} (\`git archive HEAD server\`, run as .venv/bin/python -m quiver serve --stdio)`,
  };
}

async function main() {
  const output = process.argv[2] ?? path.join(repo, "docs", "screenshots", "vscode-session.txt");
  const fromEnv = process.env.QUIVER_BIN?.trim();
  const { binary, described } = fromEnv
    ? { binary: fromEnv, described: `\`${fromEnv} serve --stdio\`` }
    : committedServer();
  const workspace = harness.makeWorkspace();
  const transcript = [];
  const note = (text) => transcript.push(`\n### ${text}\n`);
  const session = harness.startServer(binary, workspace.root, path.dirname(workspace.root));
  const connection = session.connection;
  await connection.trace(
    lsp.Trace.Verbose,
    {
      log: (message, data) => {
        const clock = new Date().toISOString().slice(11, 23);
        transcript.push(`[Trace - ${clock}] ${message}${data ? `\n${data}` : ""}`);
      },
    },
    { sendNotification: false, traceFormat: lsp.TraceFormat.Text },
  );
  try {
    const uri = harness.fileUri(workspace.root);
    const folders = [{ name: "workspace", uri }];
    note(
      "initialize: capabilities are the integration test's subset of what vscode-languageclient " +
        "sends; initializationOptions are what src/settings.ts builds from the default settings " +
        "(search.limit 50) with quiver.cacheDir set to a temporary folder",
    );
    const initialized = await connection.sendRequest(lsp.InitializeRequest.type, {
      processId: process.pid,
      clientInfo: { name: "record-vscode-session.cjs" },
      rootUri: uri,
      workspaceFolders: folders,
      initializationOptions: initializationOptions({
        cacheDir: workspace.cacheDir,
        exclude: [],
        searchLimit: 50,
      }),
      capabilities: {
        window: { workDoneProgress: true },
        workspace: {
          symbol: { dynamicRegistration: false },
          workspaceFolders: true,
          configuration: true,
          didChangeWatchedFiles: { dynamicRegistration: true },
        },
        textDocument: {
          synchronization: { didSave: true, dynamicRegistration: false },
          documentSymbol: { hierarchicalDocumentSymbolSupport: true },
        },
      },
    });
    await connection.sendNotification(lsp.InitializedNotification.type, {});
    note("the first indexing: progress and quiver/statusChanged (the status bar item polls nothing)");
    await until("quiver/statusChanged with state ready", 120_000, () =>
      session.statusChanges.some((status) => status.state === "ready"),
    );

    note('"Quiver: Show Index Status": quiver/status');
    await connection.sendRequest(StatusRequest, {});

    note(`Ctrl+T: workspace/symbol for a name typed as its word starts ("${NAME_QUERY}")`);
    const symbols = await connection.sendRequest(lsp.WorkspaceSymbolRequest.type, {
      query: NAME_QUERY,
    });

    note(`"Quiver: Semantic Search" (QuickPick, mode hybrid): quiver/search for "${SENTENCE}"`);
    const response = await connection.sendRequest(SearchRequest, {
      query: SENTENCE,
      mode: "hybrid",
      limit: 50,
    });

    note("shutdown and exit");
    await connection.sendRequest(lsp.ShutdownRequest.type);
    await connection.sendNotification(lsp.ExitNotification.type);
    await session.exited;

    const picker = [
      `Title: ${searchTitle("hybrid", response)}`,
      ...response.results.flatMap((result, index) => {
        const row = resultRow(result, folders);
        return [
          `${String(index + 1).padStart(2)}. ${row.label}    ${row.description}`,
          `    ${row.detail}`,
        ];
      }),
    ];
    const ctrlT = (symbols ?? []).map((symbol) => {
      const line = symbol.location.range ? symbol.location.range.start.line + 1 : "?";
      const where = `${symbol.location.uri.slice(uri.length + 1)}:${line}`;
      return `  ${symbol.name}  ${symbol.containerName ?? ""}  (${kindName(symbol.kind)}, ${where})`;
    });
    const version = require(path.join(extension, "node_modules", "vscode-languageclient", "package.json")).version;
    const server = initialized.serverInfo ?? {};
    const header = [
      "# VS Code side of Quiver, recorded without VS Code (it cannot be downloaded here).",
      "#",
      `# Produced by \`node docs/screenshots/record-vscode-session.cjs\` on ${new Date().toISOString().slice(0, 10)}`,
      "# (after `npm ci && npm run compile` in editors/vscode). It drives the real server —",
      `# ${described};`,
      `# serverInfo: ${server.name ?? "?"} ${server.version ?? "?"} — on a copy of tests/editors/fixtures/workspace`,
      "# through the extension's integration-test harness (editors/vscode/test/integration/",
      "# quiverServer.ts: vscode-languageserver-protocol, the JSON-RPC stack of",
      `# vscode-languageclient ${version}), sends the initializationOptions src/settings.ts builds`,
      "# from the default settings, and formats the answers with src/format.ts as the QuickPick",
      "# and the Ctrl+T list show them. The message log is vscode-jsonrpc's own tracer at",
      '# "verbose" (what the Quiver output channel shows with "quiver.trace.server": "verbose");',
      '# "###" lines are the recorder\'s notes. The VS Code UI itself (QuickPick widget, status',
      "# bar) is not exercised: the rows below are what src/search.ts hands to it.",
      "# Paths are in a temporary folder. `npm run test:integration` in editors/vscode makes",
      "# the same exchanges as assertions.",
      "",
      `## The QuickPick for "${SENTENCE}" (src/format.ts: resultRow, searchTitle)`,
      "",
      ...picker,
      "",
      `## Ctrl+T "${NAME_QUERY}" (workspace/symbol; VS Code lists name, container, file)`,
      "",
      ...ctrlT,
      "",
      "## The messages",
    ];
    fs.writeFileSync(output, `${[...header, ...transcript].join("\n")}\n`);
    process.stderr.write(`wrote ${output}\n`);
  } finally {
    connection.dispose();
    if (session.process.exitCode === null) {
      session.process.kill();
    }
    workspace.cleanup();
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
