-- End to end in headless Neovim against the real `quiver serve --stdio`, on a
-- temporary copy of tests/editors/fixtures/workspace. The steps build on each
-- other, so the run stops at the first failure.
--
-- Environment (set by tests/editors/test_nvim_plugin.py):
--   QUIVER_BIN              the quiver executable
--   QUIVER_TEST_WORKSPACE   the workspace copy (it has a pyproject.toml: the root marker)
--   QUIVER_TEST_CACHE       the cache directory for the index
local H = require("harness")
local test, eq, ok, contains, wait_for = H.test, H.eq, H.ok, H.contains, H.wait_for

local quiver = require("quiver")
local protocol = require("quiver.protocol")

local binary = assert(vim.env.QUIVER_BIN, "QUIVER_BIN is not set")
local workspace = vim.fs.normalize(assert(vim.env.QUIVER_TEST_WORKSPACE, "QUIVER_TEST_WORKSPACE is not set"))
local cache_dir = assert(vim.env.QUIVER_TEST_CACHE, "QUIVER_TEST_CACHE is not set")

-- Bounded waits: starting Python and loading the model takes a few seconds,
-- embedding the dozen fixture symbols a few more.
local ATTACH_TIMEOUT_MS = 30000
local READY_TIMEOUT_MS = 120000
local EDIT_TIMEOUT_MS = 15000

local progress = {}
vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(event)
    local value = event.data and event.data.params and event.data.params.value
    if type(value) == "table" then
      table.insert(progress, value.kind)
    end
  end,
})

local client

-- Neovim 0.11 turned Client functions into methods.
local has_methods = vim.fn.has("nvim-0.11") == 1
local function is_stopped(c)
  if has_methods then
    return c:is_stopped()
  end
  return c.is_stopped()
end
local function force_stop(c)
  if has_methods then
    c:stop(true)
  else
    c.stop(true)
  end
end

local function status()
  local result = quiver.request_sync(protocol.methods.status, vim.empty_dict(), 5000)
  return result
end

---Runs :QuiverSearch and waits for the quickfix list it fills.
local function quiver_search(query)
  vim.fn.setqflist({}, " ", { title = "", items = {} })
  vim.cmd("QuiverSearch " .. query)
  -- The list is titled with the query itself, without the --options before it.
  local words = vim.tbl_filter(function(word)
    return word:sub(1, 2) ~= "--"
  end, vim.split(query, "%s+", { trimempty = true }))
  local title = "Quiver: " .. table.concat(words, " ")
  return wait_for("quickfix results for " .. query, 10000, function()
    local qf = vim.fn.getqflist({ title = 1, items = 1 })
    if qf.title == title then
      return qf
    end
  end)
end

local function item_file(item)
  return vim.api.nvim_buf_get_name(item.bufnr)
end

test("setup({ cmd, cache_dir }) starts the server when a file is opened, rooted at the marker", function()
  quiver.setup({ cmd = { binary, "serve", "--stdio" }, cache_dir = cache_dir, limit = 20 })
  vim.cmd.edit(vim.fn.fnameescape(workspace .. "/net/http.py"))
  client = H.wait_for_quiver_client(quiver, ATTACH_TIMEOUT_MS)
  eq(workspace, client.root_dir)
  ok(vim.lsp.buf_is_attached(0, client.id), "the buffer is attached")
end)

