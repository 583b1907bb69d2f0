import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import {
  displayPath,
  kindIcon,
  kindName,
  nextMode,
  oneLine,
  resultRow,
  searchTitle,
  splitSuggestion,
} from "../../src/format";
import { SEARCH_MODES, type SearchResponse, type SearchResult } from "../../src/protocol";

const repo = { name: "repo", uri: pathToFileURL("/home/me/repo").toString() };
const other = { name: "other", uri: pathToFileURL("/home/me/other").toString() };

function result(overrides: Partial<SearchResult> = {}): SearchResult {
  return {
    name: "retry_with_backoff",
    kind: 12,
    containerName: "net.http",
    location: {
      uri: pathToFileURL("/home/me/repo/net/http.py").toString(),
      range: { start: { line: 40, character: 0 }, end: { line: 58, character: 0 } },
    },
    selectionRange: { start: { line: 40, character: 4 }, end: { line: 40, character: 22 } },
    language: "python",
    signature: "def retry_with_backoff(request, attempts=3):",
    snippet: "for attempt in range(attempts):\n    try:\n        return send(request)",
    score: 0.03,
    retrievers: ["semantic", "text"],
    ...overrides,
  };
}

describe("kindIcon", () => {
  it("maps LSP SymbolKind numbers to their codicons", () => {
    assert.equal(kindIcon(12), "symbol-function");
    assert.equal(kindIcon(5), "symbol-class");
    assert.equal(kindIcon(6), "symbol-method");
    assert.equal(kindIcon(26), "symbol-type-parameter");
  });

  it("gives unknown kinds a generic icon instead of failing", () => {
    assert.equal(kindIcon(0), "symbol-misc");
    assert.equal(kindIcon(99), "symbol-misc");
    assert.equal(kindName(99), "symbol");
    assert.equal(kindName(22), "enum member");
  });
});

describe("displayPath", () => {
  it("shows a path relative to the single workspace folder", () => {
    const uri = pathToFileURL("/home/me/repo/net/http.py").toString();
    assert.equal(displayPath(uri, [repo]), "net/http.py");
  });

  it("prefixes the folder name when the workspace has several folders", () => {
    const uri = pathToFileURL("/home/me/other/lib/a.rs").toString();
    assert.equal(displayPath(uri, [repo, other]), "other/lib/a.rs");
  });

  it("prefers the innermost of nested workspace folders", () => {
    const inner = { name: "net", uri: pathToFileURL("/home/me/repo/net").toString() };
    const uri = pathToFileURL("/home/me/repo/net/http.py").toString();
    assert.equal(displayPath(uri, [repo, inner]), "net/http.py");
  });

  it("keeps the absolute path of a file outside every folder", () => {
    const uri = pathToFileURL("/tmp/elsewhere.py").toString();
    assert.equal(displayPath(uri, [repo]), "/tmp/elsewhere.py");
  });

  it("does not treat a sibling folder with a common prefix as containing the file", () => {
    const uri = pathToFileURL("/home/me/repository/x.py").toString();
    assert.equal(displayPath(uri, [repo]), "/home/me/repository/x.py");
  });

  it("decodes percent-escapes in file URIs", () => {
    const uri = pathToFileURL("/home/me/repo/my dir/ä.py").toString();
    assert.equal(displayPath(uri, [repo]), "my dir/ä.py");
  });
});

describe("oneLine", () => {
  it("joins non-empty trimmed lines with a visible separator", () => {
    assert.equal(oneLine("a = 1\n\n    b = 2\r\n"), "a = 1 ⏎ b = 2");
  });

  it("cuts long text with an ellipsis within the limit", () => {
    const text = oneLine("x".repeat(300), 50);
    assert.equal(text.length, 50);
    assert.ok(text.endsWith("…"));
  });
});

describe("resultRow", () => {
  it("shows icon and name, file:line (1-based) with the container, and the snippet", () => {
    const row = resultRow(result(), [repo]);
    assert.equal(row.label, "$(symbol-function) retry_with_backoff");
    assert.equal(row.description, "net/http.py:41 · net.http");
    assert.equal(row.detail, "for attempt in range(attempts): ⏎ try: ⏎ return send(request)");
  });

  it("falls back to the signature when the snippet is empty and omits an empty container", () => {
    const row = resultRow(result({ snippet: "  ", containerName: "" }), [repo]);
    assert.equal(row.description, "net/http.py:41");
    assert.equal(row.detail, "def retry_with_backoff(request, attempts=3):");
  });
});

describe("search modes", () => {
  it("cycles hybrid → semantic → text → hybrid", () => {
    assert.equal(nextMode("hybrid", SEARCH_MODES), "semantic");
    assert.equal(nextMode("semantic", SEARCH_MODES), "text");
    assert.equal(nextMode("text", SEARCH_MODES), "hybrid");
  });

  it("titles the picker with the mode, the count and a partial-index warning", () => {
    const response: SearchResponse = { results: [result()], partial: true, generation: 3, elapsedMs: 6.4 };
    assert.equal(searchTitle("text", undefined), "Quiver: Semantic Search (text)");
    assert.equal(
      searchTitle("hybrid", response),
      "Quiver: Semantic Search (hybrid) · 1 result in 6 ms · still indexing, results may be incomplete",
    );
    assert.match(searchTitle("hybrid", { ...response, partial: false, results: [] }), /0 results in 6 ms$/);
  });
});

describe("splitSuggestion", () => {
  it("separates the problem from the Suggestion line", () => {
    assert.deepEqual(
      splitSuggestion("The query is empty.\nSuggestion: type a few words or a symbol name."),
      { problem: "The query is empty.", suggestion: "type a few words or a symbol name." },
    );
  });

  it("returns the whole message when there is no suggestion", () => {
    assert.deepEqual(splitSuggestion("boom"), { problem: "boom" });
  });
});
