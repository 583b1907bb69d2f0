"""Symbol extraction: a file's bytes → :class:`~quiver.symbols.Symbol` records.

One tree-sitter query per language (``queries/<language>.scm``) finds the
definitions; this module turns each match into a symbol with its container,
signature, documentation, LSP range and content hash. The query is compiled
once per process and the parser created once per thread, so the per-file cost
is one parse (C), one query run (C) and a little Python per *symbol*, never
per syntax node.

Capture conventions shared by every query file:

``@definition.<kind>``
    The node spanning the symbol; ``<kind>`` is a :class:`SymbolKind` label
    (``class``, ``function``, ``enum_member`` ...). Parents listed as the
    language's *wrappers* (decorators, ``export``, ``template<...>``) widen the
    range to include them.
``@name``
    The symbol's name; its span is the selection range. A qualified name
    (``A::f``, ``Foo::Bar``, ``N.M``) is split: the last part is the name and
    the others extend the container.
``@body`` (optional)
    The body; the signature is the definition's text before it. Without a
    body the signature is the definition's whole text (collapsed, capped).
``@qualifier`` (optional)
    A type whose name is appended to the container (Go method receivers).
``@scope`` with ``@scope.name``
    A node that is not a symbol but names the scope of what it contains
    (Rust ``impl`` blocks: methods get the implementing type as container).
``@module``
    A declaration that sets the module part of the container for every
    symbol after it (Go/Java ``package``, PHP ``namespace X;``).

When two patterns capture the same name node, the pattern written first in
the file wins, so specific patterns go before general ones.

Kinds that LSP lacks are mapped as follows (and documented in docs/decisions.md):
type aliases are ``type_parameter`` (as rust-analyzer does), traits and
protocols are ``interface``, records are ``class``, PHP traits are ``class``.
A ``function`` whose innermost enclosing symbol is a type (class, struct,
interface, enum, or a Rust ``impl``) becomes a ``method``; a method named
like the language's constructor becomes a ``constructor``. The queries capture
a name bound to an anonymous function (``f = lambda``, ``auto f = [](...)``,
``f := func``) as a ``function``, so it follows the same rule (see
docs/decisions.md, "Symbol kinds LSP lacks").
"""

from __future__ import annotations

import hashlib
import inspect
import re
import threading
from bisect import bisect_right
from dataclasses import dataclass
from importlib import resources

import tree_sitter

from quiver.parse.languages import grammar
from quiver.parse.specs import SPECS, LanguageSpec
from quiver.symbols import Position, Range, Symbol, SymbolKind

#: Longest signature kept, in characters, after whitespace is collapsed.
MAX_SIGNATURE_CHARS = 200
#: Longest body excerpt kept, in characters.
MAX_BODY_CHARS = 2000
#: Longest documentation kept, in characters.
MAX_DOC_CHARS = 4000

#: A symbol as plain values: name, kind, container, signature, doc, range
#: (start line, start column, end line, end column), selection range (same),
#: body span (start byte, end byte) in the source, content hash.
SymbolRecord = tuple[str, int, str, str, str, int, int, int, int, int, int, int, int, int, int, str]

# UTF-8 needs at most 4 bytes per character.
_BODY_SCAN_BYTES = MAX_BODY_CHARS * 4
_KINDS: dict[int, SymbolKind] = {int(kind): kind for kind in SymbolKind}

# A signature without a body never needs more than this many bytes of source.
_SIGNATURE_SCAN_BYTES = 1000

_NEWLINE = ord("\n")
_CARRIAGE_RETURN = ord("\r")

_TYPE_KINDS = frozenset(
    {SymbolKind.CLASS, SymbolKind.STRUCT, SymbolKind.INTERFACE, SymbolKind.ENUM}
)
_FUNCTION_KINDS = frozenset({SymbolKind.FUNCTION, SymbolKind.METHOD})

_KIND_BY_CAPTURE: dict[str, SymbolKind] = {f"definition.{kind.label}": kind for kind in SymbolKind}

_QUALIFIED_NAME_SEPARATOR = re.compile(r"::|\\|\.")
_GENERIC_ARGUMENTS = re.compile(r"<[^<>]*>|\[[^\[\]]*\]")
_BLOCK_COMMENT_LINE_PREFIX = re.compile(r"^\s*\*+ ?")
_LINE_COMMENT_PREFIX = re.compile(r"^\s*(?://[/!]?|#[!:]?|--)\s?")
_STRING_PREFIX = re.compile(r"^[rRuUbBfF]*")


@dataclass(frozen=True, slots=True)
class _CompiledLanguage:
    spec: LanguageSpec
    language: tree_sitter.Language
    query: tree_sitter.Query


