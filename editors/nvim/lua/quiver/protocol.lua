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

---The largest `limit` the server accepts.
M.max_limit = 200

---LSP error codes the server uses.
M.errors = {
  invalid_params = -32602,
  request_failed = -32803,
  request_cancelled = -32800,
}

---The oldest server that implements the protocol as this plugin uses it.
M.min_server_version = "0.1.0"

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
