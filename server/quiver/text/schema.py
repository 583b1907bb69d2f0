"""The Tantivy schema of the symbol index and the symbol ⇄ document conversion.

One Tantivy document per symbol. Three groups of fields:

* **Searched words** (``name``, ``qualified``, ``signature``, ``doc``, ``body``,
  ``path_words``): the text cut by :func:`quiver.text.tokenize.word_text`,
  then lower-cased and English-stemmed by Tantivy's built-in ``en_stem``
  analyzer. Built-in on purpose: any process that opens the index (another
  server, a debugging script) analyses it the same way without registering
  anything. Term frequencies are kept for BM25; positions are not (no phrase
  queries), which keeps the index smaller.
* **Exact terms** (``name_exact``, ``name_case``, ``qualified_suffix``,
  ``path``, ``path_dirs``, ``path_segments``, ``path_extensions``,
  ``language``, ``kind``, ``symbol_id``, ``cluster_id``): whole values for
  exact-name ranking, deletes and filters (path globs become term lookups). ``symbol_id`` and
  ``cluster_id`` are also FAST (columnar) fields, so hits are mapped to ids
  without touching the document store.
* **The stored symbol** (``symbol``): the whole :class:`quiver.symbols.Symbol`
  as compact JSON in one stored bytes field, so a document can be rebuilt
  (``reassign_clusters``) and a symbol read back without the engine's table.

Changing any field, analyzer or the word splitting changes what is on disk:
bump :data:`TEXT_FORMAT_VERSION`, and old indexes are refused with
:class:`quiver.errors.IndexFormatError` instead of answering wrongly.
"""

from __future__ import annotations

import json
from typing import Any, Final

import tantivy

from quiver.ids import ClusterId, SymbolId
from quiver.symbols import Position, Range, Symbol, SymbolKind
from quiver.text.pathglob import path_terms
from quiver.text.tokenize import normalise_qualified, word_text

#: Version of the on-disk text index (schema, analyzers, word splitting, stored encoding).
TEXT_FORMAT_VERSION: Final = 1

#: Largest symbol id a document can carry (the field is an unsigned 64-bit integer).
MAX_SYMBOL_ID: Final = 2**64 - 1
#: Cluster ids are signed 64-bit so the engine may use a negative sentinel
#: (e.g. -1 for "not clustered yet") and still filter on it.
MIN_CLUSTER_ID: Final = -(2**63)
MAX_CLUSTER_ID: Final = 2**63 - 1

#: Only the head of a body excerpt is indexed: it bounds the indexing cost of a
#: huge function; the whole excerpt is still stored.
MAX_INDEXED_BODY_CHARS: Final = 2000

# Field names (one place, so a typo is a NameError, not an empty result).
SYMBOL_ID: Final = "symbol_id"
CLUSTER_ID: Final = "cluster_id"
KIND: Final = "kind"
LANGUAGE: Final = "language"
PATH: Final = "path"
PATH_DIRS: Final = "path_dirs"
PATH_SEGMENTS: Final = "path_segments"
PATH_EXTENSIONS: Final = "path_extensions"
NAME_EXACT: Final = "name_exact"
NAME_CASE: Final = "name_case"
QUALIFIED_SUFFIX: Final = "qualified_suffix"
NAME: Final = "name"
QUALIFIED: Final = "qualified"
SIGNATURE: Final = "signature"
DOC: Final = "doc"
BODY: Final = "body"
PATH_WORDS: Final = "path_words"
STORED_SYMBOL: Final = "symbol"

#: The analyzer of the searched-word fields; :func:`word_analyzer` mirrors it.
WORD_TOKENIZER: Final = "en_stem"
#: Fields searched word by word, each with its BM25 boost: a word in the
#: name counts most, one in the body least.
WORD_FIELD_BOOSTS: Final[dict[str, float]] = {
    NAME: 6.0,
    QUALIFIED: 2.5,
    SIGNATURE: 1.5,
    DOC: 1.0,
    PATH_WORDS: 0.5,
    BODY: 0.3,
}


def build_schema() -> tantivy.Schema:
    """The schema every text index of this format version has."""
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field(SYMBOL_ID, indexed=True, fast=True)
    builder.add_integer_field(CLUSTER_ID, indexed=True, fast=True)
    builder.add_unsigned_field(KIND, indexed=True)
    exact_fields = (
        LANGUAGE,
        PATH,
        PATH_DIRS,
        PATH_SEGMENTS,
        PATH_EXTENSIONS,
        NAME_EXACT,
        NAME_CASE,
        QUALIFIED_SUFFIX,
    )
    for exact in exact_fields:
        builder.add_text_field(exact, tokenizer_name="raw", index_option="basic")
    for words in WORD_FIELD_BOOSTS:
        builder.add_text_field(words, tokenizer_name=WORD_TOKENIZER, index_option="freq")
    builder.add_bytes_field(STORED_SYMBOL, stored=True, indexed=False)
    return builder.build()


