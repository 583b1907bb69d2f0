import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { changedSettings, initializationOptions } from "../../src/settings";

describe("initializationOptions", () => {
  it("sends only the search limit for default settings", () => {
    assert.deepEqual(initializationOptions({ cacheDir: "", exclude: [], searchLimit: 50 }), {
      search: { limit: 50 },
    });
  });

  it("passes the cache directory and exclude patterns, trimmed", () => {
    assert.deepEqual(
      initializationOptions({ cacheDir: " /tmp/q ", exclude: ["**/gen/**", "  "], searchLimit: 20 }),
      { cacheDir: "/tmp/q", exclude: ["**/gen/**"], search: { limit: 20 } },
    );
  });

  it("keeps the limit within what the server accepts", () => {
    assert.deepEqual(initializationOptions({ searchLimit: 1000 }), { search: { limit: 200 } });
    assert.deepEqual(initializationOptions({ searchLimit: 0 }), { search: { limit: 1 } });
    // Once the server runs, its advertised maxSearchLimit is the cap.
    assert.deepEqual(initializationOptions({ searchLimit: 1000 }, 500), { search: { limit: 500 } });
    assert.deepEqual(changedSettings({ searchLimit: 300 }, 250), { exclude: [], search: { limit: 250 } });
  });

  it("leaves everything out when nothing is set", () => {
    assert.deepEqual(initializationOptions({}), {});
  });
});

describe("changedSettings", () => {
  it("sends exclude and the search limit, never cacheDir", () => {
    assert.deepEqual(changedSettings({ cacheDir: "/tmp/q", exclude: [" **/gen/** "], searchLimit: 20 }), {
      exclude: ["**/gen/**"],
      search: { limit: 20 },
    });
  });

  it("sends an empty exclude as [] so that clearing the setting clears it on the server", () => {
    assert.deepEqual(changedSettings({ exclude: [], searchLimit: 50 }), { exclude: [], search: { limit: 50 } });
    assert.deepEqual(changedSettings({}), { exclude: [] });
  });
});
