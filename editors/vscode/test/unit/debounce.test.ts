import { strict as assert } from "node:assert";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import { CancellationTokenSource } from "vscode-languageserver-protocol";
import { LatestRequest, debounce } from "../../src/debounce";

describe("debounce", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  it("runs once after a burst, with the last arguments", () => {
    const calls: string[] = [];
    const typed = debounce((query: string) => calls.push(query), 150);
    typed("r");
    mock.timers.tick(100);
    typed("re");
    mock.timers.tick(100);
    typed("retry");
    assert.deepEqual(calls, []);
    mock.timers.tick(149);
    assert.deepEqual(calls, []);
    mock.timers.tick(1);
    assert.deepEqual(calls, ["retry"]);
  });

  it("drops a pending call on cancel", () => {
    const calls: string[] = [];
    const typed = debounce((query: string) => calls.push(query), 150);
    typed("retry");
    typed.cancel();
    mock.timers.tick(500);
    assert.deepEqual(calls, []);
  });

  it("runs a pending call at once on flush, and nothing when none is pending", () => {
    const calls: string[] = [];
    const typed = debounce((query: string) => calls.push(query), 150);
    typed.flush();
    typed("retry");
    typed.flush();
    assert.deepEqual(calls, ["retry"]);
    mock.timers.tick(500);
    assert.deepEqual(calls, ["retry"]);
  });
});

describe("LatestRequest", () => {
  it("cancels the previous request's token when a new one starts", () => {
    const requests = new LatestRequest(() => new CancellationTokenSource());
    const first = requests.next();
    assert.equal(requests.isCurrent(first), true);
    const second = requests.next();
    assert.equal(first.isCancellationRequested, true);
    assert.equal(requests.isCurrent(first), false);
    assert.equal(second.isCancellationRequested, false);
    assert.equal(requests.isCurrent(second), true);
  });

  it("fires the cancellation event the JSON-RPC layer listens to", () => {
    const requests = new LatestRequest(() => new CancellationTokenSource());
    const token = requests.next();
    let fired = 0;
    token.onCancellationRequested(() => fired++);
    requests.cancel();
    assert.equal(fired, 1);
    assert.equal(requests.isCurrent(token), false);
  });

  it("is harmless to cancel with nothing in flight", () => {
    const requests = new LatestRequest(() => new CancellationTokenSource());
    requests.cancel();
    const token = requests.next();
    assert.equal(requests.isCurrent(token), true);
  });
});
