---A STUB of telescope.nvim for the tests — not Telescope. telescope.nvim is
---a git repository (no PyPI or npm package), so it cannot be installed here.
---
---This provides only the API surface lua/telescope/_extensions/quiver.lua
---uses, with the contracts telescope.nvim documents, and records every call:
---
---  telescope             register_extension(ext) → ext; load_extension(name);
---                        extensions.<name> (loads on first access, as
---                        telescope's extension manager does: require
---                        "telescope._extensions.<name>", call ext.setup(config,
---                        values), expose ext.exports)
---  telescope.pickers     new(opts, spec) → picker with :find()
---  telescope.finders     new_table({ results, entry_maker }),
---                        new_dynamic({ fn, entry_maker }); a finder is called as
---                        finder(prompt, process_result, process_complete), like
---                        telescope's: new_dynamic calls fn(prompt) and passes
---                        each result through entry_maker to process_result
---  telescope.sorters     highlighter_only(opts)
---  telescope.config      values.qflist_previewer(opts), values.generic_sorter(opts)
---  telescope.actions     select_default:replace(fn), close(prompt_bufnr)
---  telescope.actions.state  get_selected_entry()
---
---What it cannot show: that the real pickers draw, sort, preview or map keys
---as expected, or that the real (coroutine-driven) finder loop copes with the
---extension's synchronous request. Those need telescope.nvim itself.
local M = {}

local MODULES = {
  "telescope",
  "telescope.pickers",
  "telescope.finders",
  "telescope.sorters",
  "telescope.config",
  "telescope.actions",
  "telescope.actions.state",
  "telescope._extensions.quiver",
}

---Installs the stub into package.loaded; returns the record of what the
---extension did with it:
---  pickers      every pickers.new call: { opts, spec, found = bool }
---  closed       prompt buffers passed to actions.close
---  setup_calls  the ext_config each ext.setup got
---  selected     set this to the entry get_selected_entry() returns
function M.install(telescope_config)
  M.uninstall()
  local record = { pickers = {}, closed = {}, setup_calls = {}, selected = nil }

  local values = {
    qflist_previewer = function(opts)
      return { kind = "qflist_previewer", opts = opts }
    end,
    generic_sorter = function(opts)
      return { kind = "generic_sorter", opts = opts }
    end,
  }

  local function finder(kind, fields, find)
    return setmetatable(vim.tbl_extend("force", { kind = kind }, fields), {
      __call = function(self, prompt, process_result, process_complete)
        return find(self, prompt, process_result, process_complete)
      end,
    })
  end

  -- Hands each result (through entry_maker) to Telescope's callback until it says stop.
  local function feed(self, results, process_result, process_complete)
    for _, result in ipairs(results) do
      if process_result(self.entry_maker and self.entry_maker(result) or result) then
        return
      end
    end
    process_complete()
  end

  local finders = {
    new_table = function(t)
      assert(type(t) == "table" and type(t.results) == "table", "new_table needs { results = {...} }")
      return finder("table", { results = t.results, entry_maker = t.entry_maker }, function(self, _, process_result, process_complete)
        feed(self, self.results, process_result, process_complete)
      end)
    end,
    new_dynamic = function(t)
      assert(type(t) == "table" and type(t.fn) == "function", "new_dynamic needs { fn = function(prompt) }")
      assert(t.results == nil, "`results` should be used with finder.new_table")
      return finder("dynamic", { fn = t.fn, entry_maker = t.entry_maker }, function(self, prompt, process_result, process_complete)
        feed(self, self.fn(prompt), process_result, process_complete)
      end)
    end,
  }

  local pickers = {
    new = function(opts, spec)
      local picker = { opts = opts, spec = spec, found = false }
      table.insert(record.pickers, picker)
      return {
        find = function()
          picker.found = true
        end,
      }
    end,
  }

  local sorters = {
    highlighter_only = function(opts)
      return { kind = "highlighter_only", opts = opts }
    end,
  }

  local select_default = { replacement = nil }
  function select_default:replace(fn)
    self.replacement = fn
    return self
  end
  local actions = {
    select_default = select_default,
    close = function(prompt_bufnr)
      table.insert(record.closed, prompt_bufnr)
    end,
  }

  local action_state = {
    get_selected_entry = function()
      return record.selected
    end,
  }

  local extension_config = telescope_config or {}
  local telescope = {}
  function telescope.register_extension(ext)
    return ext
  end
  telescope.extensions = setmetatable({}, {
    __index = function(t, name)
      local ext = require("telescope._extensions." .. name)
      t[name] = ext.exports or {}
      if ext.setup then
        table.insert(record.setup_calls, extension_config[name] or {})
        ext.setup(extension_config[name] or {}, values)
      end
      return t[name]
    end,
  })
  function telescope.load_extension(name)
    return telescope.extensions[name]
  end

  package.loaded["telescope"] = telescope
  package.loaded["telescope.pickers"] = pickers
  package.loaded["telescope.finders"] = finders
  package.loaded["telescope.sorters"] = sorters
  package.loaded["telescope.config"] = { values = values }
  package.loaded["telescope.actions"] = actions
  package.loaded["telescope.actions.state"] = action_state
  record.select_default = select_default
  return record
end

---Removes the stub (and the loaded extension) from package.loaded.
function M.uninstall()
  for _, name in ipairs(MODULES) do
    package.loaded[name] = nil
  end
end

---Runs a finder the way a picker does; returns the entries it produced.
function M.run_finder(finder, prompt)
  local entries, completed = {}, false
  finder(prompt, function(entry)
    table.insert(entries, entry)
  end, function()
    completed = true
  end)
  assert(completed, "the finder did not call process_complete")
  return entries
end

return M
