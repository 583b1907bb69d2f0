/**
 * The checks of an installed .vsix (`driver.js --vsix FILE --scenario NAME`), run by
 * the driver itself, as a user would: no extension under development and no test code
 * in VS Code, only the extension `code-server --install-extension` put in place, the
 * command palette, the notifications and the status bar. tests/editors/test_install.py
 * runs both scenarios after `make dist`:
 *
 *   path    `quiver` on PATH (a fresh venv with the wheel installed): the extension
 *           starts it, and Quiver: Semantic Search from the command palette lists a result;
 *   set-up  no server anywhere, python3 on PATH: the extension offers its set-up with
 *           the exact command to run instead; clicking Set Up Quiver's Server makes a
 *           venv in its global storage from the wheel the .vsix ships (pip, dependencies
 *           from the package index), starts its server, and the search works.
 *
 * Node only (the driver's side): no `vscode` import.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import type { CheckResult, UiAction, UiActions } from "./protocol";

/** What a scenario's check may use: the browser's actions and the folders of the run. */
export interface ScenarioContext {
  act<A extends UiAction>(action: A, args: UiActions[A]["args"], timeoutMs?: number): Promise<UiActions[A]["result"]>;
  /** VS Code's user data (settings, global storage). */
  userData: string;
  /** Where `--install-extension` put the extension. */
  extensions: string;
  /** The workspace folder VS Code opened. */
  workspace: string;
  /** Where this run's screenshots go. */
  screenshots: string;
  log(line: string): void;
}

interface ScenarioCheck {
  name: string;
  timeoutMs: number;
  run(context: ScenarioContext): Promise<void>;
}

const EXTENSION_ID = "quiver.quiver";
const READY = "$(check) Quiver";
const FAILED = "$(error) Quiver";
const UI_MS = 15_000;
/** The model loads and 4 files are indexed on a loaded 2-core machine well within this. */
const READY_MS = 120_000;
/** pip installs numpy, numba, onnxruntime, tantivy... (from a warm cache: about a minute on 2 cores). */
const SET_UP_MS = 420_000;
const SET_UP_BUTTON = "Set Up Quiver's Server";

/** The installed extension's folder (`quiver.quiver-<version>`): exactly one. */
function installedExtension(context: ScenarioContext): string {
  const folders = fs.readdirSync(context.extensions).filter((name) => name.startsWith(`${EXTENSION_ID}-`));
  assert.equal(folders.length, 1, `installed extensions: ${JSON.stringify(fs.readdirSync(context.extensions))}`);
  return path.join(context.extensions, folders[0] ?? "");
}

/** The extension's own environment: `<user data>/User/globalStorage/quiver.quiver/venv`. */
function ownEnvironment(context: ScenarioContext): string {
  return path.join(context.userData, "User", "globalStorage", EXTENSION_ID, "venv");
}

const installedFromVsix: ScenarioCheck = {
  name: "the .vsix is installed: the extension's folder has the bundle and the server's wheel",
  timeoutMs: 5_000,
  run(context) {
    const folder = installedExtension(context);
    assert.ok(fs.existsSync(path.join(folder, "dist", "extension.js")), folder);
    const wheels = fs.readdirSync(path.join(folder, "server"));
    assert.equal(wheels.length, 1, JSON.stringify(wheels));
    assert.match(wheels[0] ?? "", /^quiver_lsp-\d+\.\d+\.\d+-py3-none-any\.whl$/);
    assert.ok(!fs.existsSync(path.join(folder, "node_modules")), "no node_modules in the .vsix");
    return Promise.resolve();
  },
};

/** F1, "Quiver: Semantic Search", Enter; a sentence; the first result. */
async function searchFromCommandPalette(context: ScenarioContext): Promise<void> {
  await context.act("press", { key: "F1" });
  await context.act("quickInput", {}, UI_MS);
  await context.act("fill", { text: ">Quiver: Semantic Search" });
  await context.act("quickInput", { row: "Quiver: Semantic Search" }, UI_MS);
  await context.act("press", { key: "Enter" });
  await context.act("quickInput", { title: "Quiver: Semantic Search (hybrid)" }, UI_MS);
  await context.act("fill", { text: "retry a failed http request with exponential backoff" });
  const view = await context.act("quickInput", { row: "send_with_retries", title: "results in" }, UI_MS);
  assert.match(view.title, /^Quiver: Semantic Search \(hybrid\) · \d+ results? in \d+ ms$/);
  assert.equal(view.rows[0]?.label, "send_with_retries", JSON.stringify(view.rows));
  assert.equal(view.rows[0]?.description, "net/http_client.py:18 · http_client");
  await context.act("press", { key: "Escape" });
  await context.act("quickInputClosed", {});
}

