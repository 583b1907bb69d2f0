-- The Telescope extension (lua/telescope/_extensions/quiver.lua) loaded
-- against tests/telescope_stub.lua: a STUB of telescope.nvim's API (pickers,
-- finders, sorters, config, actions), NOT Telescope itself, which cannot be
-- installed here (it is a git repository, on neither PyPI nor npm). The
-- Quiver client is stubbed too (quiver.get_client / quiver.request_sync), so
-- this checks the extension's own logic: which pickers it opens, what it asks
-- the server, and how it turns quiver/search results into Telescope entries.
-- tests/integration_spec.lua runs the same extension's live finder against
-- the real server. Neither shows real Telescope drawing or previewing.
-- Run: nvim --headless --clean -u tests/minimal_init.lua -c "luafile tests/telescope_spec.lua"
local H = require("harness")
local test, eq, ok, contains = H.test, H.eq, H.ok, H.contains

local stub = require("telescope_stub")
local quiver = require("quiver")
local config = require("quiver.config")
local util = require("quiver.util")

local function tempdir()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, "p")
  return vim.fs.normalize(vim.uv.fs_realpath(dir))
end

-- A workspace with one file whose symbol name comes after a non-ASCII
-- character, so the UTF-16 → byte column conversion shows in the entries.
local root = tempdir()
local file = root .. "/src/lib.rs"
vim.fn.mkdir(root .. "/src", "p")
vim.fn.writefile({ "/* ü */ fn parse_url() {}", "", "fn other() {}" }, file)

local function range(line, from, to)
  return { start = { line = line, character = from }, ["end"] = { line = line, character = to } }
end

local parse_url = {
  name = "parse_url", kind = 12, containerName = "lib",
  location = { uri = vim.uri_from_fname(file), range = range(0, 8, 24) },
  selectionRange = range(0, 11, 20), -- UTF-16 columns: `ü` is one unit, two bytes
  language = "rust", signature = "fn parse_url()", snippet = "", score = 0.9, retrievers = { "semantic" },
}
local other = {
  name = "other", kind = 12, containerName = "lib",
  location = { uri = vim.uri_from_fname(file), range = range(2, 0, 13) },
  selectionRange = range(2, 3, 8),
  language = "rust", signature = "fn other()", snippet = "", score = 0.1, retrievers = { "text" },
}

-- The Quiver client, stubbed: a fake client object and a recorder of requests.
local fake_client = { id = 1, name = "quiver", root_dir = root, offset_encoding = "utf-16", initialized = true }
local requests = {}
local answer = { results = { parse_url, other }, partial = false, generation = 1, elapsedMs = 1 }
local real_get_client, real_request_sync = quiver.get_client, quiver.request_sync
local function stub_quiver(client)
  requests = {}
  quiver.get_client = function()
    return client
  end
  quiver.request_sync = function(method, params, timeout_ms)
    table.insert(requests, { method = method, params = params, timeout_ms = timeout_ms })
    if answer == nil then
      return nil, "timeout"
    end
    return answer, nil
  end
end

