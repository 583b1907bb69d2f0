"""Embedding models (loaded offline) and the text a symbol is embedded from."""
