-- Unit tests of the plugin that need no Quiver server: argument parsing,
-- result → quickfix conversion, root detection, commands, config, health.
-- Run: nvim --headless --clean -u tests/minimal_init.lua -c "luafile tests/unit_spec.lua"
local H = require("harness")
local test, eq, ok, contains = H.test, H.eq, H.ok, H.contains

local util = require("quiver.util")
local config = require("quiver.config")
local protocol = require("quiver.protocol")

local here = vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p"))
local plugin_root = vim.fs.dirname(here)
local repo_root = vim.fs.dirname(vim.fs.dirname(plugin_root))

local function tempdir()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, "p")
  return vim.fs.normalize(vim.uv.fs_realpath(dir))
end

local function write(path, lines)
  vim.fn.mkdir(vim.fs.dirname(path), "p")
  vim.fn.writefile(lines or {}, path)
end

local function result(overrides)
  return vim.tbl_deep_extend("force", {
    name = "retry_with_backoff",
    kind = 12,
    containerName = "net.http",
    location = {
      uri = vim.uri_from_fname("/repo/net/http.py"),
      range = { start = { line = 40, character = 0 }, ["end"] = { line = 58, character = 0 } },
    },
    selectionRange = { start = { line = 40, character = 4 }, ["end"] = { line = 40, character = 22 } },
    language = "python",
    signature = "def retry_with_backoff(request, attempts=3):",
    snippet = "for attempt in range(attempts):",
    score = 0.03,
    retrievers = { "semantic", "text" },
  }, overrides or {})
end

-- ---------------------------------------------------------------------------
-- :QuiverSearch arguments

test("parse_search_args joins the words into the query and applies the defaults", function()
  local params = assert(util.parse_search_args({ "retry", "failed", "requests" }, { mode = "hybrid", limit = 50 }))
  eq({ query = "retry failed requests", mode = "hybrid", limit = 50 }, params)
end)

test("parse_search_args reads --mode, --limit and repeatable or comma-separated filters", function()
  local params = assert(util.parse_search_args({
    "--mode=semantic", "--limit=10", "--kind=function,method", "--kind=class",
    "--lang=python", "--path=src/**", "parse", "headers",
  }))
  eq("parse headers", params.query)
  eq("semantic", params.mode)
  eq(10, params.limit)
  eq({ "function", "method", "class" }, params.kinds)
  eq({ "python" }, params.languages)
  eq({ "src/**" }, params.paths)
end)

test("parse_search_args treats words after -- as query text", function()
  local params = assert(util.parse_search_args({ "--", "--mode=text", "flag" }))
  eq("--mode=text flag", params.query)
  eq(nil, params.mode)
end)

test("parse_search_args clamps the limit to the server's maximum", function()
  eq(protocol.max_limit, assert(util.parse_search_args({ "--limit=5000", "x" })).limit)
  eq(500, assert(util.parse_search_args({ "--limit=5000", "x" }, { max_limit = 500 })).limit)
end)

test("max_search_limit reads the server's advertised capability, else the fallback", function()
  local advertised = { server_capabilities = { experimental = { quiver = { maxSearchLimit = 500 } } } }
  eq(500, protocol.max_search_limit(advertised))
  eq(protocol.max_limit, protocol.max_search_limit(nil))
  eq(protocol.max_limit, protocol.max_search_limit({ server_capabilities = {} }))
  eq(protocol.max_limit, protocol.max_search_limit({ server_capabilities = { experimental = { quiver = {} } } }))
end)

test("parse_search_args rejects bad input with a Suggestion", function()
  local cases = {
    { { "--mode=fuzzy", "x" }, "Unknown search mode" },
    { { "--limit=0", "x" }, "not a positive whole number" },
    { { "--limit=2.5", "x" }, "not a positive whole number" },
    { { "--colour=red", "x" }, "Unknown option --colour" },
    { { "--mode", "x" }, "needs a value" },
    { { "--mode=text" }, "The query is empty" },
    { {}, "The query is empty" },
  }
  for _, case in ipairs(cases) do
    local params, err = util.parse_search_args(case[1])
    eq(nil, params, vim.inspect(case[1]))
    contains(err, case[2])
    contains(err, "\nSuggestion: ")
  end
end)

