"""The text a symbol is embedded from, and the hash that keys its cached vector.

Every symbol gets a text, documented or not: its kind, its qualified name, the
words of its identifiers (``parseHttpHeader`` → "parse http header", which the
WordPiece tokenizer cannot find on its own), its signature, its doc comment and
the head of its body. The template and the budget were chosen with
``benchmarks/embed_quality.py`` (see ``benchmarks/README.md``, "Embedding").

Bump :data:`SYMBOL_TEXT_VERSION` whenever the text of an unchanged symbol
changes, so an index built from the old texts is re-embedded.
"""

from __future__ import annotations

import hashlib
from enum import Enum

from quiver.embed.model import DEFAULT_MAX_TOKENS
from quiver.symbols import Symbol

#: Changes whenever :func:`symbol_text` would produce another text for the same symbol.
SYMBOL_TEXT_VERSION = 1

#: Characters per WordPiece token are at most ~6 in symbol texts: on the stdlib,
#: reaching 64 / 96 / 128 tokens took at most 364 / 500 / 633 characters.
CHARS_PER_TOKEN_BOUND = 6
#: The default character budget of a symbol's text. The model cuts to its token
#: budget anyway; this bound keeps tokenizing a 5,000-line function cheap, and keeps
#: an edit far below the budget from changing the text hash (and re-embedding a
#: vector that would come out the same).
DEFAULT_MAX_CHARS = CHARS_PER_TOKEN_BOUND * DEFAULT_MAX_TOKENS


class TextTemplate(Enum):
    """Which parts of a symbol go into its text (compared by the quality benchmark)."""

    #: kind, qualified name and the words of the name only.
    NAME = "name"
    #: NAME plus the signature and the doc comment.
    SIGNATURE_DOC = "signature_doc"
    #: SIGNATURE_DOC plus the head of the body (the default).
    FULL = "full"


#: FULL beats SIGNATURE_DOC once the budget leaves room for code (MRR@10 0.621 vs
#: 0.602 at 128 tokens; FULL at 96 tokens 0.611), and with the docs stripped it finds
#: as much or more (MRR@10 0.347 vs 0.330 at 64 tokens): most code is less documented
#: than the stdlib. NAME alone is far behind (0.279).
DEFAULT_TEMPLATE = TextTemplate.FULL


def split_identifier(name: str) -> list[str]:
    """Split an identifier into lower-case words.

    Handles camelCase, PascalCase, acronyms, digits, snake_case, kebab-case and
    dotted paths: ``parseHttpHeader`` → ``["parse", "http", "header"]``,
    ``HTTPServer2`` → ``["http", "server", "2"]``, ``__init__`` → ``["init"]``.
    Works on any Unicode letters (``größeBerechnen`` → ``["größe", "berechnen"]``).
    """
    words: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            words.append("".join(current).lower())
            current.clear()

    count = len(name)
    for index, char in enumerate(name):
        if not char.isalnum():
            flush()
            continue
        if current:
            previous = current[-1]
            next_char = name[index + 1] if index + 1 < count else ""
            starts_word = (
                # letter ↔ digit
                char.isdigit() != previous.isdigit()
                # lower → Upper: parse|Http
                or (char.isupper() and previous.islower())
                # the last capital of an acronym starts the next word: HTTP|Server
                or (char.isupper() and previous.isupper() and next_char.islower())
            )
            if starts_word:
                flush()
        current.append(char)
    flush()
    return words


def _words_of(symbol: Symbol) -> str:
    """The split words of the symbol's name, when splitting adds something."""
    words = split_identifier(symbol.name)
    joined = " ".join(words)
    return "" if joined == symbol.name else joined


_DOC_MARKERS = ('"""', "'''", "/**", "*/", "///", "//!", "//", "#", "*", '"', "'")


def _strip_markers(line: str) -> str:
    text = line.strip()
    changed = True
    while changed and text:
        changed = False
        for marker in _DOC_MARKERS:
            if text.startswith(marker):
                text = text[len(marker) :].strip()
                changed = True
            if text.endswith(marker):
                text = text[: -len(marker)].strip()
                changed = True
    return text


def _signature_key(text: str) -> str:
    # "def f(x):", "fn f(x) {" and "def f(x)" all say the same
    return " ".join(text.split()).rstrip(":{, ").strip()


def body_head(symbol: Symbol, max_chars: int) -> str:
    """The first lines of the body that the signature and the doc do not already say.

    Parsers include the declaration (possibly over several lines, after
    decorators) and the docstring in ``body``; the declaration lines at the top
    and the doc lines are dropped so the budget goes to code. Blank lines are
    dropped and indentation collapsed: the model does not see whitespace anyway.
    """
    if max_chars <= 0 or not symbol.body:
        return ""
    signature = _signature_key(symbol.signature)
    doc_lines = {_strip_markers(line) for line in symbol.doc.splitlines()}
    doc_lines.discard("")
    kept: list[str] = []
    used = 0
    in_declaration = bool(signature)
    for raw in symbol.body.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        if in_declaration:
            key = _signature_key(line)
            if key and key in signature:
                continue
            # decorators and attributes before the declaration are kept, the rest ends it
            in_declaration = line.startswith(("@", "#["))
        stripped = _strip_markers(line)
        if not stripped or stripped in doc_lines:
            continue
        kept.append(line)
        used += len(line) + 1
        if used >= max_chars:
            break
    return "\n".join(kept)[:max_chars]


def symbol_text(
    symbol: Symbol,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    template: TextTemplate = DEFAULT_TEMPLATE,
) -> str:
    """The text the model embeds for ``symbol``, at most ``max_chars`` characters.

    Layout (one part per line, empty parts left out)::

        function urllib.parse.urlsplit
        urlsplit
        def urlsplit(url, scheme='', allow_fragments=True):
        Parse a URL into 5 components: ...
        url, scheme, _coerce_result = _coerce_args(url, scheme) ...

    Kind and name come first so that truncation never cuts them. Pure string
    work: microseconds per symbol.
    """
    parts = [f"{symbol.kind.label.replace('_', ' ')} {symbol.qualified_name}"]
    words = _words_of(symbol)
    if words:
        parts.append(words)
    if template is not TextTemplate.NAME:
        signature = " ".join(symbol.signature.split())
        if signature:
            parts.append(signature)
        doc = " ".join(symbol.doc.split())
        if doc:
            parts.append(doc)
    text = "\n".join(parts)[:max_chars]
    if template is TextTemplate.FULL:
        remaining = max_chars - len(text) - 1
        head = body_head(symbol, remaining)
        if head:
            text = f"{text}\n{head}"
    return text


def text_hash(text: str) -> str:
    """A stable 32-hex-digit hash (blake2b, 16 bytes) of an embedding text.

    Together with the model id it keys the persistent embedding cache.
    """
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
