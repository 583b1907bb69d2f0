---Telescope pickers for Quiver (loaded by `require("telescope").load_extension("quiver")`):
---
---  :Telescope quiver            live semantic search as you type
---  :Telescope quiver similar    code similar to the symbol under the cursor
---
---The server ranks the results, so the live picker keeps its order and only
---highlights the prompt.
local has_telescope, telescope = pcall(require, "telescope")
if not has_telescope then
  error("Quiver's Telescope extension needs nvim-telescope/telescope.nvim")
end

local actions = require("telescope.actions")
local action_state = require("telescope.actions.state")
local conf = require("telescope.config").values
local finders = require("telescope.finders")
local pickers = require("telescope.pickers")
local sorters = require("telescope.sorters")

local config = require("quiver.config")
local protocol = require("quiver.protocol")
local quiver = require("quiver")
local util = require("quiver.util")

local extension_opts = {}

local function root_dir()
  local client = quiver.get_client(0)
  return client and client.root_dir or nil
end

---Telescope entries carry the quickfix position so the default actions and
---the quickfix previewer work unchanged.
local function entry_maker(root)
  local get_line = util.line_reader()
  return function(result)
    local item = util.result_to_qf_item(result, get_line)
    return {
      value = result,
      display = util.select_label(result, root),
      ordinal = result.name .. " " .. item.filename,
      filename = item.filename,
      lnum = item.lnum,
      col = item.col,
      text = item.text,
    }
  end
end

local function attach_mappings(prompt_bufnr)
  actions.select_default:replace(function()
    local entry = action_state.get_selected_entry()
    actions.close(prompt_bufnr)
    if entry ~= nil then
      quiver.jump(entry.value)
    end
  end)
  return true
end

---Live search: every prompt change asks quiver/search (mode and limit from
---setup(), or `opts.mode` / `opts.limit`).
local function search(opts)
  opts = vim.tbl_extend("force", extension_opts, opts or {})
  if quiver.get_client(0) == nil then
    vim.notify("Quiver: no Quiver server is running.\nSuggestion: open a file inside a project first.", vim.log.levels.ERROR)
    return
  end
  local mode = opts.mode or config.options.mode
  local limit = tonumber(opts.limit) or config.options.limit
  pickers
    .new(opts, {
      prompt_title = ("Quiver search (%s)"):format(mode),
      finder = finders.new_dynamic({
        fn = function(prompt)
          if prompt == nil or vim.trim(prompt) == "" then
            return {}
          end
          local response = quiver.request_sync(protocol.methods.search, { query = prompt, mode = mode, limit = limit }, 3000)
          return response and response.results or {}
        end,
        entry_maker = entry_maker(root_dir()),
      }),
      previewer = conf.qflist_previewer(opts),
      sorter = sorters.highlighter_only(opts),
      attach_mappings = attach_mappings,
    })
    :find()
end

---A static picker over one answer (used by :QuiverSearch with picker = "telescope").
local function results(response, title, opts)
  opts = vim.tbl_extend("force", extension_opts, opts or {})
  pickers
    .new(opts, {
      prompt_title = title or "Quiver",
      finder = finders.new_table({ results = response.results or {}, entry_maker = entry_maker(root_dir()) }),
      previewer = conf.qflist_previewer(opts),
      sorter = conf.generic_sorter(opts),
      attach_mappings = attach_mappings,
    })
    :find()
end

local function similar(opts)
  local client = quiver.get_client(0)
  if client == nil then
    vim.notify("Quiver: no Quiver server is running.", vim.log.levels.ERROR)
    return
  end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  params.limit = tonumber((opts or {}).limit) or config.options.limit
  local response, err = quiver.request_sync(protocol.methods.similar, params, 5000)
  if response == nil then
    vim.notify("Quiver: " .. tostring(err), vim.log.levels.WARN)
    return
  end
  results(response, "Quiver: similar to " .. vim.fn.expand("<cword>"), opts)
end

return telescope.register_extension({
  setup = function(ext_config)
    extension_opts = ext_config or {}
  end,
  exports = {
    quiver = search,
    search = search,
    similar = similar,
    results = results,
  },
})
