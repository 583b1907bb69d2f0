---Pure helpers of the Quiver plugin: argument parsing, result conversion,
---root detection, server command and version handling, status text.
---Nothing here talks to a server, so tests/unit_spec.lua covers it all.
local protocol = require("quiver.protocol")

local M = {}

---Lower-case names of LSP SymbolKind 1..26.
local KIND_NAMES = {
  "file", "module", "namespace", "package", "class", "method", "property", "field",
  "constructor", "enum", "interface", "function", "variable", "constant", "string",
  "number", "boolean", "array", "object", "key", "null", "enum member", "struct",
  "event", "operator", "type parameter",
}

---@param kind integer LSP SymbolKind
---@return string name "function"; "symbol" for an unknown kind
function M.kind_name(kind)
  return KIND_NAMES[kind] or "symbol"
end

-- ---------------------------------------------------------------------------
-- :QuiverSearch arguments

local LIST_OPTIONS = { kind = "kinds", lang = "languages", path = "paths" }

---Parses `:QuiverSearch` arguments: `--mode=M`, `--limit=N`, `--kind=K`,
---`--lang=L`, `--path=GLOB` (the last three repeatable or comma-separated),
---and the remaining words as the query. `--` ends the options.
---A `--limit` above `defaults.max_limit` (default protocol.max_limit) is lowered to it.
---@param fargs string[] the command's words
---@param defaults? { mode?: string, limit?: integer, max_limit?: integer }
---@return quiver.SearchParams|nil params
---@return string|nil err a message ending with a Suggestion line
function M.parse_search_args(fargs, defaults)
  defaults = defaults or {}
  local params = { mode = defaults.mode, limit = defaults.limit }
  local words = {}
  local options_done = false
  for _, arg in ipairs(fargs) do
    if options_done or arg:sub(1, 2) ~= "--" then
      table.insert(words, arg)
    elseif arg == "--" then
      options_done = true
    else
      local name, value = arg:match("^%-%-([%w_-]+)=(.*)$")
      if name == nil then
        return nil,
          ("Option %s needs a value.\nSuggestion: write it as --name=value, e.g. --mode=semantic."):format(arg)
      end
      if name == "mode" then
        if not vim.tbl_contains(protocol.modes, value) then
          return nil,
            ("Unknown search mode %q.\nSuggestion: use one of %s."):format(
              value,
              table.concat(protocol.modes, ", ")
            )
        end
        params.mode = value
      elseif name == "limit" then
        local limit = tonumber(value)
        if limit == nil or limit < 1 or limit ~= math.floor(limit) then
          return nil, ("The limit %q is not a positive whole number.\nSuggestion: e.g. --limit=20."):format(value)
        end
        params.limit = math.min(limit, defaults.max_limit or protocol.max_limit)
      elseif LIST_OPTIONS[name] ~= nil then
        local key = LIST_OPTIONS[name]
        params[key] = params[key] or {}
        for item in value:gmatch("[^,]+") do
          table.insert(params[key], vim.trim(item))
        end
      else
        return nil,
          ("Unknown option --%s.\nSuggestion: use --mode, --limit, --kind, --lang or --path."):format(name)
      end
    end
  end
  params.query = vim.trim(table.concat(words, " "))
  if params.query == "" then
    return nil, "The query is empty.\nSuggestion: type a few words or a symbol name, e.g. :QuiverSearch retry failed requests."
  end
  return params, nil
end

-- ---------------------------------------------------------------------------
-- Positions and quickfix items

