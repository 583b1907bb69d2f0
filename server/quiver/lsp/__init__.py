"""lsp stage of the pipeline."""