-- ---------------------------------------------------------------------------
-- Results → quickfix

test("utf16_to_byte converts LSP columns over multi-byte characters", function()
  eq(4, util.utf16_to_byte("def name", 4))
  eq(5, util.utf16_to_byte("é = 1", 4), "é is 2 bytes but 1 UTF-16 unit")
  eq(4, util.utf16_to_byte("😀x", 2), "😀 is 4 bytes and 2 UTF-16 units")
  eq(5, util.utf16_to_byte("😀x", 3))
  eq(3, util.utf16_to_byte("abc", 99), "past the end clamps")
  eq(0, util.utf16_to_byte("", 5))
end)

test("result_to_qf_item points at the symbol's name, 1-based, with kind and signature", function()
  local item = util.result_to_qf_item(result(), function()
    return "    retry_with_backoff = 1"
  end)
  eq("/repo/net/http.py", item.filename)
  eq(41, item.lnum)
  eq(5, item.col)
  eq(41, item.end_lnum)
  eq(23, item.end_col)
  eq("[function] net.http.retry_with_backoff: def retry_with_backoff(request, attempts=3):", item.text)
  eq("retry_with_backoff", item.user_data.name)
end)

test("result_to_qf_item uses byte columns on a line with non-ASCII text before the name", function()
  local r = result({
    selectionRange = { start = { line = 0, character = 7 }, ["end"] = { line = 0, character = 11 } },
  })
  local item = util.result_to_qf_item(r, function()
    return "café = name"
  end)
  eq(9, item.col, "byte 8 (0-based) + 1")
end)

test("result_text leaves out an empty container and signature", function()
  eq("[class] WordIndex", util.result_text(result({ name = "WordIndex", kind = 5, containerName = "", signature = "" })))
  eq("[symbol] x", util.result_text(result({ name = "x", kind = 99, containerName = "", signature = "  " })))
end)

test("results_to_qf_items keeps the server's ranking order, not file order", function()
  local results = {
    result({ name = "b", location = { uri = vim.uri_from_fname("/repo/z.py") } }),
    result({ name = "a", location = { uri = vim.uri_from_fname("/repo/a.py") } }),
  }
  local items = util.results_to_qf_items(results, function()
    return nil
  end)
  eq({ "/repo/z.py", "/repo/a.py" }, { items[1].filename, items[2].filename })
end)

test("line_reader reads a file from disk and prefers a loaded buffer's newer text", function()
  local dir = tempdir()
  local file = dir .. "/m.py"
  write(file, { "first", "second" })
  eq("second", util.line_reader()(file, 2))
  vim.cmd.edit(vim.fn.fnameescape(file))
  vim.api.nvim_buf_set_lines(0, 1, 2, false, { "edited" })
  eq("edited", util.line_reader()(file, 2))
  vim.cmd("bwipeout!")
end)

test("select_label shows the name, a root-relative path and the kind", function()
  eq("retry_with_backoff  net/http.py:41  [function]", util.select_label(result(), "/repo"))
  eq("retry_with_backoff  /repo/net/http.py:41  [function]", util.select_label(result(), "/elsewhere"))
end)

-- ---------------------------------------------------------------------------
-- Buffers and roots

test("find_root returns the nearest directory with a marker", function()
  local dir = tempdir()
  vim.fn.mkdir(dir .. "/.git", "p")
  write(dir .. "/sub/pyproject.toml")
  write(dir .. "/sub/pkg/mod.py")
  write(dir .. "/other/lib.rs")
  eq(dir .. "/sub", util.find_root(dir .. "/sub/pkg/mod.py", util.default_root_markers))
  eq(dir, util.find_root(dir .. "/other/lib.rs", util.default_root_markers))
end)

test("find_root falls back to the file's directory when no marker exists", function()
  local dir = tempdir()
  write(dir .. "/loose/file.py")
  eq(dir .. "/loose", util.find_root(dir .. "/loose/file.py", { "a-marker-that-is-nowhere" }))
end)

