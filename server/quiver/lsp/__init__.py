"""The language server: pygls handlers that translate LSP to the engine and back, nothing more."""