local function last_picker(record)
  return assert(record.pickers[#record.pickers], "no picker was opened")
end

test("without telescope.nvim the extension fails with a clear message", function()
  stub.uninstall()
  local loaded, err = pcall(require, "telescope._extensions.quiver")
  ok(not loaded, "it must not load without Telescope")
  contains(tostring(err), "needs nvim-telescope/telescope.nvim")
end)

test("load_extension registers search, similar and results, and passes the extension config to setup", function()
  local record = stub.install({ quiver = { mode = "text" } })
  local exports = require("telescope").load_extension("quiver")
  for _, name in ipairs({ "quiver", "search", "similar", "results" }) do
    eq("function", type(exports[name]), name)
  end
  eq({ { mode = "text" } }, record.setup_calls)
  ok(require("telescope").extensions.quiver == exports, "loaded once, then cached")
end)

test("results() opens a picker whose entries keep the server's order and carry the quickfix position", function()
  local record = stub.install()
  stub_quiver(fake_client)
  local ext = require("telescope").extensions.quiver
  ext.results(answer, "Quiver: parse url")
  local picker = last_picker(record)
  ok(picker.found, ":find() was called")
  eq("Quiver: parse url", picker.spec.prompt_title)
  eq("table", picker.spec.finder.kind)
  eq("qflist_previewer", picker.spec.previewer.kind)
  eq("generic_sorter", picker.spec.sorter.kind)

  local entries = stub.run_finder(picker.spec.finder, "")
  eq(2, #entries)
  local first = entries[1]
  ok(first.value == parse_url, "value is the result itself")
  eq(util.select_label(parse_url, root), first.display)
  eq("parse_url  src/lib.rs:1  [function]", first.display, "paths relative to the client's root")
  eq("parse_url " .. file, first.ordinal)
  eq(file, first.filename)
  eq(1, first.lnum)
  eq(13, first.col, "UTF-16 column 11 after `ü` is byte column 13 (1-based)")
  eq("[function] lib.parse_url: fn parse_url()", first.text)
  eq("other", entries[2].value.name)
  eq(3, entries[2].lnum)
  eq(4, entries[2].col)
end)

test("accepting an entry closes the picker and jumps to the symbol's name", function()
  local record = stub.install()
  stub_quiver(fake_client)
  local ext = require("telescope").extensions.quiver
  ext.results(answer, "Quiver")
  local picker = last_picker(record)
  eq(true, picker.spec.attach_mappings(42, function() end), "keeps the default mappings")
  local replacement = assert(record.select_default.replacement, "select_default was replaced")
  record.selected = stub.run_finder(picker.spec.finder, "")[1]
  replacement()
  eq({ 42 }, record.closed)
  eq(file, vim.api.nvim_buf_get_name(0))
  eq({ 1, 12 }, vim.api.nvim_win_get_cursor(0), "cursor on `parse_url` (byte 12, 0-based)")
end)

test("the live search asks quiver/search for each prompt with the setup() mode and limit", function()
  local record = stub.install()
  stub_quiver(fake_client)
  config.options = assert(config.resolve({ mode = "hybrid", limit = 17 }))
  local ext = require("telescope").extensions.quiver
  ext.search()
  local picker = last_picker(record)
  ok(picker.found, ":find() was called")
  eq("Quiver search (hybrid)", picker.spec.prompt_title)
  eq("dynamic", picker.spec.finder.kind)
  eq("highlighter_only", picker.spec.sorter.kind, "the server's ranking is kept, only highlighted")

  eq({}, stub.run_finder(picker.spec.finder, "   "), "a blank prompt shows nothing")
  eq({}, requests, "and sends nothing")

  local entries = stub.run_finder(picker.spec.finder, "parse a url")
  eq(1, #requests)
  eq("quiver/search", requests[1].method)
  eq({ query = "parse a url", mode = "hybrid", limit = 17 }, requests[1].params)
  eq({ "parse_url", "other" }, vim.tbl_map(function(e)
    return e.value.name
  end, entries))
  eq(13, entries[1].col)
end)

test("the live search takes mode and limit from its opts, and shows nothing when the request fails", function()
  local record = stub.install()
  stub_quiver(fake_client)
  local ext = require("telescope").extensions.quiver
  ext.search({ mode = "text", limit = "5" })
  local picker = last_picker(record)
  eq("Quiver search (text)", picker.spec.prompt_title)
  stub.run_finder(picker.spec.finder, "WordIndex")
  eq({ query = "WordIndex", mode = "text", limit = 5 }, requests[1].params)
  local saved = answer
  answer = nil
  eq({}, stub.run_finder(picker.spec.finder, "WordIndex"), "no answer: no entries, no error")
  answer = saved
end)

test("the live search without a Quiver server says so and opens no picker", function()
  local record = stub.install()
  stub_quiver(nil)
  local messages = H.capture_notify(function()
    require("telescope").extensions.quiver.search()
  end)
  eq(0, #record.pickers)
  eq(1, #messages)
  contains(messages[1].message, "no Quiver server is running")
  eq(vim.log.levels.ERROR, messages[1].level)
end)

test("similar asks quiver/similar at the cursor and lists the answer", function()
  local record = stub.install()
  stub_quiver(fake_client)
  vim.cmd.edit(vim.fn.fnameescape(file))
  vim.api.nvim_win_set_cursor(0, { 1, 14 }) -- inside `parse_url`
  require("telescope").extensions.quiver.similar({ limit = 3 })
  eq(1, #requests)
  eq("quiver/similar", requests[1].method)
  eq(vim.uri_from_fname(file), requests[1].params.textDocument.uri)
  eq({ line = 0, character = 13 }, requests[1].params.position, "UTF-16 position of byte 14")
  eq(3, requests[1].params.limit)
  local picker = last_picker(record)
  eq("Quiver: similar to parse_url", picker.spec.prompt_title)
  eq(2, #stub.run_finder(picker.spec.finder, ""))
end)

test("similar reports a failed request and opens no picker", function()
  local record = stub.install()
  stub_quiver(fake_client)
  local saved = answer
  answer = nil
  local messages = H.capture_notify(function()
    require("telescope").extensions.quiver.similar()
  end)
  answer = saved
  eq(0, #record.pickers)
  contains(messages[1] and messages[1].message or "", "Quiver: timeout")
end)

test("show_results with picker = \"telescope\" hands the answer to the extension's results()", function()
  local record = stub.install()
  stub_quiver(fake_client)
  vim.fn.setqflist({}, " ", { title = "untouched", items = {} })
  quiver.show_results(answer, "Quiver: parse url", "telescope")
  eq("Quiver: parse url", last_picker(record).spec.prompt_title)
  eq("untouched", vim.fn.getqflist({ title = 1 }).title, "the quickfix list is left alone")
end)

H.run({
  after = function()
    quiver.get_client, quiver.request_sync = real_get_client, real_request_sync
    stub.uninstall()
  end,
})