test("is_file_buffer accepts files and rejects special buffers", function()
  ok(util.is_file_buffer("/repo/a.py", ""))
  ok(not util.is_file_buffer("", ""))
  ok(not util.is_file_buffer("/repo/a.py", "nofile"))
  ok(not util.is_file_buffer("term://~//123:bash", ""))
  ok(not util.is_file_buffer("oil:///repo/", ""))
end)

-- ---------------------------------------------------------------------------
-- Server command, version, init options

test("server_cmd prefers cmd, then server_path, then python_path, then quiver on PATH", function()
  eq({ "quiver", "serve", "--stdio" }, util.server_cmd({}))
  eq({ "/opt/py", "-m", "quiver", "serve", "--stdio" }, util.server_cmd({ python_path = "/opt/py" }))
  eq({ "/bin/q", "serve", "--stdio" }, util.server_cmd({ server_path = "/bin/q", python_path = "/opt/py" }))
  eq({ "x", "serve" }, util.server_cmd({ cmd = { "x", "serve" }, server_path = "/bin/q" }))
  eq({ vim.fs.normalize("~") .. "/bin/q", "serve", "--stdio" }, util.server_cmd({ server_path = "~/bin/q" }))
end)

test("version_cmd swaps `serve ...` for --version and gives up without serve", function()
  eq({ "quiver", "--version" }, util.version_cmd({ "quiver", "serve", "--stdio" }))
  eq({ "py", "-m", "quiver", "--version" }, util.version_cmd({ "py", "-m", "quiver", "serve", "--stdio" }))
  eq(nil, util.version_cmd({ "my-wrapper" }))
end)

test("server_version_problem judges the serverInfo of the initialize answer", function()
  eq(nil, (util.server_version_problem({ name = "quiver", version = "0.1.0" }, "0.1.0")))
  eq(nil, (util.server_version_problem({ name = "quiver", version = "1.0.0" }, "0.1.0")))
  local message, level = util.server_version_problem({ name = "quiver", version = "0.0.9" }, "0.1.0")
  eq(vim.log.levels.WARN, level)
  contains(message, "the server is version 0.0.9; this plugin needs 0.1.0 or newer.\nSuggestion: upgrade it with `")
  contains(message, "pipx install --force ")
  message, level = util.server_version_problem(nil, "0.1.0")
  eq(vim.log.levels.ERROR, level)
  contains(message, "named no version")
end)

test("checkout_root finds the Quiver checkout the plugin runs from, and nothing elsewhere", function()
  eq(repo_root, util.checkout_root())
  eq(repo_root, util.checkout_root(plugin_root .. "/lua/quiver/util.lua"))
  local elsewhere = tempdir()
  write(elsewhere .. "/pyproject.toml", { "[project]", 'name = "something-else"' })
  eq(nil, util.checkout_root(elsewhere .. "/editors/nvim/lua/quiver/util.lua"))
end)

test("install_command: the wheel `make dist` built, else make dist first, else where to run it", function()
  local root = tempdir()
  write(root .. "/pyproject.toml", { "[project]", 'name = "quiver-lsp"' })
  eq(("cd %s && make dist && pipx install dist/quiver_lsp-*-py3-none-any.whl"):format(root),
    util.install_command(root))
  write(root .. "/dist/quiver_lsp-0.1.0-py3-none-any.whl", {})
  eq("pipx install " .. root .. "/dist/quiver_lsp-0.1.0-py3-none-any.whl", util.install_command(root))
  eq("pipx install --force " .. root .. "/dist/quiver_lsp-0.1.0-py3-none-any.whl", util.install_command(root, true))
  eq("make dist && pipx install dist/quiver_lsp-*-py3-none-any.whl", util.install_command(nil))
  local spaced = tempdir() .. "/my quiver"
  write(spaced .. "/dist/quiver_lsp-0.1.0-py3-none-any.whl", {})
  eq("pipx install '" .. spaced .. "/dist/quiver_lsp-0.1.0-py3-none-any.whl'", util.install_command(spaced))
end)

