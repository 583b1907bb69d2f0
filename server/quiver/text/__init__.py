"""Text stage of the pipeline: the Tantivy index of symbols (BM25, exact names, filters).

``DocumentIndex`` is the entry point; ``identifier_words`` is the word splitter
it uses, shared with anyone who needs the same notion of a word.
"""

from quiver.text.index import DocumentIndex, TextDocument
from quiver.text.pathglob import compile_path_glob, path_matches
from quiver.text.searching import TextHit
from quiver.text.tokenize import identifier_words

__all__ = [
    "DocumentIndex",
    "TextDocument",
    "TextHit",
    "compile_path_glob",
    "identifier_words",
    "path_matches",
]