_compiled: dict[str, _CompiledLanguage] = {}
_compile_lock = threading.Lock()
_thread_state = threading.local()


def _compiled_language(language: str) -> _CompiledLanguage:
    """The grammar, spec and compiled query for a language, built once per process."""
    found = _compiled.get(language)
    if found is not None:
        return found
    with _compile_lock:
        found = _compiled.get(language)
        if found is None:
            ts_language = grammar(language)
            spec = SPECS[language]
            source = (
                resources.files("quiver.parse")
                .joinpath("queries", f"{spec.query_name}.scm")
                .read_text(encoding="utf-8")
            )
            found = _CompiledLanguage(spec, ts_language, tree_sitter.Query(ts_language, source))
            _compiled[language] = found
    return found


def _parser(language: str, ts_language: tree_sitter.Language) -> tree_sitter.Parser:
    """This thread's parser for a language (parsers are not safe to share between threads)."""
    parsers: dict[str, tree_sitter.Parser] | None = getattr(_thread_state, "parsers", None)
    if parsers is None:
        parsers = {}
        _thread_state.parsers = parsers
    parser = parsers.get(language)
    if parser is None:
        parser = tree_sitter.Parser(ts_language)
        parsers[language] = parser
    return parser


class _Candidate:
    """One matched definition (or scope) on its way to becoming a symbol."""

    __slots__ = (
        "body",
        "container",
        "definition",
        "end",
        "first",
        "is_scope",
        "kind",
        "last",
        "name",
        "name_node",
        "name_offset",
        "path",
        "pattern",
        "qualifiers",
        "signature_start",
        "start",
    )

    def __init__(
        self,
        *,
        pattern: int,
        kind: SymbolKind | None,
        definition: tree_sitter.Node,
        name_node: tree_sitter.Node,
        body: tree_sitter.Node | None,
        qualifier: str | None,
    ) -> None:
        self.pattern = pattern
        self.kind = kind
        self.is_scope = kind is None
        self.definition = definition
        self.name_node = name_node
        self.body = body
        # The nodes whose start and end bound the range (widened by wrappers/attributes).
        self.first = definition
        self.last = definition
        self.start = definition.start_byte
        self.end = definition.end_byte
        self.signature_start = self.start
        self.qualifiers: list[str] = [qualifier] if qualifier else []
        self.name = ""
        self.name_offset = 0  # bytes from the name node's start to the bare name
        self.container: list[str] = []
        self.path: list[str] = []


def extract_symbols(source: bytes, path: str, language: str) -> list[Symbol]:
    """Every symbol defined in ``source``, in source order (outer before inner).

    ``path`` is only recorded in the symbols (and names the module part for
    file-style languages); nothing is read from disk. Syntax errors do not
    raise: tree-sitter recovers and whatever still parses is returned. Safe
    to call from several threads (each thread gets its own parser). Costs one
    parse and one query run in C plus a few microseconds of Python per symbol.

    Raises :class:`~quiver.parse.languages.UnsupportedLanguageError` for an
    unknown language id.
    """
    return materialize(extract_records(source, path, language), source, path, language)