test("install_hint quotes the command and says where to run the checkout's", function()
  eq("`make dist && pipx install dist/quiver_lsp-*-py3-none-any.whl` in a Quiver checkout", util.install_hint(nil))
  local root = tempdir()
  write(root .. "/dist/quiver_lsp-0.2.0-py3-none-any.whl", {})
  eq("`pipx install " .. root .. "/dist/quiver_lsp-0.2.0-py3-none-any.whl`", util.install_hint(root))
end)

test("parse_version and compare_versions read and order X.Y.Z numerically", function()
  eq("0.1.0", util.parse_version("quiver 0.1.0\n"))
  eq("1.2.0", util.parse_version("quiver 1.2"))
  eq(nil, util.parse_version("usage: quiver"))
  ok(util.compare_versions("0.10.0", "0.9.0") > 0)
  ok(util.compare_versions("0.1.0", "0.1.1") < 0)
  eq(0, util.compare_versions("1.0", "1.0.0"))
end)

test("init_options sends only what was set, and lists as JSON arrays", function()
  eq({ search = { limit = 50, mode = "hybrid" } }, util.init_options(config.defaults))
  local init = util.init_options({ cache_dir = "/tmp/c", exclude = { "**/gen/**" }, limit = 7 })
  eq({ cacheDir = "/tmp/c", exclude = { "**/gen/**" }, search = { limit = 7 } }, init)
  eq('{"exclude":["**/gen/**"]}', vim.json.encode({ exclude = util.init_options({ exclude = { "**/gen/**" } }).exclude }))
  eq({}, util.init_options({ exclude = {} }))
end)

-- ---------------------------------------------------------------------------
-- Options

test("config.resolve accepts setup({}) and fills every default", function()
  local options = assert(config.resolve({}))
  eq(config.defaults.limit, options.limit)
  eq("quickfix", options.picker)
  eq(true, options.autostart)
end)

test("config.resolve rejects unknown options, wrong types and bad values with a Suggestion", function()
  local cases = {
    { { cache = "/x" }, 'unknown setup() option "cache"' },
    { { limit = "10" }, "limit must be a number, not a string" },
    { { picker = "fzf" }, 'unknown picker "fzf"' },
    { { mode = "fast" }, 'unknown mode "fast"' },
    { { limit = 500 }, "out of range" },
    { { cmd = {} }, "cmd must be a list of strings" },
  }
  for _, case in ipairs(cases) do
    local options, err = config.resolve(case[1])
    eq(nil, options, vim.inspect(case[1]))
    contains(err, case[2])
    contains(err, "\nSuggestion: ")
  end
end)

-- ---------------------------------------------------------------------------
-- Status and progress text

test("status_lines lists state, counts, role, model, cache and folders", function()
  local lines = util.status_lines({
    state = "ready",
    message = "Indexed 2,000 files, 31,204 symbols",
    role = "reader",
    workspaceFolders = { vim.uri_from_fname("/repo") },
    files = 2000,
    filesIndexed = 2000,
    symbols = 31204,
    generation = 12,
    model = { id = "minilm", dim = 384 },
    cacheDir = "/c",
    diskBytes = 1536,
    lastUpdate = vim.NIL,
  })
  eq({
    "State: ready — Indexed 2,000 files, 31,204 symbols",
    "Files: 2,000 of 2,000 indexed",
    "Symbols: 31,204",
    "Index generation: 12",
    "Role: reader (another Quiver process updates the cache)",
    "Model: minilm (384 dimensions)",
    "Cache: /c (1.5 KiB)",
    "Last update: never",
    "Workspace folders: /repo",
  }, lines)
end)

test("progress_message shows title, message and percentage, and a closing line", function()
  eq("Quiver: Indexing 120/2,000 files (6%)",
    util.progress_message({ kind = "begin", title = "Indexing", message = "120/2,000 files", percentage = 6 }))
  eq("Quiver: Indexing (50%)", util.progress_message({ kind = "report", percentage = 50 }, "Indexing"))
  eq("Quiver: index ready", util.progress_message({ kind = "end" }))
  eq("Quiver: Indexed 3 files", util.progress_message({ kind = "end", message = "Indexed 3 files" }))
end)

