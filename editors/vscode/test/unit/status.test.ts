import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import type { StatusResponse } from "../../src/protocol";
import {
  formatBytes,
  formatCount,
  initialStatus,
  statusBarText,
  statusDetails,
  statusTooltip,
  withPhase,
  withProgress,
  withStatus,
} from "../../src/status";

function status(overrides: Partial<StatusResponse> = {}): StatusResponse {
  return {
    state: "ready",
    message: "Indexed 2,000 files, 31,204 symbols",
    role: "writer",
    workspaceFolders: ["file:///repo"],
    files: 2000,
    filesIndexed: 2000,
    symbols: 31204,
    generation: 12,
    model: { id: "all-MiniLM-L6-v2-int8", dim: 384 },
    cacheDir: "/home/me/.cache/quiver",
    diskBytes: 5 * 1024 * 1024,
    lastUpdate: "2026-11-24T10:00:00Z",
    ...overrides,
  };
}

describe("status bar text", () => {
  it("spins while the server starts", () => {
    assert.equal(statusBarText(initialStatus()), "$(loading~spin) Quiver");
  });

  it("shows work-done progress while indexing, message first", () => {
    let model = withPhase(initialStatus(), "running");
    model = withProgress(model, "tok", { kind: "begin", title: "Indexing", percentage: 0 });
    assert.equal(statusBarText(model), "$(sync~spin) Quiver: Indexing 0%");
    model = withProgress(model, "tok", { kind: "report", message: "120/2,000 files", percentage: 6 });
    assert.equal(statusBarText(model), "$(sync~spin) Quiver: Indexing — 120/2,000 files");
    model = withProgress(model, "tok", { kind: "report", percentage: 50 });
    assert.equal(statusBarText(model), "$(sync~spin) Quiver: Indexing — 120/2,000 files");
  });

  it("reads the server's title and message as one phrase: `Indexing — checking files`", () => {
    // What the server sends when indexing starts (workspace/indexing.py).
    let model = withPhase(initialStatus(), "running");
    model = withProgress(model, "tok", { kind: "begin", title: "Indexing", message: "Checking files", percentage: 0 });
    assert.equal(statusBarText(model), "$(sync~spin) Quiver: Indexing — checking files");
    assert.match(statusTooltip(model), /^Quiver: Indexing — checking files\n/);
    model = withProgress(model, "up", { kind: "begin", title: "Updating the index", message: "GPU warming up" });
    assert.equal(statusBarText(model), "$(sync~spin) Quiver: Updating the index — GPU warming up");
  });

  it("shows the bare title when the progress has neither message nor percentage", () => {
    const model = withProgress(withPhase(initialStatus(), "running"), 1, { kind: "begin", title: "Rebuilding the index" });
    assert.equal(statusBarText(model), "$(sync~spin) Quiver: Rebuilding the index");
  });

  it("falls back to the status counts when the client got no progress", () => {
    const model = withStatus(initialStatus(), status({ state: "indexing", filesIndexed: 1200 }));
    assert.equal(statusBarText(model), "$(sync~spin) Quiver: 1,200/2,000 files");
  });

  it("shows ready once progress ended and the status says so", () => {
    let model = withPhase(initialStatus(), "running");
    model = withProgress(model, 1, { kind: "begin", title: "Indexing" });
    model = withStatus(model, status());
    model = withProgress(model, 1, { kind: "end" });
    assert.equal(statusBarText(model), "$(check) Quiver");
  });

  it("marks an index error and a dead server differently", () => {
    assert.equal(statusBarText(withStatus(initialStatus(), status({ state: "error" }))), "$(warning) Quiver");
    assert.equal(statusBarText(withPhase(initialStatus(), "failed", "not found")), "$(error) Quiver");
    assert.equal(statusBarText(withPhase(initialStatus(), "stopped")), "$(circle-slash) Quiver");
  });

  it("forgets progress when the server stops", () => {
    let model = withPhase(initialStatus(), "running");
    model = withProgress(model, "t", { kind: "begin", title: "Indexing" });
    model = withPhase(model, "stopped");
    assert.equal(model.progress.size, 0);
  });
});

describe("status details", () => {
  it("lists state, counts, role, model, cache and folders", () => {
    const lines = statusDetails(status());
    assert.deepEqual(lines, [
      "State: ready — Indexed 2,000 files, 31,204 symbols",
      "Files: 2,000 of 2,000 indexed",
      "Symbols: 31,204",
      "Index generation: 12",
      "Role: writer (updates the shared cache)",
      "Model: all-MiniLM-L6-v2-int8 (384 dimensions)",
      "Cache: /home/me/.cache/quiver (5.0 MiB)",
      "Last update: 2026-11-24T10:00:00Z",
      "Workspace folders: file:///repo",
    ]);
  });

  it("says never for an index that was not published yet", () => {
    assert.ok(statusDetails(status({ lastUpdate: null })).includes("Last update: never"));
  });

  it("explains a failed server in the tooltip", () => {
    const tooltip = statusTooltip(withPhase(initialStatus(), "failed", "quiver was not found"));
    assert.match(tooltip, /not running\. quiver was not found/);
    assert.match(tooltip, /Click for details\.$/);
  });
});

describe("number formatting", () => {
  it("groups thousands and scales bytes", () => {
    assert.equal(formatCount(31204), "31,204");
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(1536), "1.5 KiB");
    assert.equal(formatBytes(3 * 1024 ** 3), "3.0 GiB");
  });
});
