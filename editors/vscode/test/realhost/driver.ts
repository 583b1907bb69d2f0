/**
 * Runs ./suite inside a real VS Code and answers its UI requests: starts code-server
 * (VS Code 1.100.3's server with the real Node extension host, installed by
 * ./install.sh) on 127.0.0.1, opens its workbench in Debian's headless Chromium through
 * playwright-core, with this extension under development, the real `quiver serve
 * --stdio` (quiver.serverPath in the user settings) and a copy of tests/data/polyglot as
 * the workspace. Exits with the suite's exit code (0: every check passed), after
 * killing code-server's whole process group (extension host and language server
 * included) and the browser.
 *
 *   npm run compile && npm run bundle
 *   node out/test/realhost/driver.js --quiver PATH --work DIR [--screenshots DIR]
 *
 * With --vsix FILE --scenario path|set-up it runs an installed .vsix instead
 * (`code-server --install-extension FILE`; no extension under development, no suite
 * inside VS Code): the driver itself runs the scenario's checks through the UI
 * (./installed.ts), with the server the extension finds on its own (--quiver is then
 * not needed and, when given, is still the user's quiver.serverPath).
 *
 * --work is an empty scratch folder (HOME, VS Code's user data, the workspace, logs);
 * screenshots go to --screenshots (default WORK/screenshots). Every wait has a limit
 * and the whole run stops after --timeout-s (default 240). Nothing is meant to leave
 * 127.0.0.1 (no extension gallery, update check or telemetry; Chromium's background
 * networking off), and tests/editors/test_vscode_real.py also runs this in a network
 * namespace with only loopback where the machine allows it. ./README.md has the pitfalls.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { chromium, type Browser, type Page } from "playwright-core";
import { runScenario } from "./installed";
import { quickInputClosed, readNotification, readQuickInput, readStatusBar, recordStatusBar, screenshotClip } from "./page";
import { CONFIG_ENV, REQUEST_PREFIX, type HostConfig, type UiActions, type UiAnswer, type UiRequest } from "./protocol";

// Compiled to out/test/realhost: the extension's root is three levels up.
const EXTENSION = path.resolve(__dirname, "..", "..", "..");
const REPO = path.resolve(EXTENSION, "..", "..");
const WORKSPACE_SOURCE = path.join(REPO, "tests", "data", "polyglot");
const SUITE = path.join(__dirname, "suite", "index.js");
const VIEWPORT = { width: 1280, height: 800 };
/** The status bar item's DOM id: `<publisher>.<name>.<item id>`. */
const STATUS_ITEM = "quiver.quiver.quiver.status";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
/** What VS Code must not do on its own here: fetch, update, recommend, welcome. */
const USER_SETTINGS = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "git.enabled": false,
  "security.workspace.trust.enabled": false,
  "window.commandCenter": false,
};

