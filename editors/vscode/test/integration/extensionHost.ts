/**
 * Loads the extension's bundle (dist/extension.js, the file the .vsix ships)
 * in plain Node with `require("vscode")` answered by ./fakeVscode — a fake of
 * VS Code's API, not VS Code — so that activate() and the vscode-languageclient
 * inside the bundle run for real.
 */
import * as fs from "node:fs";
import Module from "node:module";
import * as path from "node:path";
import type { FakeOptions, FakeVscode } from "./fakeVscode";

/** editors/vscode (compiled tests run from out/test/integration). */
export const PACKAGE_ROOT = path.resolve(__dirname, "..", "..", "..");
export const BUNDLE = path.join(PACKAGE_ROOT, "dist", "extension.js");

export type Manifest = FakeOptions["manifest"] & {
  main: string;
  contributes: { commands: { command: string }[] };
};

export function readManifest(): Manifest {
  return JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as Manifest;
}

export interface ExtensionModule {
  activate(context: ReturnType<FakeVscode["extensionContext"]>): void;
  deactivate(): Promise<void>;
}

interface ModuleLoader {
  _load: (this: unknown, request: string, parent: unknown, isMain: boolean) => unknown;
}

let installed: FakeVscode | undefined;

/**
 * Answers `require("vscode")` with `fake.api` for the rest of this process
 * (the bundle requires it lazily), then loads the bundle. One fake per
 * process: node --test runs each test file in its own.
 */
export async function loadExtension(fake: FakeVscode): Promise<ExtensionModule> {
  if (installed !== undefined) {
    throw new Error("the fake vscode module is already installed in this process");
  }
  if (!fs.existsSync(BUNDLE)) {
    throw new Error(`no bundle at ${BUNDLE}: run \`npm run bundle\` (npm run test:integration does)`);
  }
  installed = fake;
  const loader = Module as unknown as ModuleLoader;
  const original = loader._load;
  loader._load = function (request: string, parent: unknown, isMain: boolean): unknown {
    if (request === "vscode") {
      return fake.api;
    }
    return original.call(this, request, parent, isMain);
  };
  return (await import(BUNDLE)) as ExtensionModule;
}
