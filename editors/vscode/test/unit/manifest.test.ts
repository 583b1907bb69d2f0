// The package.json contributions are what users see in VS Code: check they
// match the contract (settings, commands, keybinding) and the code.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { Methods } from "../../src/protocol";
import { MIN_PYTHON_VERSION } from "../../src/serverCommand";

// Compiled tests run from out/test/unit; the package root is three levels up.
const root = path.resolve(__dirname, "..", "..", "..");
const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  main: string;
  version: string;
  contributes: {
    commands: { command: string; title: string; category: string }[];
    keybindings: { command: string; key: string }[];
    configuration: { properties: Record<string, { default: unknown; scope?: string }> };
  };
};

describe("package.json", () => {
  it("contributes the documented settings", () => {
    const settings = Object.keys(manifest.contributes.configuration.properties).sort();
    assert.deepEqual(settings, [
      "quiver.cacheDir",
      "quiver.exclude",
      "quiver.pythonPath",
      "quiver.search.limit",
      "quiver.serverPath",
      "quiver.trace.server",
    ]);
  });

  it("lets only the user, never a workspace, choose what is executed", () => {
    // A repository's .vscode/settings.json can set any setting whose scope allows
    // workspaces; a path that is executed must come from the user's own settings
    // (as the Python extension does for interpreter paths).
    const properties = manifest.contributes.configuration.properties;
    for (const setting of ["quiver.serverPath", "quiver.pythonPath"]) {
      assert.equal(properties[setting]?.scope, "machine", `${setting} must be machine-scoped`);
    }
  });

  it("contributes the user-facing commands with their titles", () => {
    const titles = manifest.contributes.commands.map((c) => `${c.category}: ${c.title}`);
    for (const title of [
      "Quiver: Semantic Search",
      "Quiver: Find Similar Code",
      "Quiver: Reindex Workspace",
      "Quiver: Show Output",
      "Quiver: Set Up Server",
    ]) {
      assert.ok(titles.includes(title), `missing command ${title}`);
    }
  });

  it("registers a handler for every contributed command, and no other", () => {
    const source = fs.readFileSync(path.join(root, "src", "extension.ts"), "utf8");
    const registered = [...source.matchAll(/register\("([^"]+)"/g)].map((m) => m[1]).sort();
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(registered, contributed);
  });

  it("binds a key to semantic search", () => {
    assert.ok(manifest.contributes.keybindings.some((k) => k.command === "quiver.search" && k.key));
  });

  it("points main at the esbuild bundle", () => {
    assert.equal(manifest.main, "./dist/extension.js");
  });

  it("has the server's version, so that `make dist` names the .vsix and the wheel alike", () => {
    const pyproject = fs.readFileSync(path.resolve(root, "..", "..", "pyproject.toml"), "utf8");
    assert.equal(manifest.version, /^version = "([^"]+)"$/m.exec(pyproject)?.[1]);
  });

  it("sets the server up with the Python the server requires", () => {
    const pyproject = fs.readFileSync(path.resolve(root, "..", "..", "pyproject.toml"), "utf8");
    assert.equal(`>=${MIN_PYTHON_VERSION}`, /^requires-python = "([^"]+)"$/m.exec(pyproject)?.[1]);
  });
});

describe(".vscodeignore", () => {
  it("ships the bundle and the server's wheel, and nothing else of the folder", () => {
    const lines = fs
      .readFileSync(path.join(root, ".vscodeignore"), "utf8")
      .split("\n")
      .filter((line) => line.trim() !== "" && !line.startsWith("#"));
    assert.equal(lines[0], "**", "everything is left out first");
    const kept = lines.filter((line) => line.startsWith("!"));
    assert.ok(kept.includes("!dist/extension.js"));
    assert.ok(kept.includes("!server/quiver_lsp-*-py3-none-any.whl"));
    assert.deepEqual(
      kept.filter((line) => /node_modules|test|realhost|src|out\//.test(line)),
      [],
    );
  });
});

describe("protocol.ts", () => {
  it("declares every quiver/ method that docs/protocol.md documents", () => {
    const doc = fs.readFileSync(path.resolve(root, "..", "..", "docs", "protocol.md"), "utf8");
    const documented = new Set([...doc.matchAll(/`(quiver\/[A-Za-z]+)`/g)].map((m) => m[1]));
    assert.ok(documented.size >= 5, "docs/protocol.md lists the quiver/ methods");
    assert.deepEqual([...documented].sort(), Object.values(Methods).sort());
  });
});