test("format_count groups thousands", function()
  eq("0", util.format_count(0))
  eq("999", util.format_count(999))
  eq("31,204", util.format_count(31204))
  eq("1,234,567", util.format_count(1234567))
end)

-- ---------------------------------------------------------------------------
-- The protocol declaration matches docs/protocol.md

test("protocol.lua declares every quiver/ method docs/protocol.md documents", function()
  local doc = table.concat(vim.fn.readfile(repo_root .. "/docs/protocol.md"), "\n")
  local documented = {}
  for method in doc:gmatch("`(quiver/%a+)`") do
    documented[method] = true
  end
  local declared = {}
  for _, method in pairs(protocol.methods) do
    declared[method] = true
  end
  ok(vim.tbl_count(documented) >= 5, "docs/protocol.md lists the quiver/ methods")
  eq(documented, declared)
end)

-- ---------------------------------------------------------------------------
-- Every Lua file loads

test("every Lua file of the plugin parses, the Telescope extension included", function()
  local files = vim.fs.find(function(name)
    return name:match("%.lua$") ~= nil
  end, { path = plugin_root, type = "file", limit = math.huge })
  ok(#files >= 8, "found the plugin's Lua files")
  for _, file in ipairs(files) do
    local chunk, err = loadfile(file)
    ok(chunk ~= nil, ("%s: %s"):format(file, tostring(err)))
  end
end)

test("lsp/quiver.lua gives Neovim 0.11+ a native config for vim.lsp.enable", function()
  local lsp_config = dofile(plugin_root .. "/lsp/quiver.lua")
  eq({ "quiver", "serve", "--stdio" }, lsp_config.cmd)
  ok(vim.tbl_contains(lsp_config.root_markers, ".git"))
end)

-- ---------------------------------------------------------------------------
-- setup() and the commands, with no server available

local quiver = require("quiver")

test("setup() on a Neovim without the needed APIs says what is missing and does nothing", function()
  local real_system, real_has = vim.system, vim.fn.has
  vim.system = nil
  vim.fn.has = function(feature)
    if feature == "nvim-0.10" then
      return 0
    end
    return real_has(feature)
  end
  local messages = H.capture_notify(function()
    quiver.setup({})
  end)
  vim.system, vim.fn.has = real_system, real_has
  eq(1, #messages)
  eq(vim.log.levels.ERROR, messages[1].level)
  contains(messages[1].message, "Neovim 0.10 or newer")
  contains(messages[1].message, "vim.system()")
  contains(messages[1].message, "\nSuggestion: upgrade")
  eq(nil, vim.api.nvim_get_commands({}).QuiverSearch, "no commands were created")
end)

test("setup() with an invalid option reports it and creates no commands", function()
  local messages = H.capture_notify(function()
    quiver.setup({ picker = "fzf" })
  end)
  eq(1, #messages)
  contains(messages[1].message, 'unknown picker "fzf"')
  eq(nil, vim.api.nvim_get_commands({}).QuiverSearch)
end)

test("setup({}) without quiver on PATH creates the commands and says how to install the server", function()
  local dir = tempdir()
  write(dir .. "/proj/.git/HEAD", { "ref: refs/heads/main" })
  write(dir .. "/proj/a.py", { "def f():", "    return 1" })
  local real_path = vim.env.PATH
  vim.env.PATH = dir -- an empty directory: no `quiver` anywhere
  local messages = H.capture_notify(function()
    quiver.setup({})
    vim.cmd.edit(vim.fn.fnameescape(dir .. "/proj/a.py"))
    vim.cmd.edit(vim.fn.fnameescape(dir .. "/proj/.git/HEAD")) -- a second buffer: no second message
  end)
  vim.env.PATH = real_path
  local commands = vim.api.nvim_get_commands({})
  for _, name in ipairs({ "QuiverSearch", "QuiverSimilar", "QuiverStatus", "QuiverReindex" }) do
    ok(commands[name] ~= nil, name .. " exists")
  end
  eq(1, #messages, vim.inspect(messages))
  contains(messages[1].message, "the server `quiver` was not found")
  contains(messages[1].message, "\nSuggestion: install it with `" .. util.install_command(util.checkout_root()) .. "`")
  eq(0, #vim.lsp.get_clients({ name = "quiver" }), "no client was started")
  vim.cmd("silent! %bwipeout!")
end)

test(":QuiverSearch with no server running says so with a Suggestion", function()
  local messages = H.capture_notify(function()
    vim.cmd("QuiverSearch retry failed requests")
  end)
  eq(1, #messages)
  contains(messages[1].message, "no Quiver server is running")
  contains(messages[1].message, "\nSuggestion: ")
end)

test(":QuiverSearch with a bad option reports it before looking for a server", function()
  local messages = H.capture_notify(function()
    vim.cmd("QuiverSearch --mode=fuzzy retry")
  end)
  eq(1, #messages)
  contains(messages[1].message, "Unknown search mode")
end)

test(":QuiverSearch completes its options", function()
  eq({ "--mode=hybrid", "--mode=semantic", "--mode=text" }, vim.fn.getcompletion("QuiverSearch --mo", "cmdline"))
end)

test("show_results fills the quickfix list in ranking order with a title", function()
  local dir = tempdir()
  write(dir .. "/b.py", { "", "def beta():", "    pass" })
  write(dir .. "/a.py", { "def alpha():", "    pass" })
  local function at(file, line, name)
    local range = { start = { line = line, character = 4 }, ["end"] = { line = line, character = 4 + #name } }
    return result({
      name = name,
      containerName = "",
      location = { uri = vim.uri_from_fname(file), range = range },
      selectionRange = range,
    })
  end
  quiver.show_results({ results = { at(dir .. "/b.py", 1, "beta"), at(dir .. "/a.py", 0, "alpha") }, partial = false },
    "Quiver: greek letters", "quickfix")
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  eq("Quiver: greek letters", qf.title)
  eq(2, #qf.items)
  eq(dir .. "/b.py", vim.api.nvim_buf_get_name(qf.items[1].bufnr))
  eq({ 2, 5 }, { qf.items[1].lnum, qf.items[1].col })
  contains(qf.items[1].text, "beta")
  eq(dir .. "/a.py", vim.api.nvim_buf_get_name(qf.items[2].bufnr))
  eq("qf", vim.bo[vim.api.nvim_get_current_buf()].filetype, "the quickfix window opened")
  vim.cmd("cclose")
end)

test("show_results with the select picker jumps to the chosen result", function()
  local dir = tempdir()
  write(dir .. "/c.py", { "x = 1", "", "def gamma():", "    pass" })
  local range = { start = { line = 2, character = 4 }, ["end"] = { line = 2, character = 9 } }
  local r = result({ name = "gamma", location = { uri = vim.uri_from_fname(dir .. "/c.py"), range = range },
    selectionRange = range })
  local real_select = vim.ui.select
  local shown
  vim.ui.select = function(items, opts, on_choice)
    shown = opts.format_item(items[1])
    on_choice(items[1])
  end
  quiver.show_results({ results = { r }, partial = false }, "Quiver: gamma", "select")
  vim.ui.select = real_select
  contains(shown, "gamma  ")
  eq(dir .. "/c.py", vim.api.nvim_buf_get_name(0))
  eq({ 3, 4 }, vim.api.nvim_win_get_cursor(0))
end)

test(":checkhealth quiver reports a missing server with the fix", function()
  local dir = tempdir()
  local real_path = vim.env.PATH
  vim.env.PATH = dir
  vim.cmd("silent checkhealth quiver")
  vim.env.PATH = real_path
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), "\n")
  contains(text, "quiver: server")
  contains(text, "`quiver` was not found")
  contains(text, "Install the server: `" .. util.install_command(util.checkout_root()) .. "`")
  contains(text, "No Quiver server is running")
end)

H.run()