interface Options {
  /** The user's quiver.serverPath; undefined: none (a scenario of an installed .vsix). */
  quiver: string | undefined;
  /** A .vsix to install and run instead of the extension under development. */
  vsix: string | undefined;
  /** "suite" (./suite inside VS Code) or a scenario of ./installed.ts (needs --vsix). */
  scenario: string;
  work: string;
  screenshots: string;
  codeServer: string;
  chromium: string;
  timeoutMs: number;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      quiver: { type: "string" },
      vsix: { type: "string" },
      scenario: { type: "string" },
      work: { type: "string" },
      screenshots: { type: "string" },
      "code-server": { type: "string" },
      chromium: { type: "string" },
      "timeout-s": { type: "string" },
    },
  });
  const scenario = values.scenario ?? "suite";
  const usage =
    "usage: driver.js --quiver PATH --work DIR [--screenshots DIR] [--timeout-s N]\n" +
    "       driver.js --vsix FILE --scenario NAME --work DIR [--quiver PATH] [--screenshots DIR] [--timeout-s N]";
  if (values.work === undefined || (scenario === "suite" ? values.quiver === undefined : values.vsix === undefined)) {
    throw new Error(usage);
  }
  const work = path.resolve(values.work);
  return {
    quiver: values.quiver === undefined ? undefined : path.resolve(values.quiver),
    vsix: values.vsix === undefined ? undefined : path.resolve(values.vsix),
    scenario,
    work,
    screenshots: path.resolve(values.screenshots ?? path.join(work, "screenshots")),
    codeServer:
      values["code-server"] ?? path.join(EXTENSION, ".realhost", "node_modules", ".bin", "code-server"),
    chromium: values.chromium ?? "/usr/bin/chromium",
    timeoutMs: Number(values["timeout-s"] ?? 240) * 1000,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Whether any process is left in process group `pgid`. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the group, SIGKILL after 3 s; resolves once the group is gone (10 s at most). */
async function killGroup(pgid: number): Promise<void> {
  for (const [signal, waitMs] of [["SIGTERM", 3000], ["SIGKILL", 7000]] as const) {
    try {
      process.kill(-pgid, signal);
    } catch {
      return;
    }
    const until = Date.now() + waitMs;
    while (Date.now() < until) {
      if (!groupAlive(pgid)) {
        return;
      }
      await sleep(50);
    }
  }
}

/** The scratch folder: HOME, user data with the settings, the workspace copy. */
function prepare(options: Options): { env: NodeJS.ProcessEnv; config: HostConfig; userData: string; extensions: string } {
  const dirs = {
    home: path.join(options.work, "home"),
    userData: path.join(options.work, "user-data"),
    extensions: path.join(options.work, "extensions"),
    workspace: path.join(options.work, "workspace"),
    channel: path.join(options.work, "channel"),
    scratch: path.join(options.work, "scratch"),
    tmp: path.join(options.work, "tmp"),
  };
  for (const dir of Object.values(dirs)) {
    fs.mkdirSync(dir, { recursive: true });
  }
  fs.mkdirSync(options.screenshots, { recursive: true });
  fs.cpSync(WORKSPACE_SOURCE, dirs.workspace, { recursive: true });
  fs.mkdirSync(path.join(dirs.userData, "User"), { recursive: true });
  const serverPath = options.quiver === undefined ? {} : { "quiver.serverPath": options.quiver };
  fs.writeFileSync(
    path.join(dirs.userData, "User", "settings.json"),
    JSON.stringify({ ...USER_SETTINGS, ...serverPath }, null, 2),
  );
  const config: HostConfig = {
    workspace: dirs.workspace,
    channel: dirs.channel,
    quiver: options.quiver ?? "",
    scratch: dirs.scratch,
  };
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: path.join(dirs.home, ".config"),
    XDG_DATA_HOME: path.join(dirs.home, ".local", "share"),
    XDG_CACHE_HOME: path.join(dirs.home, ".cache"),
    TMPDIR: dirs.tmp,
    // Without it code-server replaces PATH with a login shell's.
    VSCODE_CLI: "1",
    // No extension gallery: else the workbench queries open-vsx.org at start-up.
    EXTENSIONS_GALLERY: "{}",
    [CONFIG_ENV]: JSON.stringify(config),
  };
  // The server's default cache ($XDG_CACHE_HOME/quiver, inside the scratch folder).
  delete env.QUIVER_CACHE_DIR;
  return { env, config, userData: dirs.userData, extensions: dirs.extensions };
}

