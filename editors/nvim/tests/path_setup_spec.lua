-- End to end in headless Neovim: `require("quiver").setup({})` with no option
-- at all, the server found as `quiver` on PATH, the index in the default cache
-- ($XDG_CACHE_HOME/quiver). The steps build on each other, so the run stops at
-- the first failure.
--
-- Environment (set by tests/editors/test_nvim_plugin.py):
--   PATH                    starts with the directory of the quiver executable
--   QUIVER_EXPECTED_BIN     that executable: `quiver` on PATH must resolve to it
--   QUIVER_TEST_WORKSPACE   a copy of tests/editors/fixtures/workspace
--   XDG_CACHE_HOME          inside the test's temporary directory
local H = require("harness")
local test, eq, ok, contains, wait_for = H.test, H.eq, H.ok, H.contains, H.wait_for

local quiver = require("quiver")
local config = require("quiver.config")
local protocol = require("quiver.protocol")
local util = require("quiver.util")

local expected_bin = vim.fs.normalize(assert(vim.env.QUIVER_EXPECTED_BIN, "QUIVER_EXPECTED_BIN is not set"))
local workspace = vim.fs.normalize(assert(vim.env.QUIVER_TEST_WORKSPACE, "QUIVER_TEST_WORKSPACE is not set"))
local xdg_cache = vim.fs.normalize(assert(vim.env.XDG_CACHE_HOME, "XDG_CACHE_HOME is not set"))

local ATTACH_TIMEOUT_MS = 30000
local READY_TIMEOUT_MS = 120000

local has_methods = vim.fn.has("nvim-0.11") == 1
local function force_stop(c)
  if has_methods then
    c:stop(true)
  else
    c.stop(true)
  end
end

local client

test("`quiver` on PATH is the server under test", function()
  eq(expected_bin, vim.fs.normalize(vim.fn.exepath("quiver")))
end)

test("setup({}) with no options starts `quiver serve --stdio` from PATH when a file is opened", function()
  local messages = H.capture_notify(function()
    quiver.setup({})
  end)
  eq({}, messages, "setup({}) said nothing")
  eq({ "quiver", "serve", "--stdio" }, util.server_cmd(config.options), "the default command, found on PATH")
  vim.cmd.edit(vim.fn.fnameescape(workspace .. "/net/http.py"))
  client = H.wait_for_quiver_client(quiver, ATTACH_TIMEOUT_MS)
  eq({ "quiver", "serve", "--stdio" }, client.config.cmd)
  eq(workspace, client.root_dir, "rooted at the pyproject.toml marker")
  ok(vim.lsp.buf_is_attached(0, client.id), "the buffer is attached")
end)

test("the index becomes ready in the default cache directory", function()
  local ready = H.wait_for_ready(function()
    return quiver.request_sync(protocol.methods.status, vim.empty_dict(), 5000)
  end, READY_TIMEOUT_MS)
  ok(ready.symbols >= 6, "the fixture's symbols are indexed: " .. vim.inspect(ready))
  eq(xdg_cache .. "/quiver", vim.fs.normalize(ready.cacheDir), "no cache_dir option: the server's default")
end)

test(":QuiverSearch fills the quickfix list with the function a description asks for", function()
  vim.fn.setqflist({}, " ", { title = "", items = {} })
  vim.cmd("QuiverSearch send an http request again after it fails")
  local qf = wait_for("the quickfix list", 10000, function()
    local list = vim.fn.getqflist({ title = 1, items = 1 })
    return list.title == "Quiver: send an http request again after it fails" and list or nil
  end)
  ok(#qf.items >= 1, "results")
  contains(qf.items[1].text, "retry_with_backoff")
  eq(workspace .. "/net/http.py", vim.api.nvim_buf_get_name(qf.items[1].bufnr))
  eq(6, qf.items[1].lnum)
  eq(5, qf.items[1].col)
  eq("quickfix", vim.bo.buftype, "open_quickfix (default true) opened the window")
  vim.cmd("cclose")
end)

H.run({
  stop_on_failure = true,
  after = function()
    for _, c in ipairs(vim.lsp.get_clients()) do
      force_stop(c)
    end
  end,
})
