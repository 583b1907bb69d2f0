import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { InitializeResult } from "vscode-languageserver-protocol";
import { MAX_SEARCH_LIMIT, Methods, maxSearchLimit, quiverCapabilities } from "../../src/protocol";

/** The `initialize` answer of docs/protocol.md ("The `initialize` answer"). */
const ANSWER: InitializeResult = {
  capabilities: {
    experimental: {
      quiver: {
        version: 1,
        requests: ["quiver/search", "quiver/similar", "quiver/status", "quiver/reindex"],
        notifications: ["quiver/statusChanged"],
        maxSearchLimit: 200,
        searchModes: ["hybrid", "semantic", "text"],
      },
    },
  },
  serverInfo: { name: "quiver", version: "0.1.0" },
};

describe("the experimental.quiver capability", () => {
  it("is read from the initialize answer, and lists the methods this client declares", () => {
    const capabilities = quiverCapabilities(ANSWER);
    assert.equal(capabilities?.version, 1);
    assert.deepEqual(
      [...(capabilities?.requests ?? []), ...(capabilities?.notifications ?? [])].sort(),
      Object.values(Methods).sort(),
    );
  });

  it("gives the search limit the server advertises", () => {
    const larger: InitializeResult = {
      capabilities: { experimental: { quiver: { maxSearchLimit: 500 } } },
    };
    assert.equal(maxSearchLimit(ANSWER), 200);
    assert.equal(maxSearchLimit(larger), 500);
  });

  it("falls back to MAX_SEARCH_LIMIT before the server answered, or when it advertises none", () => {
    assert.equal(MAX_SEARCH_LIMIT, 200);
    assert.equal(maxSearchLimit(undefined), MAX_SEARCH_LIMIT);
    assert.equal(maxSearchLimit({ capabilities: {} }), MAX_SEARCH_LIMIT);
    assert.equal(maxSearchLimit({ capabilities: { experimental: { quiver: { maxSearchLimit: "x" } } } }), MAX_SEARCH_LIMIT);
    assert.equal(quiverCapabilities({ capabilities: { experimental: "nope" } }), undefined);
  });
});
