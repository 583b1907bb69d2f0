---The Quiver protocol extensions, mirroring docs/protocol.md (the VS Code
---client declares the same in editors/vscode/src/protocol.ts).
local M = {}

---Request and notification method names.
M.methods = {
  ---SearchParams -> SearchResponse
  search = "quiver/search",
  ---SimilarParams -> SearchResponse
  similar = "quiver/similar",
  ---{} -> StatusResponse
  status = "quiver/status",
  ---{ rebuild?: boolean } -> { started: boolean }
  reindex = "quiver/reindex",
  ---server -> client notification with a StatusResponse body
  status_changed = "quiver/statusChanged",
}

---Search modes, in the order a toggle cycles through them.
M.modes = { "hybrid", "semantic", "text" }

---The largest `limit` a search answers, when the server advertises none (or
---before it answered `initialize`): see M.max_search_limit.
M.max_limit = 200

---LSP error codes the server uses.
M.errors = {
  invalid_params = -32602,
  request_failed = -32803,
  request_cancelled = -32800,
}

---The oldest server that implements the protocol as this plugin uses it,
---compared with the `serverInfo.version` of its `initialize` answer.
M.min_server_version = "0.1.0"

---What the server advertises as `capabilities.experimental.quiver`.
---@class quiver.Capabilities
---@field version integer of the extensions; raised on an incompatible change
---@field requests string[]
---@field notifications string[]
---@field maxSearchLimit integer the largest `limit` a search answers
---@field searchModes string[]

---The largest `limit` a search answers: the one `client`'s server advertises
---(`experimental.quiver.maxSearchLimit`), else M.max_limit.
---@param client? vim.lsp.Client
---@return integer
function M.max_search_limit(client)
  local capabilities = client and client.server_capabilities or nil
  local experimental = type(capabilities) == "table" and capabilities.experimental or nil
  local quiver = type(experimental) == "table" and experimental.quiver or nil
  local limit = type(quiver) == "table" and quiver.maxSearchLimit or nil
  if type(limit) == "number" and limit >= 1 and limit == math.floor(limit) then
    return limit
  end
  return M.max_limit
end

---@class quiver.Range
---@field start { line: integer, character: integer }
---@field ["end"] { line: integer, character: integer }

---@class quiver.SearchParams
---@field query string
---@field mode? "hybrid"|"semantic"|"text"
---@field limit? integer
---@field kinds? string[]
---@field languages? string[]
---@field paths? string[]

---@class quiver.SearchResult
---@field name string
---@field kind integer LSP SymbolKind
---@field containerName string
---@field location { uri: string, range: quiver.Range }
---@field selectionRange quiver.Range
---@field language string
---@field signature string
---@field snippet string
---@field score number
---@field retrievers string[]

---@class quiver.SearchResponse
---@field results quiver.SearchResult[]
---@field partial boolean
---@field generation integer
---@field elapsedMs number

---@class quiver.StatusResponse
---@field state "starting"|"indexing"|"ready"|"error"
---@field message string
---@field role "writer"|"reader"
---@field workspaceFolders string[]
---@field files integer
---@field filesIndexed integer
---@field symbols integer
---@field generation integer
---@field model { id: string, dim: integer }
---@field cacheDir string
---@field diskBytes integer
---@field lastUpdate string|nil

return M
