/**
 * End to end against the real `quiver serve --stdio`: initialize, indexing,
 * workspace/symbol, quiver/search, quiver/similar, an edit becoming
 * searchable, shutdown. Skipped, with the reason, while no server can be run.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializeRequest,
  InitializedNotification,
  ResponseError,
  ShutdownRequest,
  WorkspaceSymbolRequest,
  type InitializeResult,
  type SymbolInformation,
  type WorkspaceSymbol,
} from "vscode-languageserver-protocol/node";
import {
  ErrorCodes,
  SearchRequest,
  SimilarRequest,
  type InitializationOptions,
  type SearchResponse,
} from "../../src/protocol";
import {
  eventually,
  fileUri,
  makeWorkspace,
  quiverBinary,
  startServer,
  unavailableReason,
  waitUntilReady,
  type ServerSession,
} from "./quiverServer";

const binary = quiverBinary();
// A string skips the suite and is printed as the reason.
const skip = unavailableReason(binary);

/** Bounded waits: loading the model and embedding a dozen symbols takes seconds. */
const READY_TIMEOUT_MS = 120_000;
const EDIT_TIMEOUT_MS = 15_000;

function names(symbols: (SymbolInformation | WorkspaceSymbol)[] | null): string[] {
  return (symbols ?? []).map((symbol) => symbol.name);
}

describe("quiver serve --stdio through the vscode-languageclient protocol stack", { skip, timeout: 300_000 }, () => {
  let workspace: ReturnType<typeof makeWorkspace>;
  let session: ServerSession;
  let initializeResult: InitializeResult;

  before(async () => {
    workspace = makeWorkspace();
    session = startServer(binary, workspace.root, path.dirname(workspace.root));
    const initializationOptions: InitializationOptions = {
      cacheDir: workspace.cacheDir,
      search: { limit: 20 },
    };
    initializeResult = await session.connection.sendRequest(InitializeRequest.type, {
      processId: process.pid,
      clientInfo: { name: "quiver-vscode-integration-test" },
      rootUri: fileUri(workspace.root),
      workspaceFolders: [{ uri: fileUri(workspace.root), name: "workspace" }],
      initializationOptions,
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
    await session.connection.sendNotification(InitializedNotification.type, {});
    await waitUntilReady(session, READY_TIMEOUT_MS);
  });

  after(() => {
    if (session !== undefined) {
      session.connection.dispose();
      if (session.process.exitCode === null) {
        session.process.kill();
      }
    }
    workspace?.cleanup();
  });

  it("advertises workspace symbols and text sync in its capabilities", () => {
    const capabilities = initializeResult.capabilities;
    assert.ok(capabilities.workspaceSymbolProvider, "workspaceSymbolProvider");
    assert.ok(capabilities.textDocumentSync !== undefined, "textDocumentSync");
  });

  it("reported the first indexing through work-done progress", () => {
    const kinds = session.progress.map((event) => event.kind);
    assert.ok(kinds.includes("begin"), `progress events: ${JSON.stringify(session.progress)}`);
    assert.ok(kinds.includes("end"), `progress events: ${JSON.stringify(session.progress)}`);
  });

  it("finds a function by a fuzzy name through workspace/symbol", async () => {
    const exact = await session.connection.sendRequest(WorkspaceSymbolRequest.type, {
      query: "retry_with_backoff",
    });
    assert.equal(names(exact)[0], "retry_with_backoff");
    const symbol = exact?.[0];
    assert.ok(symbol !== undefined && "range" in symbol.location);
    assert.equal(symbol.location.uri, fileUri(path.join(workspace.root, "net", "http.py")));
    // Word starts of a snake_case name, as docs/protocol.md promises.
    const fuzzy = await session.connection.sendRequest(WorkspaceSymbolRequest.type, { query: "rwb" });
    assert.ok(names(fuzzy).includes("retry_with_backoff"), `rwb → ${names(fuzzy).join(", ")}`);
  });

  it("answers quiver/search for a description with the function that does it", async () => {
    const response: SearchResponse = await session.connection.sendRequest(SearchRequest, {
      query: "send an http request again after it fails",
      mode: "hybrid",
      limit: 5,
    });
    assert.equal(response.partial, false);
    const top = response.results[0];
    assert.ok(top !== undefined, "no results");
    assert.equal(top.name, "retry_with_backoff");
    assert.equal(top.kind, 12); // SymbolKind.Function
    assert.equal(top.location.uri, fileUri(path.join(workspace.root, "net", "http.py")));
    assert.equal(top.selectionRange.start.line, 5); // `def retry_with_backoff` is line 6 of the file.
    assert.equal(top.language, "python");
    assert.ok(top.retrievers.length > 0);
  });

  it("finds it in semantic-only mode too, with no word of its name in the query", async () => {
    const response = await session.connection.sendRequest(SearchRequest, {
      query: "split camelCase names into separate words",
      mode: "semantic",
      limit: 3,
    });
    assert.equal(response.results[0]?.name, "split_identifier");
    assert.deepEqual(response.results[0]?.retrievers, ["semantic"]);
  });

  it("rejects an empty query with InvalidParams and a Suggestion", async () => {
    await assert.rejects(
      session.connection.sendRequest(SearchRequest, { query: "" }),
      (error: unknown) =>
        error instanceof ResponseError &&
        error.code === ErrorCodes.invalidParams &&
        /\nSuggestion: /.test(error.message),
    );
  });

  it("answers quiver/similar without the symbol under the cursor", async () => {
    const response = await session.connection.sendRequest(SimilarRequest, {
      textDocument: { uri: fileUri(path.join(workspace.root, "text", "words.py")) },
      position: { line: 13, character: 10 }, // inside count_words
      limit: 5,
    });
    assert.ok(response.results.length > 0);
    assert.ok(!response.results.some((result) => result.name === "count_words"));
  });

  it("makes a function typed into an open buffer searchable", async () => {
    const file = path.join(workspace.root, "net", "http.py");
    const uri = fileUri(file);
    const original = fs.readFileSync(file, "utf8");
    await session.connection.sendNotification(DidOpenTextDocumentNotification.type, {
      textDocument: { uri, languageId: "python", version: 1, text: original },
    });
    const added =
      original +
      '\n\ndef checksum_of_payload(payload):\n    """Compute a CRC32 checksum of the request body."""\n' +
      "    import zlib\n\n    return zlib.crc32(payload)\n";
    await session.connection.sendNotification(DidChangeTextDocumentNotification.type, {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: added }],
    });
    const found = await eventually("the new function in workspace/symbol", EDIT_TIMEOUT_MS, async () => {
      const symbols = await session.connection.sendRequest(WorkspaceSymbolRequest.type, {
        query: "checksum_of_payload",
      });
      return names(symbols).includes("checksum_of_payload") ? symbols : undefined;
    });
    assert.ok(found);
    const search = await eventually("the new function in quiver/search", EDIT_TIMEOUT_MS, async () => {
      const response = await session.connection.sendRequest(SearchRequest, {
        query: "crc32 checksum of a request body",
        limit: 3,
      });
      return response.results[0]?.name === "checksum_of_payload" ? response : undefined;
    });
    assert.equal(search.results[0]?.location.uri, uri);
  });

  it("shuts down and exits cleanly", async () => {
    await session.connection.sendRequest(ShutdownRequest.type);
    await session.connection.sendNotification(ExitNotification.type);
    const code = await Promise.race([
      session.exited,
      new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 10_000)),
    ]);
    assert.equal(code, 0, `server stderr:\n${session.stderr()}`);
  });
});