def extract_records(source: bytes, path: str, language: str) -> list[SymbolRecord]:
    """What :func:`extract_symbols` finds, as plain tuples (cheap to send between processes).

    Each record holds the symbol's fields with positions as ints and the body
    as a byte span of ``source``; :func:`materialize` turns them into symbols.
    """
    compiled = _compiled_language(language)
    spec = compiled.spec
    tree = _parser(language, compiled.language).parse(source)
    matches = tree_sitter.QueryCursor(compiled.query).matches(tree.root_node)

    by_name_node: dict[tuple[int, int], _Candidate] = {}
    scopes: list[_Candidate] = []
    module_starts: list[int] = []
    module_names: list[str] = []
    for pattern, captures in matches:
        module_nodes = captures.get("module")
        if module_nodes:
            node = module_nodes[0]
            module_starts.append(node.start_byte)
            module_names.append(".".join(_qualified_parts(_text(source, node))))
            continue
        scope_nodes = captures.get("scope")
        if scope_nodes:
            scope_names = captures.get("scope.name")
            if scope_names:
                scope = _Candidate(
                    pattern=pattern,
                    kind=None,
                    definition=scope_nodes[0],
                    name_node=scope_names[0],
                    body=None,
                    qualifier=None,
                )
                scope.name = _type_name(_text(source, scope_names[0]))
                scopes.append(scope)
            continue
        kind: SymbolKind | None = None
        definition: tree_sitter.Node | None = None
        for capture_name, nodes in captures.items():
            found_kind = _KIND_BY_CAPTURE.get(capture_name)
            if found_kind is not None:
                kind = found_kind
                definition = nodes[0]
                break
        name_nodes = captures.get("name")
        if kind is None or definition is None or not name_nodes:
            continue
        name_node = name_nodes[0]
        key = (name_node.start_byte, name_node.end_byte)
        if key[0] == key[1]:
            continue  # a name tree-sitter invented while recovering from an error
        previous = by_name_node.get(key)
        if previous is not None and previous.pattern <= pattern:
            continue
        bodies = captures.get("body")
        qualifiers = captures.get("qualifier")
        by_name_node[key] = _Candidate(
            pattern=pattern,
            kind=kind,
            definition=definition,
            name_node=name_node,
            body=bodies[0] if bodies else None,
            qualifier=_type_name(_text(source, qualifiers[0])) if qualifiers else None,
        )

    candidates = list(by_name_node.values())
    for candidate in candidates:
        _widen_range(candidate, spec)
        _split_name(candidate, source)
    candidates.extend(scopes)
    candidates.sort(key=lambda c: (c.start, -c.end, c.is_scope))

    if spec.module_style == "file":
        file_module = spec.file_module(path)
        module_starts, module_names = [0], [file_module] if file_module else [""]
    namespace_names = (
        {c.name for c in candidates if c.kind is SymbolKind.NAMESPACE}
        if spec.qualified_functions_are_methods
        else set()
    )

    records: list[SymbolRecord] = []
    stack: list[_Candidate] = []
    for candidate in candidates:
        while stack and (
            candidate.end > stack[-1].end
            or (candidate.start == stack[-1].start and candidate.end == stack[-1].end)
        ):
            stack.pop()
        enclosing = stack[-1] if stack else None
        if enclosing is not None:
            base = enclosing.path
        else:
            index = bisect_right(module_starts, candidate.start) - 1
            module = module_names[index] if index >= 0 else ""
            base = [module] if module else []
        candidate.container = base + candidate.qualifiers
        candidate.path = [*candidate.container, candidate.name]
        stack.append(candidate)
        if candidate.is_scope:
            continue
        _settle_kind(candidate, enclosing, spec, namespace_names)
        records.append(_to_record(candidate, source, spec))
    return records


def _widen_range(candidate: _Candidate, spec: LanguageSpec) -> None:
    """Stretch the range over wrapping parents (decorators, export) and leading attributes."""
    node = candidate.definition
    if spec.wrappers or spec.group_wrappers:
        in_group = True  # group wrappers count for the signature until a plain wrapper
        parent = node.parent
        while parent is not None:
            parent_type = parent.type
            if parent_type in spec.group_wrappers and parent.named_child_count == 1:
                if in_group:
                    candidate.signature_start = parent.start_byte
            elif parent_type in spec.wrappers:
                if parent_type in spec.signature_wrappers:
                    candidate.signature_start = parent.start_byte
                else:
                    in_group = False
            else:
                break
            node = parent
            parent = node.parent
        candidate.last = node
        candidate.end = node.end_byte
    if spec.attributes:
        previous = node.prev_named_sibling
        if previous is not None and previous.type in spec.attributes:
            while previous is not None and previous.type in spec.attributes:
                node = previous
                previous = node.prev_named_sibling
            if spec.signature_attributes:
                candidate.signature_start = node.start_byte
    candidate.first = node
    candidate.start = node.start_byte


def _split_name(candidate: _Candidate, source: bytes) -> None:
    """Set the bare name; the qualifiers of a qualified name extend the container."""
    node = candidate.name_node
    text = _text(source, node)
    if len(text) > 1 and text[0] in "\"'`" and text[-1] == text[0]:
        candidate.name = text[1:-1]  # `declare module "fs"`
        return
    if text.startswith(":") and not text.startswith("::"):
        candidate.name = text[1:]  # Ruby `attr_reader :total`
        candidate.name_offset = 1
        return
    if "::" not in text and "\\" not in text and "." not in text:
        candidate.name = text
        return
    parts = _qualified_parts(text)
    if not parts:
        candidate.name = text
        return
    candidate.name = parts[-1]
    candidate.qualifiers.extend(parts[:-1])
    raw = source[node.start_byte : node.end_byte]
    offset = raw.rfind(parts[-1].encode("utf-8"))
    candidate.name_offset = max(offset, 0)


