---Options of require("quiver").setup(), with their defaults and validation.
local util = require("quiver.util")

local M = {}

---@class quiver.Options
---@field cmd? string[] the full server command; wins over server_path/python_path
---@field server_path? string a `quiver` executable
---@field python_path? string an interpreter with Quiver installed (`-m quiver serve --stdio`)
---@field cache_dir? string where the index lives (server default when nil)
---@field exclude? string[] extra glob patterns to leave out of the index
---@field limit? integer results per search (at most 200)
---@field mode? "hybrid"|"semantic"|"text" default search mode
---@field root_markers? string[] files or folders that mark a project root
---@field filetypes? string[] attach only to these filetypes (nil: every file)
---@field autostart? boolean start or attach the server for every file buffer
---@field picker? "quickfix"|"select"|"telescope" where :QuiverSearch shows results
---@field open_quickfix? boolean open the quickfix window after a search
---@field show_progress? boolean echo indexing progress in the command line
---@field on_attach? fun(client: vim.lsp.Client, bufnr: integer)
---@field capabilities? table merged into Neovim's default client capabilities

---@type quiver.Options
M.defaults = {
  cmd = nil,
  server_path = nil,
  python_path = nil,
  cache_dir = nil,
  exclude = {},
  limit = 50,
  mode = "hybrid",
  root_markers = util.default_root_markers,
  filetypes = nil,
  autostart = true,
  picker = "quickfix",
  open_quickfix = true,
  show_progress = true,
  on_attach = nil,
  capabilities = nil,
}

---The Lua type of each option (all are optional).
M.types = {
  cmd = "table",
  server_path = "string",
  python_path = "string",
  cache_dir = "string",
  exclude = "table",
  limit = "number",
  mode = "string",
  root_markers = "table",
  filetypes = "table",
  autostart = "boolean",
  picker = "string",
  open_quickfix = "boolean",
  show_progress = "boolean",
  on_attach = "function",
  capabilities = "table",
}

---@type quiver.Options
M.options = vim.deepcopy(M.defaults)

---Merges `opts` over the defaults after checking their types.
---@param opts? quiver.Options
---@return quiver.Options|nil options
---@return string|nil err a message ending with a Suggestion line
function M.resolve(opts)
  opts = opts or {}
  for name, value in pairs(opts) do
    local expected = M.types[name]
    if expected == nil then
      return nil,
        ("Quiver: unknown setup() option %q.\nSuggestion: see editors/nvim/README.md for the options."):format(name)
    end
    if type(value) ~= expected then
      return nil,
        ("Quiver: setup() option %s must be a %s, not a %s.\nSuggestion: see editors/nvim/README.md."):format(
          name,
          expected,
          type(value)
        )
    end
  end
  local merged = vim.tbl_extend("force", vim.deepcopy(M.defaults), opts)
  if merged.mode ~= nil and not vim.tbl_contains({ "hybrid", "semantic", "text" }, merged.mode) then
    return nil, ("Quiver: unknown mode %q.\nSuggestion: use \"hybrid\", \"semantic\" or \"text\"."):format(merged.mode)
  end
  if not vim.tbl_contains({ "quickfix", "select", "telescope" }, merged.picker) then
    return nil,
      ("Quiver: unknown picker %q.\nSuggestion: use \"quickfix\", \"select\" or \"telescope\"."):format(merged.picker)
  end
  if merged.limit ~= nil and (merged.limit < 1 or merged.limit > 200) then
    return nil, ("Quiver: limit %s is out of range.\nSuggestion: use a number from 1 to 200."):format(merged.limit)
  end
  if merged.cmd ~= nil and (#merged.cmd == 0 or type(merged.cmd[1]) ~= "string") then
    return nil, "Quiver: cmd must be a list of strings.\nSuggestion: e.g. cmd = { \"quiver\", \"serve\", \"--stdio\" }."
  end
  return merged, nil
end

return M
