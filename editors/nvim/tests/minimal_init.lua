-- Minimal init for the plugin's tests: `nvim --headless --clean -u minimal_init.lua`.
-- Puts editors/nvim (this file's grandparent) and its tests/ folder on the
-- runtime path and Lua path, and nothing else.
local here = vim.fs.dirname(vim.fn.fnamemodify(debug.getinfo(1, "S").source:sub(2), ":p"))
local plugin_root = vim.fs.dirname(here)
vim.opt.runtimepath:prepend(plugin_root)
package.path = ("%s/?.lua;%s"):format(here, package.path)
vim.opt.swapfile = false
vim.opt.shadafile = "NONE"
