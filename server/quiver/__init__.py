"""Quiver: semantic code search and fast workspace-symbol search for any LSP editor.

The core (``parse``, ``embed``, ``ivf``, ``store``, ``text``, ``engine``) never
imports pygls or lsprotocol; ``quiver.lsp`` is the only layer that speaks LSP.
"""

__version__ = "0.1.0"