/** Answers the suite's requests one at a time, in the order they came. */
class UiServer {
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly page: Page,
    private readonly channel: string,
    private readonly screenshots: string,
    private readonly work: string,
  ) {}

  enqueue(request: UiRequest): void {
    this.queue = this.queue.then(async () => {
      let answer: UiAnswer;
      try {
        answer = { ok: true, value: await this.handle(request) };
      } catch (error) {
        answer = { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
      const file = path.join(this.channel, `${request.id}.json`);
      fs.writeFileSync(`${file}.tmp`, JSON.stringify(answer));
      fs.renameSync(`${file}.tmp`, file);
    });
  }

  /** Does `action` for the driver's own checks (./installed.ts); throws its error. */
  perform<A extends keyof UiActions>(
    action: A,
    args: UiActions[A]["args"],
    timeoutMs = 15_000,
  ): Promise<UiActions[A]["result"]> {
    return this.handle({ id: 0, action, args, timeoutMs });
  }

  private async handle(request: UiRequest): Promise<UiActions[keyof UiActions]["result"]> {
    const page = this.page;
    const timeout = request.timeoutMs;
    switch (request.action) {
      case "press": {
        const { key } = request.args as UiActions["press"]["args"];
        await page.keyboard.press(key);
        return null;
      }
      case "fill": {
        const { text } = request.args as UiActions["fill"]["args"];
        await page.locator(".quick-input-widget .quick-input-box input").first().fill(text, { timeout });
        return null;
      }
      case "quickInput": {
        const args = request.args as UiActions["quickInput"]["args"];
        const handle = await page.waitForFunction(readQuickInput, args, { timeout, polling: 100 });
        return (await handle.jsonValue()) as UiActions["quickInput"]["result"];
      }
      case "quickInputClosed": {
        await page.waitForFunction(quickInputClosed, undefined, { timeout, polling: 100 });
        return null;
      }
      case "notification": {
        const { containing } = request.args as UiActions["notification"]["args"];
        const handle = await page.waitForFunction(readNotification, containing, { timeout, polling: 100 });
        return (await handle.jsonValue()) as UiActions["notification"]["result"];
      }
      case "clickNotificationButton": {
        const { containing, button } = request.args as UiActions["clickNotificationButton"]["args"];
        await page
          .locator(".notification-toast", { hasText: containing })
          .getByRole("button", { name: button, exact: true })
          .first()
          .click({ timeout });
        return null;
      }
      case "statusBar": {
        const { text } = request.args as UiActions["statusBar"]["args"];
        const handle = await page.waitForFunction(readStatusBar, text, { timeout, polling: 50 });
        return (await handle.jsonValue()) as UiActions["statusBar"]["result"];
      }
      case "hoverStatusBar": {
        await page.locator(`[id="${STATUS_ITEM}"]`).hover({ timeout });
        const hover = page.locator(".monaco-hover, .workbench-hover").filter({ hasText: "Click for details" }).first();
        await hover.waitFor({ state: "visible", timeout });
        return await hover.innerText({ timeout });
      }
      case "screenshot": {
        const { name, area } = request.args as UiActions["screenshot"]["args"];
        // A failure's picture is for the log, not for the documentation.
        const file = path.join(name.startsWith("failure-") ? this.work : this.screenshots, `${name}.png`);
        await sleep(300); // let fade-ins and list layout settle
        const clip = await page.evaluate(screenshotClip, { area, viewport: VIEWPORT });
        await page.screenshot({ path: file, clip, timeout });
        return file;
      }
    }
  }
}

/** `code-server --install-extension FILE` into the run's extensions folder (60 s at most). */
function installVsix(options: Options, env: NodeJS.ProcessEnv, dirs: { userData: string; extensions: string }): void {
  const vsix = options.vsix ?? "";
  const proc = spawnSync(
    options.codeServer,
    ["--user-data-dir", dirs.userData, "--extensions-dir", dirs.extensions, "--install-extension", vsix],
    { env, encoding: "utf8", timeout: 60_000 },
  );
  const said = `${proc.stdout ?? ""}${proc.stderr ?? ""}`.trim();
  if (proc.status !== 0) {
    throw new Error(`code-server --install-extension ${vsix} failed (${String(proc.status ?? proc.error)}): ${said}`);
  }
  log(`# ${said.split("\n").filter((line) => /install/i.test(line)).join(" ") || `installed ${vsix}`}`);
}

/** Starts code-server in its own process group; resolves once /healthz answers (60 s). */
async function startCodeServer(
  options: Options,
  env: NodeJS.ProcessEnv,
  dirs: { userData: string; extensions: string },
  port: number,
): Promise<ChildProcess> {
  const logFile = fs.openSync(path.join(options.work, "code-server.log"), "a");
  const child = spawn(
    options.codeServer,
    [
      "--auth", "none",
      "--bind-addr", `127.0.0.1:${port}`,
      "--user-data-dir", dirs.userData,
      "--extensions-dir", dirs.extensions,
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      "--disable-getting-started-override",
    ],
    { env, detached: true, stdio: ["ignore", logFile, logFile] },
  );
  fs.closeSync(logFile);
  if (child.pid === undefined) {
    throw new Error(`could not start ${options.codeServer}`);
  }
  // The caller (pytest) kills this group too if the driver itself is killed.
  fs.writeFileSync(path.join(options.work, "code-server.pgid"), String(child.pid));
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) {
      throw new Error(`code-server exited with ${child.exitCode}; see ${options.work}/code-server.log`);
    }
    try {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) {
        return child;
      }
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error("code-server did not answer /healthz within 60 s");
}

/** What must be stopped when the run ends, however it ends; the signal that ended it. */
const running: { browser?: Browser; codeServerPgid?: number; signal?: string } = {};

/** Closes the browser (5 s at most) and kills code-server's process group. */
async function stopAll(): Promise<void> {
  const { browser, codeServerPgid } = running;
  running.browser = undefined;
  running.codeServerPgid = undefined;
  if (browser !== undefined) {
    await Promise.race([browser.close().catch(() => undefined), sleep(5000)]);
  }
  if (codeServerPgid !== undefined) {
    await killGroup(codeServerPgid);
  }
}

