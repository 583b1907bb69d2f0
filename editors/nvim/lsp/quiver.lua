-- Neovim 0.11+ native configuration: with editors/nvim on 'runtimepath',
-- `vim.lsp.enable("quiver")` starts the server without calling setup().
-- (setup() adds the :Quiver* commands; use setup({ autostart = false }) to get
-- the commands while vim.lsp.enable or nvim-lspconfig starts the server.)
---@type vim.lsp.Config
return {
  cmd = { "quiver", "serve", "--stdio" },
  root_markers = require("quiver.util").default_root_markers,
  init_options = vim.empty_dict(),
}