const searchWorks: ScenarioCheck = {
  name: "Quiver: Semantic Search from the command palette lists a result",
  timeoutMs: 60_000,
  run: searchFromCommandPalette,
};

export const SCENARIOS: Record<string, ScenarioCheck[]> = {
  path: [
    installedFromVsix,
    {
      name: "with `quiver` on PATH the installed extension starts it: the status bar reaches ready",
      timeoutMs: READY_MS + 10_000,
      async run(context) {
        const status = await context.act("statusBar", { text: READY }, READY_MS);
        assert.ok(!status.history.includes(FAILED), JSON.stringify(status.history));
        assert.ok(!fs.existsSync(ownEnvironment(context)), "no set-up was needed");
      },
    },
    searchWorks,
  ],
  "set-up": [
    installedFromVsix,
    {
      name: "with no server anywhere, a notification offers the set-up and names the exact command to run instead",
      timeoutMs: 60_000,
      async run(context) {
        const offer = await context.act("notification", { containing: "was not found" }, 45_000);
        const wheel = fs.readdirSync(path.join(installedExtension(context), "server"))[0] ?? "";
        assert.ok(
          offer.message.startsWith(
            "Quiver: the language server was not found (tried the extension's own environment and `quiver` on PATH).",
          ),
          offer.message,
        );
        assert.ok(
          offer.message.includes(`\`pipx install ${path.join(installedExtension(context), "server", wheel)}\``),
          offer.message,
        );
        assert.deepEqual(offer.buttons, [SET_UP_BUTTON, "Show Output", "Retry"]);
        await context.act("statusBar", { text: FAILED }, UI_MS);
        await context.act("screenshot", { name: "vscode-set-up-offer", area: "notification" });
      },
    },
    {
      name: "Set Up Quiver's Server: a progress notification, then the server from the extension's own environment reaches ready",
      timeoutMs: SET_UP_MS + READY_MS,
      async run(context) {
        const started = Date.now();
        await context.act("clickNotificationButton", { containing: "was not found", button: SET_UP_BUTTON }, UI_MS);
        const progress = await context.act("notification", { containing: "setting up the server" }, UI_MS);
        context.log(`# progress: ${progress.message}`);
        await context.act("screenshot", { name: "vscode-set-up-progress", area: "notification" });
        await context.act("statusBar", { text: READY }, SET_UP_MS + READY_MS - 30_000);
        context.log(`# set up and ready after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        const quiver = path.join(ownEnvironment(context), "bin", "quiver");
        assert.ok(fs.existsSync(quiver), `${quiver} was not made`);
      },
    },
    searchWorks,
  ],
};

/**
 * Runs the scenario's checks in order, stopping at the first failure (with a
 * screenshot of the window); prints TAP lines and writes `results`. Answers the
 * exit code: 0 when every check passed.
 */
export async function runScenario(name: string, context: ScenarioContext, results: string): Promise<number> {
  const checks = SCENARIOS[name];
  if (checks === undefined) {
    throw new Error(`no scenario ${name}; there are: ${Object.keys(SCENARIOS).join(", ")}`);
  }
  const recorded: CheckResult[] = [];
  const save = (): void => fs.writeFileSync(results, JSON.stringify(recorded, null, 2));
  for (const [index, check] of checks.entries()) {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check.run(context),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`took longer than ${check.timeoutMs} ms`)), check.timeoutMs);
        }),
      ]);
      recorded.push({ name: check.name, ok: true, ms: Date.now() - started });
      context.log(`ok ${index + 1} - ${check.name} (${Date.now() - started} ms)`);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      recorded.push({ name: check.name, ok: false, ms: Date.now() - started, error: message });
      context.log(`not ok ${index + 1} - ${check.name}`);
      context.log(`# ${message.split("\n").join("\n# ")}`);
      save();
      await context.act("screenshot", { name: `failure-${index + 1}`, area: "window" }, 10_000).catch(() => undefined);
      context.log(`# stopped after the first failure; ${checks.length - index - 1} checks not run`);
      context.log(`1..${checks.length}`);
      return 1;
    } finally {
      clearTimeout(timer);
    }
    save();
  }
  context.log(`1..${checks.length}`);
  return 0;
}