---Converts a UTF-16 code-unit column (LSP's default encoding) to a 0-based
---byte column of `line`. Columns past the end clamp to the line's length.
---@param line string
---@param utf16_col integer
---@return integer
function M.utf16_to_byte(line, utf16_col)
  local units, byte = 0, 1
  local len = #line
  while byte <= len and units < utf16_col do
    local c = line:byte(byte)
    local width
    if c < 0x80 then
      width = 1
    elseif c >= 0xF0 then
      width = 4
    elseif c >= 0xE0 then
      width = 3
    elseif c >= 0xC0 then
      width = 2
    else
      width = 1 -- a stray continuation byte counts as one unit, like Neovim does
    end
    -- Characters outside the Basic Multilingual Plane take two UTF-16 units.
    units = units + (width == 4 and 2 or 1)
    byte = byte + width
  end
  return math.min(byte - 1, len)
end

---@param result quiver.SearchResult
---@return string text one line for the quickfix list: `[kind] container.name: signature`
function M.result_text(result)
  local name = result.name
  if result.containerName ~= nil and result.containerName ~= "" then
    name = result.containerName .. "." .. result.name
  end
  local text = ("[%s] %s"):format(M.kind_name(result.kind), name)
  local signature = vim.trim(result.signature or "")
  if signature ~= "" then
    text = text .. ": " .. signature
  end
  return text
end

---Turns one search result into a quickfix item at the symbol's name.
---@param result quiver.SearchResult
---@param get_line fun(filename: string, lnum: integer): string|nil the 1-based line's text, for UTF-16 → byte columns
---@return table item for setqflist(); `user_data` is the result itself
function M.result_to_qf_item(result, get_line)
  local filename = vim.uri_to_fname(result.location.uri)
  local range = result.selectionRange or result.location.range
  local lnum = range.start.line + 1
  local end_lnum = range["end"].line + 1
  local col, end_col = range.start.character, range["end"].character
  local line = (col > 0) and get_line(filename, lnum) or nil
  if line ~= nil then
    col = M.utf16_to_byte(line, col)
  end
  local end_line = end_lnum == lnum and line or get_line(filename, end_lnum)
  if end_line ~= nil then
    end_col = M.utf16_to_byte(end_line, end_col)
  end
  return {
    filename = filename,
    lnum = lnum,
    col = col + 1,
    end_lnum = end_lnum,
    end_col = end_col + 1,
    text = M.result_text(result),
    user_data = result,
  }
end

---A line reader that reads each file at most once, preferring a loaded
---buffer's text (which may be newer than the disk).
---@return fun(filename: string, lnum: integer): string|nil
function M.line_reader()
  local cache = {}
  return function(filename, lnum)
    local lines = cache[filename]
    if lines == nil then
      local bufnr = vim.fn.bufnr(filename)
      if bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr) then
        lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
      else
        local ok, read = pcall(vim.fn.readfile, filename)
        lines = ok and read or {}
      end
      cache[filename] = lines
    end
    return lines[lnum]
  end
end

---Quickfix items for all results, in the server's ranking order.
---@param results quiver.SearchResult[]
---@param get_line? fun(filename: string, lnum: integer): string|nil
---@return table[]
function M.results_to_qf_items(results, get_line)
  get_line = get_line or M.line_reader()
  local items = {}
  for _, result in ipairs(results) do
    table.insert(items, M.result_to_qf_item(result, get_line))
  end
  return items
end