def word_analyzer() -> tantivy.TextAnalyzer:
    """A Python-side copy of Tantivy's built-in ``en_stem`` analyzer.

    Query words go through it so they become exactly the terms indexed
    (same tokenizer, same 40-byte cap, same lower-casing and stemmer).
    """
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


def qualified_suffixes(symbol: Symbol) -> list[str]:
    """The dotted tails of the qualified name that are longer than the bare name.

    ``pkg.mod.Client.get`` gives ``client.get``, ``mod.client.get`` and
    ``pkg.mod.client.get`` (lower-case), so a query ``Client.get`` or
    ``Client::get`` is an exact hit whatever the module path is.
    """
    if not symbol.container:
        return []
    parts = [part for part in normalise_qualified(symbol.container).split(".") if part]
    name = symbol.name.lower()
    return [".".join([*parts[start:], name]) for start in range(len(parts) - 1, -1, -1)]


def to_document(symbol_id: SymbolId, cluster_id: ClusterId, symbol: Symbol) -> tantivy.Document:
    """The Tantivy document of one symbol (all fields derived from ``symbol``).

    Raises ``ValueError`` for an id outside the field's range: that is a bug
    in the caller, not bad user input.
    """
    if not 0 <= symbol_id <= MAX_SYMBOL_ID:
        raise ValueError(f"symbol id {symbol_id} is outside 0..2**64-1")
    if not MIN_CLUSTER_ID <= cluster_id <= MAX_CLUSTER_ID:
        raise ValueError(f"cluster id {cluster_id} is outside the signed 64-bit range")
    document = tantivy.Document()
    document.add_unsigned(SYMBOL_ID, symbol_id)
    document.add_integer(CLUSTER_ID, cluster_id)
    document.add_unsigned(KIND, int(symbol.kind))
    document.add_text(LANGUAGE, valid_text(symbol.language.lower()))
    path = valid_text(symbol.path)
    document.add_text(PATH, path)
    directories, segments, extensions = path_terms(path)
    for directory in directories:
        document.add_text(PATH_DIRS, directory)
    for segment in segments:
        document.add_text(PATH_SEGMENTS, segment)
    for extension in extensions:
        document.add_text(PATH_EXTENSIONS, extension)
    document.add_text(NAME_EXACT, valid_text(symbol.name.lower()))
    document.add_text(NAME_CASE, valid_text(symbol.name))
    for suffix in qualified_suffixes(symbol):
        document.add_text(QUALIFIED_SUFFIX, valid_text(suffix))
    # word_text keeps only letters and digits, so its output is always valid UTF-8.
    document.add_text(NAME, word_text(symbol.name))
    document.add_text(QUALIFIED, word_text(symbol.qualified_name))
    document.add_text(SIGNATURE, word_text(symbol.signature))
    document.add_text(DOC, word_text(symbol.doc))
    document.add_text(BODY, word_text(symbol.body[:MAX_INDEXED_BODY_CHARS]))
    document.add_text(PATH_WORDS, word_text(symbol.path))
    document.add_bytes(STORED_SYMBOL, encode_symbol(symbol))
    return document


def valid_text(text: str) -> str:
    """``text`` with lone surrogates (from undecodable file names or bytes) replaced.

    Tantivy takes only valid UTF-8; ASCII text, the common case, is returned as is.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def encode_symbol(symbol: Symbol) -> bytes:
    """The compact stored form of a symbol (a JSON array, UTF-8)."""
    record: list[Any] = [
        symbol.name,
        int(symbol.kind),
        symbol.container,
        symbol.signature,
        symbol.doc,
        _range_list(symbol.range),
        _range_list(symbol.selection_range),
        symbol.language,
        symbol.path,
        symbol.body,
        symbol.content_hash,
    ]
    # surrogatepass: a lone surrogate in a source file must not make the symbol unstorable.
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "surrogatepass"
    )


def decode_symbol(data: bytes) -> Symbol:
    """The symbol back from :func:`encode_symbol`'s bytes."""
    (
        name,
        kind,
        container,
        signature,
        doc,
        symbol_range,
        selection_range,
        language,
        path,
        body,
        digest,
    ) = json.loads(data.decode("utf-8", "surrogatepass"))
    return Symbol(
        name=name,
        kind=SymbolKind(kind),
        container=container,
        signature=signature,
        doc=doc,
        range=_range_from_list(symbol_range),
        selection_range=_range_from_list(selection_range),
        language=language,
        path=path,
        body=body,
        content_hash=digest,
    )


def _range_list(span: Range) -> list[int]:
    return [span.start.line, span.start.character, span.end.line, span.end.character]


def _range_from_list(values: list[int]) -> Range:
    start_line, start_character, end_line, end_character = values
    return Range(Position(start_line, start_character), Position(end_line, end_character))