test("a second file of the same project attaches to the same server", function()
  vim.cmd.edit(vim.fn.fnameescape(workspace .. "/text/words.py"))
  wait_for("words.py to attach", ATTACH_TIMEOUT_MS, function()
    return vim.lsp.buf_is_attached(0, client.id)
  end)
  eq(1, #vim.lsp.get_clients({ name = "quiver" }))
  vim.cmd.edit(vim.fn.fnameescape(workspace .. "/net/http.py"))
end)

test("the initialize answer names the server's version and advertises Quiver's methods", function()
  local util = require("quiver.util")
  local info = client.server_info or {}
  eq("quiver", info.name)
  eq(nil, (util.server_version_problem(info, protocol.min_server_version)), vim.inspect(info))
  local advertised = client.server_capabilities.experimental.quiver
  eq(protocol.methods.search, advertised.requests[1])
  ok(vim.tbl_contains(advertised.notifications, protocol.methods.status_changed), vim.inspect(advertised))
  eq(protocol.max_limit, protocol.max_search_limit(client))
end)

test("the index becomes ready (polling quiver/status)", function()
  local ready = H.wait_for_ready(status, READY_TIMEOUT_MS)
  ok(ready.symbols >= 6, "the fixture's symbols are indexed: " .. vim.inspect(ready))
  local reported = vim.fs.normalize(ready.cacheDir or "")
  eq(vim.fs.normalize(cache_dir), reported:sub(1, #vim.fs.normalize(cache_dir)), "init_options.cacheDir reached the server")
end)

test("indexing was reported through standard LSP progress (LspProgress)", function()
  ok(vim.tbl_contains(progress, "begin"), "progress kinds: " .. vim.inspect(progress))
  ok(vim.tbl_contains(progress, "end"), "progress kinds: " .. vim.inspect(progress))
end)

test("workspace/symbol finds a known function", function()
  local responses = vim.lsp.buf_request_sync(0, "workspace/symbol", { query = "retry_with_backoff" }, 30000)
  local response = assert(responses and responses[client.id], "no answer from the quiver client")
  ok(response.err == nil, vim.inspect(response.err))
  local names = vim.tbl_map(function(symbol)
    return symbol.name
  end, response.result or {})
  eq("retry_with_backoff", names[1], vim.inspect(names))
end)

test(":QuiverSearch fills the quickfix list with the function a description asks for", function()
  local qf = quiver_search("send an http request again after it fails")
  ok(#qf.items >= 1, "results")
  local first = qf.items[1]
  contains(first.text, "retry_with_backoff")
  eq(workspace .. "/net/http.py", item_file(first))
  eq(6, first.lnum)
  eq(5, first.col, "the cursor lands on the name after `def `")
  vim.cmd("cclose")
end)

test(":QuiverSearch --mode=text finds a class by name", function()
  local qf = quiver_search("--mode=text WordIndex")
  contains(qf.items[1] and qf.items[1].text or "", "WordIndex")
  eq(workspace .. "/text/words.py", item_file(qf.items[1]))
  vim.cmd("cclose")
end)

test("the Telescope extension's live finder turns real quiver/search answers into entries (on a STUB of Telescope)", function()
  -- tests/telescope_stub.lua stands in for telescope.nvim (not installable
  -- here); the server and the extension are real.
  local stub = require("telescope_stub")
  local record = stub.install()
  local passed, err = pcall(function()
    require("telescope").extensions.quiver.search({ limit = 5 })
    local picker = assert(record.pickers[1], "no picker was opened")
    local entries = stub.run_finder(picker.spec.finder, "send an http request again after it fails")
    ok(#entries >= 1 and #entries <= 5, "results: " .. #entries)
    local first = entries[1]
    eq("retry_with_backoff", first.value.name)
    eq(workspace .. "/net/http.py", first.filename)
    eq(6, first.lnum)
    eq(5, first.col)
    eq("retry_with_backoff  net/http.py:6  [function]", first.display)
  end)
  stub.uninstall()
  if not passed then
    error(err, 0)
  end
end)

test(":QuiverSimilar lists other code, not the function under the cursor", function()
  vim.cmd.edit(vim.fn.fnameescape(workspace .. "/text/words.py"))
  vim.api.nvim_win_set_cursor(0, { 14, 8 }) -- inside count_words
  vim.fn.setqflist({}, " ", { title = "", items = {} })
  vim.cmd("QuiverSimilar")
  local qf = wait_for("similar results", 10000, function()
    local list = vim.fn.getqflist({ title = 1, items = 1 })
    return list.title:find("^Quiver: similar to") and list or nil
  end)
  ok(#qf.items >= 1, "results")
  for _, item in ipairs(qf.items) do
    ok(not item.text:find("count_words", 1, true), "the symbol itself is excluded: " .. item.text)
  end
  vim.cmd("cclose")
end)

test("a function added to a buffer and written becomes searchable", function()
  vim.cmd.edit(vim.fn.fnameescape(workspace .. "/net/http.py"))
  vim.api.nvim_buf_set_lines(0, -1, -1, false, {
    "",
    "",
    "def checksum_of_payload(payload):",
    '    """Compute a CRC32 checksum of the request body."""',
    "    import zlib",
    "",
    "    return zlib.crc32(payload)",
  })
  vim.cmd("silent write")
  local found = wait_for("workspace/symbol to find checksum_of_payload", EDIT_TIMEOUT_MS, function()
    local responses = vim.lsp.buf_request_sync(0, "workspace/symbol", { query = "checksum_of_payload" }, 2000)
    local result = responses and responses[client.id] and responses[client.id].result or {}
    for _, symbol in ipairs(result) do
      if symbol.name == "checksum_of_payload" then
        return symbol
      end
    end
  end, 200)
  eq(vim.uri_from_fname(workspace .. "/net/http.py"), found.location.uri)
  local qf = wait_for(":QuiverSearch to rank the new function first", EDIT_TIMEOUT_MS, function()
    local list = quiver_search("crc32 checksum of a request body")
    return list.items[1] and list.items[1].text:find("checksum_of_payload", 1, true) and list or nil
  end, 200)
  eq(workspace .. "/net/http.py", item_file(qf.items[1]))
  vim.cmd("cclose")
end)

test(":QuiverStatus shows the index state", function()
  local messages = H.capture_notify(function()
    vim.cmd("QuiverStatus")
    wait_for("the status message", 5000, function()
      return #vim.tbl_filter(function(m)
        return m.message:find("State:", 1, true) ~= nil
      end, H.last_captured or {}) > 0
    end)
  end)
  local text = table.concat(vim.tbl_map(function(m)
    return m.message
  end, messages), "\n")
  contains(text, "State: ready")
  contains(text, "Cache: ")
end)

test(":checkhealth quiver reports the server version and the index state", function()
  vim.cmd("silent checkhealth quiver")
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  contains(text, "OK Quiver ")
  contains(text, "`serve` is available")
  contains(text, "State: ready")
  vim.cmd("silent! tabclose")
end)

test(":QuiverReindex starts a re-index of changed files", function()
  local messages = H.capture_notify(function()
    vim.cmd("QuiverReindex")
    wait_for("the reindex answer", 5000, function()
      for _, m in ipairs(H.last_captured or {}) do
        if m.message:find("Quiver: re-indexing", 1, true) or m.message:find("already in progress", 1, true) then
          return true
        end
      end
    end)
  end)
  local answered = vim.tbl_filter(function(m)
    return m.message:find("re-indexing changed files", 1, true) ~= nil
      or m.message:find("already in progress", 1, true) ~= nil
  end, messages)
  eq(1, #answered, vim.inspect(messages))
  wait_for("the index to be ready again", READY_TIMEOUT_MS, function()
    local s = status()
    return s ~= nil and s.state == "ready"
  end, 250)
end)

test("the server stops cleanly", function()
  vim.lsp.stop_client(client.id)
  wait_for("the client to stop", 10000, function()
    return is_stopped(client)
  end)
end)

H.run({
  stop_on_failure = true,
  after = function()
    for _, c in ipairs(vim.lsp.get_clients()) do
      force_stop(c)
    end
  end,
})