---One line for vim.ui.select: `name  path:line  [kind]`.
---@param result quiver.SearchResult
---@param root? string shown paths are relative to it
---@return string
function M.select_label(result, root)
  local path = vim.uri_to_fname(result.location.uri)
  if root ~= nil and path:sub(1, #root + 1) == root .. "/" then
    path = path:sub(#root + 2)
  end
  local line = (result.selectionRange or result.location.range).start.line + 1
  return ("%s  %s:%d  [%s]"):format(result.name, path, line, M.kind_name(result.kind))
end

-- ---------------------------------------------------------------------------
-- Buffers and roots

M.default_root_markers = {
  ".git", ".hg", ".svn", "pyproject.toml", "setup.py", "setup.cfg", "package.json",
  "Cargo.toml", "go.mod", "pom.xml", "build.gradle", "build.gradle.kts", "composer.json",
  "Gemfile", "CMakeLists.txt", "Makefile",
}

---Whether a buffer is a file on disk worth indexing (not a terminal, help,
---quickfix or `scheme://` buffer).
---@param name string the buffer name
---@param buftype string the buffer's 'buftype'
---@return boolean
function M.is_file_buffer(name, buftype)
  return buftype == "" and name ~= "" and not name:match("^%a[%w+.-]*://")
end

---The project root for `path`: the nearest directory upward that contains
---one of `markers`; the file's own directory when none does.
---@param path string absolute path of a file
---@param markers string[]
---@return string root an absolute directory
function M.find_root(path, markers)
  local start = vim.fs.dirname(vim.fs.normalize(path))
  local found = vim.fs.find(markers, { path = start, upward = true, limit = 1 })[1]
  if found ~= nil then
    return vim.fs.dirname(found)
  end
  return start
end

-- ---------------------------------------------------------------------------
-- Server command and version

---The command that starts the server: `cmd`, else `server_path serve
-----stdio`, else `python_path -m quiver serve --stdio`, else `quiver` on PATH.
---@param opts { cmd?: string[], server_path?: string, python_path?: string }
---@return string[]
function M.server_cmd(opts)
  if opts.cmd ~= nil then
    return vim.deepcopy(opts.cmd)
  end
  if opts.server_path ~= nil and opts.server_path ~= "" then
    return { vim.fs.normalize(opts.server_path), "serve", "--stdio" }
  end
  if opts.python_path ~= nil and opts.python_path ~= "" then
    return { vim.fs.normalize(opts.python_path), "-m", "quiver", "serve", "--stdio" }
  end
  return { "quiver", "serve", "--stdio" }
end

---A word a POSIX shell takes as it is, else single-quoted.
local function shell_word(word)
  if word:match("^[%w%./_~:@%%+=,-]+$") then
    return word
  end
  return vim.fn.shellescape(word)
end

---The Quiver checkout this plugin runs from (it is `editors/nvim` there): the folder
---four levels above `plugin_file` (default: this file) whose pyproject.toml names
---quiver-lsp; nil when the plugin was copied elsewhere.
---@param plugin_file? string `.../editors/nvim/lua/quiver/util.lua`
---@return string|nil root
function M.checkout_root(plugin_file)
  plugin_file = plugin_file or debug.getinfo(1, "S").source:sub(2)
  local root = vim.fn.fnamemodify(plugin_file, ":p:h:h:h:h:h")
  local ok, lines = pcall(vim.fn.readfile, root .. "/pyproject.toml", "", 40)
  if ok and vim.tbl_contains(lines, 'name = "quiver-lsp"') then
    return vim.fs.normalize(root)
  end
  return nil
end

---The shell command that installs the server (`upgrade`: over an older one): pipx
---with the wheel `make dist` built in the checkout `root`, else `make dist` there
---first, else (no checkout known) the command to run in one.
---@param root? string a Quiver checkout (`checkout_root()`)
---@param upgrade? boolean
---@return string
function M.install_command(root, upgrade)
  local force = upgrade and "--force " or ""
  local wheel_glob = "dist/quiver_lsp-*-py3-none-any.whl"
  if root == nil then
    return ("make dist && pipx install %s%s"):format(force, wheel_glob)
  end
  local wheels = vim.fn.glob(root .. "/" .. wheel_glob, false, true)
  table.sort(wheels, function(a, b)
    return M.compare_versions(M.parse_version(vim.fs.basename(a)) or "0", M.parse_version(vim.fs.basename(b)) or "0") < 0
  end)
  if #wheels > 0 then
    return ("pipx install %s%s"):format(force, shell_word(wheels[#wheels]))
  end
  return ("cd %s && make dist && pipx install %s%s"):format(shell_word(root), force, wheel_glob)
end

---`install_command` in backquotes, for a message; says where to run it when no checkout is known.
---@param root? string
---@param upgrade? boolean
---@return string
function M.install_hint(root, upgrade)
  local hint = "`" .. M.install_command(root, upgrade) .. "`"
  return root == nil and hint .. " in a Quiver checkout" or hint
end

---The command that prints the server's version: the server command with
---`serve ...` replaced by `--version`; nil when there is no `serve` word.
---@param cmd string[]
---@return string[]|nil
function M.version_cmd(cmd)
  for i, word in ipairs(cmd) do
    if word == "serve" then
      local version = vim.list_slice(cmd, 1, i - 1)
      table.insert(version, "--version")
      return version
    end
  end
  return nil
end

---What is wrong with the version a server names in its `initialize` answer:
---nil when `server_info.version` is `min_version` or newer; else the message
---to show and its level (too old: a warning; no version: an error).
---@param server_info? { name: string, version?: string } `serverInfo`
---@param min_version string
---@return string|nil message
---@return integer|nil level
function M.server_version_problem(server_info, min_version)
  local version = M.parse_version(server_info and server_info.version or "")
  if version == nil then
    return ("Quiver: the server named no version in its initialize answer (serverInfo: %s).\n"
      .. "Suggestion: install Quiver with %s, "
      .. "or set cmd / server_path / python_path in setup()."):format(vim.inspect(server_info), M.install_hint(M.checkout_root())),
      vim.log.levels.ERROR
  end
  if M.compare_versions(version, min_version) < 0 then
    return ("Quiver: the server is version %s; this plugin needs %s or newer.\n"
      .. "Suggestion: upgrade it with %s."):format(version, min_version, M.install_hint(M.checkout_root(), true)),
      vim.log.levels.WARN
  end
  return nil, nil
end

---@param output string e.g. "quiver 0.1.0"
---@return string|nil version "0.1.0"
function M.parse_version(output)
  local major, minor, patch = output:match("(%d+)%.(%d+)%.?(%d*)")
  if major == nil then
    return nil
  end
  return ("%s.%s.%s"):format(major, minor, patch ~= "" and patch or "0")
end

---@return integer negative, zero or positive, like a comparator
function M.compare_versions(a, b)
  local pa, pb = vim.split(a, ".", { plain = true }), vim.split(b, ".", { plain = true })
  for i = 1, math.max(#pa, #pb) do
    local diff = (tonumber(pa[i]) or 0) - (tonumber(pb[i]) or 0)
    if diff ~= 0 then
      return diff
    end
  end
  return 0
end

---The `initializationOptions` for the server; unset options are left out so
---the server keeps its defaults (and an empty list is never sent as `{}`).
---@param opts { cache_dir?: string, exclude?: string[], limit?: integer, mode?: string }
---@return table
function M.init_options(opts)
  local init = {}
  if opts.cache_dir ~= nil and opts.cache_dir ~= "" then
    init.cacheDir = vim.fs.normalize(opts.cache_dir)
  end
  if opts.exclude ~= nil and #opts.exclude > 0 then
    init.exclude = opts.exclude
  end
  local search = {}
  if opts.limit ~= nil then
    search.limit = opts.limit
  end
  if opts.mode ~= nil then
    search.mode = opts.mode
  end
  if next(search) ~= nil then
    init.search = search
  end
  return init
end

---What this Neovim lacks for the plugin, empty when it is 0.10+.
---@return string[]
function M.missing_features()
  local missing = {}
  if vim.fn.has("nvim-0.10") ~= 1 then
    table.insert(missing, "Neovim 0.10 or newer (this is " .. tostring(vim.version()) .. ")")
  end
  if vim.lsp == nil or vim.lsp.start == nil then
    table.insert(missing, "vim.lsp.start()")
  end
  if vim.lsp == nil or vim.lsp.get_clients == nil then
    table.insert(missing, "vim.lsp.get_clients()")
  end
  if vim.system == nil then
    table.insert(missing, "vim.system()")
  end
  if vim.fs == nil or vim.fs.find == nil then
    table.insert(missing, "vim.fs.find()")
  end
  return missing
end

-- ---------------------------------------------------------------------------
-- Status and progress text

---`31204` → `31,204`.
function M.format_count(n)
  local s = tostring(math.floor(n or 0))
  local sign, digits = s:match("^(-?)(%d+)$")
  if digits == nil then
    return s
  end
  local grouped = digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return sign .. grouped
end

---`1536` → `1.5 KiB`.
function M.format_bytes(bytes)
  local units = { "B", "KiB", "MiB", "GiB", "TiB" }
  local value, unit = bytes or 0, 1
  while value >= 1024 and unit < #units do
    value = value / 1024
    unit = unit + 1
  end
  if unit == 1 then
    return ("%d B"):format(value)
  end
  return ("%.1f %s"):format(value, units[unit])
end

---The lines `:QuiverStatus` and `:checkhealth quiver` show for a status answer.
---@param status quiver.StatusResponse
---@return string[]
function M.status_lines(status)
  local state = status.state
  if status.message ~= nil and status.message ~= "" then
    state = state .. " — " .. status.message
  end
  local folders = {}
  for _, uri in ipairs(status.workspaceFolders or {}) do
    table.insert(folders, vim.uri_to_fname(uri))
  end
  local model = status.model or {}
  return {
    "State: " .. state,
    ("Files: %s of %s indexed"):format(M.format_count(status.filesIndexed), M.format_count(status.files)),
    "Symbols: " .. M.format_count(status.symbols),
    "Index generation: " .. tostring(status.generation),
    "Role: " .. (status.role == "writer" and "writer (updates the shared cache)"
      or "reader (another Quiver process updates the cache)"),
    ("Model: %s (%s dimensions)"):format(tostring(model.id), tostring(model.dim)),
    ("Cache: %s (%s)"):format(tostring(status.cacheDir), M.format_bytes(status.diskBytes)),
    "Last update: " .. ((status.lastUpdate ~= nil and status.lastUpdate ~= vim.NIL) and status.lastUpdate or "never"),
    "Workspace folders: " .. (#folders > 0 and table.concat(folders, ", ") or "none"),
  }
end

---One line for a work-done progress value: `Quiver: Indexing 120/2,000 files (6%)`.
---@param value { kind: string, title?: string, message?: string, percentage?: number }
---@param title? string the title from the matching "begin", for "report" values
---@return string
function M.progress_message(value, title)
  local parts = { "Quiver:", value.title or title or "Indexing" }
  if value.kind == "end" then
    return "Quiver: " .. (value.message or "index ready")
  end
  if value.message ~= nil and value.message ~= "" then
    table.insert(parts, value.message)
  end
  if value.percentage ~= nil then
    table.insert(parts, ("(%d%%)"):format(value.percentage))
  end
  return table.concat(parts, " ")
end

return M