async function main(): Promise<number> {
  const options = readOptions();
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const { env, config, userData, extensions } = prepare(options);
  // Playwright's Chromium profile goes to os.tmpdir(): keep it in the scratch folder.
  process.env.TMPDIR = env.TMPDIR;
  const hostLog = fs.createWriteStream(path.join(options.work, "host.log"));
  let exitCode: number | undefined;
  let failure: string | undefined;
  const deadline = setTimeout(() => {
    failure = `the run took longer than ${options.timeoutMs / 1000} s`;
  }, options.timeoutMs);
  try {
    if (options.vsix !== undefined) {
      installVsix(options, env, { userData, extensions });
    }
    const port = await freePort();
    const codeServer = await startCodeServer(options, env, { userData, extensions }, port);
    running.codeServerPgid = codeServer.pid;
    log(`# code-server up on 127.0.0.1:${port} after ${elapsed()}`);
    const browser = await chromium.launch({
      executablePath: options.chromium,
      args: CHROMIUM_ARGS,
      env,
      timeout: 60_000,
      // stopAll() handles the signals, code-server included.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    running.browser = browser;
    const page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    const ui = new UiServer(page, config.channel, options.screenshots, options.work);
    await page.exposeFunction("codeAutomationLog", (type: string, args: unknown) => {
      const text = (Array.isArray(args) ? args : [args]).map(String).join(" ");
      if (text.startsWith(REQUEST_PREFIX)) {
        ui.enqueue(JSON.parse(text.slice(REQUEST_PREFIX.length)) as UiRequest);
        return;
      }
      hostLog.write(`[${type}] ${text}\n`);
      if (/^(ok|not ok) \d+ |^# |^1\.\./.test(text)) {
        log(text);
      }
    });
    await page.exposeFunction("codeAutomationExit", (code: number) => {
      exitCode = code;
    });
    await page.addInitScript(recordStatusBar, STATUS_ITEM);
    const remote = (file: string): string => `vscode-remote://127.0.0.1:${port}${file}`;
    const payload = [
      ["extensionDevelopmentPath", remote(EXTENSION)],
      ["extensionTestsPath", remote(SUITE)],
    ];
    // An installed .vsix runs as a user has it: no extension under development, no tests inside.
    const url =
      `http://127.0.0.1:${port}/?folder=${encodeURIComponent(config.workspace)}` +
      (options.scenario === "suite" ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : "");
    await page.goto(url, { timeout: 60_000 });
    log(`# workbench loaded after ${elapsed()}`);
    if (options.scenario !== "suite") {
      void runScenario(
        options.scenario,
        {
          act: (action, args, timeoutMs) => ui.perform(action, args, timeoutMs),
          userData,
          extensions,
          workspace: config.workspace,
          screenshots: options.screenshots,
          log,
        },
        path.join(config.channel, "results.json"),
      ).then(
        (code) => {
          exitCode = code;
        },
        (error: unknown) => {
          failure = error instanceof Error ? (error.stack ?? error.message) : String(error);
        },
      );
    }
    while (exitCode === undefined && failure === undefined) {
      if (running.signal !== undefined) {
        failure = `stopped by ${running.signal}`;
      } else if (codeServer.exitCode !== null) {
        failure = `code-server exited with ${codeServer.exitCode}`;
      }
      await sleep(100);
    }
    if (failure !== undefined) {
      await page.screenshot({ path: path.join(options.work, "failure.png"), timeout: 10_000 }).catch(() => undefined);
    }
  } catch (error) {
    failure = error instanceof Error ? (error.stack ?? error.message) : String(error);
  } finally {
    clearTimeout(deadline);
    await stopAll();
    hostLog.end();
  }
  if (failure !== undefined) {
    log(`# realhost driver failed: ${failure}`);
    log(`# logs: ${options.work}/code-server.log, ${options.work}/host.log`);
    return 1;
  }
  log(`# the suite exited with ${exitCode} after ${elapsed()}`);
  return exitCode ?? 1;
}

// A signal (a test runner's timeout) still stops the browser and code-server's group.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    running.signal = signal;
    log(`# ${signal}: stopping the browser and code-server`);
    void stopAll().finally(() => process.exit(130));
  });
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`# realhost driver failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    void stopAll().finally(() => process.exit(1));
  },
);
