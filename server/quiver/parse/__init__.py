"""The parse stage: workspace files → symbols, with tree-sitter.

``discover`` finds the source files under a root (asking the folder's
``FileSelector`` which belong), ``read_source`` reads one
safely, ``extract_symbols`` turns bytes into symbols, and ``parse_files``
does all of it for many files across processes.
"""

from quiver.parse.batch import ParsedFile, default_workers, parse_file, parse_files
from quiver.parse.discover import SourceFile, discover, discover_selected
from quiver.parse.extract import extract_symbols
from quiver.parse.languages import (
    SUPPORTED_LANGUAGES,
    UnsupportedLanguageError,
    language_for_path,
    refine_language,
)
from quiver.parse.read import DEFAULT_MAX_FILE_SIZE, SourceSkippedError, read_source
from quiver.parse.selection import EXCLUDED_DIR_NAMES, FileSelector

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "EXCLUDED_DIR_NAMES",
    "SUPPORTED_LANGUAGES",
    "FileSelector",
    "ParsedFile",
    "SourceFile",
    "SourceSkippedError",
    "UnsupportedLanguageError",
    "default_workers",
    "discover",
    "discover_selected",
    "extract_symbols",
    "language_for_path",
    "parse_file",
    "parse_files",
    "read_source",
    "refine_language",
]