def _settle_kind(
    candidate: _Candidate,
    enclosing: _Candidate | None,
    spec: LanguageSpec,
    namespace_names: set[str],
) -> None:
    """Turn functions into methods or constructors according to where they live."""
    kind = candidate.kind
    if kind not in _FUNCTION_KINDS:
        return
    in_type = enclosing is not None and (enclosing.is_scope or enclosing.kind in _TYPE_KINDS)
    qualified_method = (
        spec.qualified_functions_are_methods
        and bool(candidate.qualifiers)
        and candidate.qualifiers[-1] not in namespace_names
    )
    if kind is SymbolKind.FUNCTION and (in_type or qualified_method):
        kind = SymbolKind.METHOD
    named_as_constructor = (in_type and candidate.name in spec.constructor_names) or (
        spec.same_name_constructors
        and bool(candidate.container)
        and candidate.name == candidate.container[-1]
    )
    if kind is SymbolKind.METHOD and named_as_constructor:
        kind = SymbolKind.CONSTRUCTOR
    candidate.kind = kind


def _to_record(candidate: _Candidate, source: bytes, spec: LanguageSpec) -> SymbolRecord:
    kind = candidate.kind
    assert kind is not None  # scopes never reach here
    first, last, name_node = candidate.first, candidate.last, candidate.name_node
    start, end = candidate.start, candidate.end
    end_row, end_column = last.end_point
    if end_column == 0 and end > start and source[end - 1] == _NEWLINE:
        # A node that swallows its line break (C macros) ends on the line it is written on.
        end -= 1
        if end > start and source[end - 1] == _CARRIAGE_RETURN:
            end -= 1
        end_row, end_column = end_row - 1, end - (source.rfind(b"\n", 0, end) + 1)
    start_row, start_column = first.start_point
    name_row, name_column = name_node.start_point
    name_start = name_node.start_byte + candidate.name_offset
    name_column += candidate.name_offset
    name_end = name_node.end_byte
    name_end_row, name_end_column = name_node.end_point
    signature = _signature(candidate, source, spec)
    doc = _doc(candidate, source, spec)
    container = ".".join(candidate.container)
    qualified = f"{container}.{candidate.name}" if container else candidate.name
    return (
        candidate.name,
        int(kind),
        container,
        signature,
        doc,
        start_row,
        _utf16_column(source, start, start_column),
        end_row,
        _utf16_column(source, end, end_column),
        name_row,
        _utf16_column(source, name_start, name_column),
        name_end_row,
        _utf16_column(source, name_end, name_end_column),
        start,
        min(end, start + _BODY_SCAN_BYTES),
        _symbol_hash(kind.label, qualified, signature, doc, source[start:end]),
    )


def materialize(
    records: list[SymbolRecord], source: bytes, path: str, language: str
) -> list[Symbol]:
    """Turn records from :func:`extract_records` into :class:`Symbol` objects.

    Costs a few microseconds per symbol (object construction and decoding
    the body excerpt); ``source`` must be the bytes the records came from.
    """
    symbols = []
    kinds = _KINDS
    for (
        name,
        kind,
        container,
        signature,
        doc,
        start_row,
        start_column,
        end_row,
        end_column,
        name_row,
        name_column,
        name_end_row,
        name_end_column,
        body_start,
        body_end,
        hash_,
    ) in records:
        symbols.append(
            Symbol(
                name=name,
                kind=kinds[kind],
                container=container,
                signature=signature,
                doc=doc,
                range=Range(Position(start_row, start_column), Position(end_row, end_column)),
                selection_range=Range(
                    Position(name_row, name_column), Position(name_end_row, name_end_column)
                ),
                language=language,
                path=path,
                body=source[body_start:body_end].decode("utf-8", "replace")[:MAX_BODY_CHARS],
                content_hash=hash_,
            )
        )
    return symbols


def _utf16_column(source: bytes, byte: int, column: int) -> int:
    """LSP column of a byte offset: tree-sitter counts bytes, LSP counts UTF-16 units."""
    if column == 0:
        return 0
    prefix = source[byte - column : byte]
    if prefix.isascii():
        return column
    return len(prefix.decode("utf-8", "replace").encode("utf-16-le")) // 2


def _symbol_hash(kind: str, qualified: str, signature: str, doc: str, text: bytes) -> str:
    """:func:`quiver.symbols.content_hash` of the parts, hashing the text without decoding it.

    Equal to ``content_hash(kind, qualified, signature, doc, text.decode())``
    for valid UTF-8, which is all :func:`~quiver.parse.read.read_source` returns
    (the same NUL-separated framing, fed in one call).
    """
    head = f"{kind}\x00{qualified}\x00{signature}\x00{doc}\x00".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(head + text + b"\x00", digest_size=16).hexdigest()


