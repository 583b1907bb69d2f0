---:checkhealth quiver — the server binary and its version (or the exact command
---that installs it), the cache directory, and the index state of every running
---Quiver server.
local config = require("quiver.config")
local protocol = require("quiver.protocol")
local util = require("quiver.util")

local M = {}

local health = vim.health

local function check_neovim()
  local missing = util.missing_features()
  if #missing == 0 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Missing: " .. table.concat(missing, ", "), { "Upgrade to Neovim 0.10 or newer." })
  end
end

---Runs `cmd` and returns its exit code and output; nil code when it could not start.
local function run(cmd, timeout_ms)
  local ok, process = pcall(vim.system, cmd, { text = true })
  if not ok then
    return nil, tostring(process)
  end
  local out = process:wait(timeout_ms)
  return out.code, vim.trim((out.stdout or "") .. (out.stderr or ""))
end

local function check_server(opts)
  local cmd = util.server_cmd(opts)
  health.info("Server command: " .. table.concat(cmd, " "))
  local executable = vim.fn.exepath(cmd[1])
  local root = util.checkout_root()
  if executable == "" then
    health.error(("`%s` was not found."):format(cmd[1]), {
      "Install the server: " .. util.install_hint(root) .. " (pipx puts `quiver` on PATH, in ~/.local/bin).",
      "Or point setup() at one: `cmd`, `server_path` or `python_path`.",
    })
    return
  end
  health.ok("Executable: " .. executable)

  local version_cmd = util.version_cmd(cmd)
  if version_cmd == nil then
    health.info("The command has no `serve` word; skipping the version check.")
    return
  end
  local code, output = run(version_cmd, 30000)
  local version = code == 0 and util.parse_version(output or "") or nil
  if version == nil then
    health.error(("`%s` failed: %s"):format(table.concat(version_cmd, " "), output or "?"), {
      "Run it in a shell to see the error; reinstall Quiver if it does not start.",
    })
    return
  end
  if util.compare_versions(version, protocol.min_server_version) < 0 then
    health.error(
      ("Quiver %s is too old; this plugin needs %s or newer."):format(version, protocol.min_server_version),
      { "Upgrade: " .. util.install_hint(root, true) .. "." }
    )
  else
    health.ok("Quiver " .. version)
  end

  local serve_cmd = vim.list_slice(version_cmd, 1, #version_cmd - 1)
  vim.list_extend(serve_cmd, { "serve", "--help" })
  local serve_code = run(serve_cmd, 30000)
  if serve_code == 0 then
    health.ok("`serve` is available")
  else
    health.error("This Quiver has no working `serve` command.", { "Upgrade: " .. util.install_hint(root, true) .. "." })
  end
end

local function check_cache(opts)
  if opts.cache_dir == nil or opts.cache_dir == "" then
    health.info("Cache directory: the server's default (see the index state below)")
    return
  end
  local dir = vim.fs.normalize(opts.cache_dir)
  if vim.fn.isdirectory(dir) == 1 then
    if vim.fn.filewritable(dir) == 2 then
      health.ok("Cache directory: " .. dir)
    else
      health.error("Cache directory is not writable: " .. dir, { "Fix its permissions or choose another cache_dir." })
    end
  else
    health.info("Cache directory " .. dir .. " does not exist yet; the server creates it.")
  end
end

local function check_clients()
  local clients = vim.lsp.get_clients({ name = "quiver" })
  if #clients == 0 then
    health.info("No Quiver server is running. Open a file inside a project to start one.")
    return
  end
  for _, client in ipairs(clients) do
    health.start(("quiver: client %d, root %s"):format(client.id, client.root_dir or "?"))
    local status, err = require("quiver").request_sync(protocol.methods.status, vim.empty_dict(), 5000, nil, client)
    if status == nil then
      health.error("quiver/status failed: " .. tostring(err))
    else
      local report = status.state == "error" and health.error
        or (status.state == "ready" and health.ok or health.info)
      for i, line in ipairs(util.status_lines(status)) do
        (i == 1 and report or health.info)(line)
      end
    end
  end
end

function M.check()
  health.start("quiver: Neovim")
  check_neovim()
  local opts = config.options
  health.start("quiver: server")
  check_server(opts)
  health.start("quiver: cache")
  check_cache(opts)
  health.start("quiver: index")
  check_clients()
end

return M
