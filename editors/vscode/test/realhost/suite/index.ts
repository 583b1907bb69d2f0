/**
 * The extension's tests in real VS Code: the module VS Code loads as
 * `extensionTestsPath` and whose `run()` it awaits (a rejection is a failed run).
 * Runs ./checks in order, stops at the first failure, prints TAP-like lines on the
 * console (the driver shows them) and writes results.json beside the driver's answers.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { CheckResult } from "../protocol";
import { checks } from "./checks";
import { hostConfig, ui, withTimeout } from "./ui";

export async function run(): Promise<void> {
  const results: CheckResult[] = [];
  const save = (): void => {
    fs.writeFileSync(path.join(hostConfig().channel, "results.json"), JSON.stringify(results, null, 2));
  };
  for (const [index, check] of checks.entries()) {
    const started = Date.now();
    try {
      await withTimeout(check.run(), check.timeoutMs, check.name);
      results.push({ name: check.name, ok: true, ms: Date.now() - started });
      console.log(`ok ${index + 1} - ${check.name} (${Date.now() - started} ms)`);
      save();
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      results.push({ name: check.name, ok: false, ms: Date.now() - started, error: message });
      console.log(`not ok ${index + 1} - ${check.name}`);
      console.log(`# ${message.split("\n").join("\n# ")}`);
      save();
      // What the window showed, for whoever reads the failure.
      await ui("screenshot", { name: `failure-${index + 1}`, area: "window" }, 10_000).catch(() => undefined);
      console.log(`# stopped after the first failure; ${checks.length - index - 1} checks not run`);
      console.log(`1..${checks.length}`);
      throw new Error(`${check.name}: ${message}`);
    }
  }
  console.log(`1..${checks.length}`);
}