def _signature(candidate: _Candidate, source: bytes, spec: LanguageSpec) -> str:
    """The declaration up to its body, on one line, whitespace collapsed, capped."""
    definition = candidate.definition
    start = candidate.signature_start
    body = candidate.body
    if body is not None and body.start_byte > start:
        end = body.start_byte
        previous = body.prev_sibling
        while previous is not None and previous.type in spec.comments:
            end = previous.start_byte  # `def f():  # note` keeps its comment out
            previous = previous.prev_sibling
        end = min(end, start + _SIGNATURE_SCAN_BYTES)
    else:
        end = min(definition.end_byte, start + _SIGNATURE_SCAN_BYTES)
    text = " ".join(source[start:end].decode("utf-8", "replace").split())
    if body is not None:
        text = text.rstrip(spec.signature_trailers)
    if len(text) > MAX_SIGNATURE_CHARS:
        text = text[: MAX_SIGNATURE_CHARS - 1] + "…"
    return text


def _doc(candidate: _Candidate, source: bytes, spec: LanguageSpec) -> str:
    """The docstring or the comments right above the definition, markers removed."""
    if spec.docstrings and candidate.body is not None:
        docstring = _docstring(candidate.body, source)
        if docstring:
            return docstring
    comments: list[tree_sitter.Node] = []
    node = candidate.first
    expected_end_row = node.start_point[0]
    previous = node.prev_sibling
    if previous is None and spec.comments_before_body:
        parent = node.parent
        if parent is not None and parent.type in spec.comments_before_body:
            previous = parent.prev_sibling
    while previous is not None and previous.type in spec.comments:
        start_row, (end_row, end_column) = previous.start_point[0], previous.end_point
        if end_column == 0 and end_row > start_row:
            end_row -= 1  # a line comment that includes its line break (Rust)
        if end_row < expected_end_row - 1:
            break  # a blank line separates it from the definition
        before = previous.prev_sibling
        if (
            before is not None
            and before.end_point[0] == start_row
            and (before.type not in spec.comments)
        ):
            break  # a trailing comment of the previous statement
        comments.append(previous)
        expected_end_row = start_row
        previous = before
    if not comments:
        return ""
    lines: list[str] = []
    for comment in reversed(comments):
        lines.extend(_comment_lines(_text(source, comment)))
    text = lines[0].strip() if len(lines) == 1 else inspect.cleandoc("\n".join(lines))
    return _cap(text, MAX_DOC_CHARS)


def _docstring(body: tree_sitter.Node, source: bytes) -> str:
    if body.named_child_count == 0:
        return ""
    first = body.named_child(0)
    if first is None or first.type != "expression_statement" or first.named_child_count == 0:
        return ""
    string = first.named_child(0)
    if string is None or string.type not in ("string", "concatenated_string"):
        return ""
    text = _STRING_PREFIX.sub("", _text(source, string))
    for quote in ('"""', "'''", '"', "'"):
        if text.startswith(quote) and text.endswith(quote) and len(text) >= 2 * len(quote):
            text = text[len(quote) : -len(quote)]
            break
    text = text.strip() if "\n" not in text else inspect.cleandoc(text)
    return _cap(text, MAX_DOC_CHARS)


def _comment_lines(text: str) -> list[str]:
    """A comment's lines with ``//``, ``#``, ``/** */`` and leading ``*`` markers removed."""
    if text.startswith("/*"):
        text = text[2:]
        if text[:1] in ("*", "!"):
            text = text[1:]
        text = text.removesuffix("*/")
        return [_BLOCK_COMMENT_LINE_PREFIX.sub("", line).rstrip() for line in text.splitlines()]
    if text.startswith("=begin"):  # Ruby block comment
        return text.splitlines()[1:-1]
    return [_LINE_COMMENT_PREFIX.sub("", line).rstrip() for line in text.splitlines()]


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(source: bytes, node: tree_sitter.Node) -> str:
    return source[node.start_byte : node.end_byte].decode("utf-8", "replace")


def _qualified_parts(text: str) -> list[str]:
    """``"ns::A<T>::f"`` → ``["ns", "A", "f"]``; also splits ``\\`` and ``.``."""
    if "<" in text or "[" in text:
        previous = None
        while previous != text:
            previous, text = text, _GENERIC_ARGUMENTS.sub("", text)
    return [part.strip() for part in _QUALIFIED_NAME_SEPARATOR.split(text) if part.strip()]


def _type_name(text: str) -> str:
    """The bare name of a type expression: ``&mut Foo<T>`` / ``*pkg.Foo[T]`` → ``Foo``."""
    parts = _qualified_parts(text.replace("&", " ").replace("*", " "))
    if not parts:
        return text
    last = parts[-1].split()
    return last[-1] if last else parts[-1]
