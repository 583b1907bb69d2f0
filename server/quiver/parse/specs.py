"""Per-language conventions the generic extractor needs beyond what a query captures.

Each language's query (``queries/<name>.scm``) says *what* is a symbol; the
spec here says how to read around it: which parent nodes belong to a
definition's range (decorators, ``export``, ``template<...>``), which sibling
nodes are comments that document it, what a constructor is called, and what
the *module part* of a container is.

The module part is the first component of every container in a file:

- ``"file"`` languages (Python, Rust, TypeScript, TSX, JavaScript) name it
  after the file: the stem up to its first dot (``retry.py`` → ``retry``,
  ``button.test.tsx`` → ``button``); a package's index file takes its
  directory's name (``pkg/__init__.py`` → ``pkg``, ``src/ui/index.ts`` →
  ``ui``, ``src/net/mod.rs`` → ``net``); Rust's crate roots ``lib.rs`` and
  ``main.rs`` are ``crate``.
- ``"declared"`` languages take it from the source: Go's ``package``, Java's
  ``package``, PHP's ``namespace X;`` and C#'s file-scoped ``namespace X;``
  (the query captures these as ``@module``). Qualified names are dotted
  (``App\\Http`` → ``App.Http``).
- ``"none"`` languages (C, C++, Ruby) have no file-level module; their
  namespaces, modules and classes are symbols of their own and appear in
  containers as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ModuleStyle = Literal["file", "declared", "none"]


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """How the generic extractor reads one language's tree around its query's captures."""

    #: The query file's stem under ``queries/`` (TSX shares TypeScript's).
    query_name: str
    #: Node types that are comments (documentation is read from them).
    comments: frozenset[str]
    #: Where the module part of containers comes from.
    module_style: ModuleStyle
    #: Parent node types whose span belongs to the definition they wrap
    #: (Python decorators, ``export``, C++ ``template<...>``).
    wrappers: frozenset[str] = frozenset()
    #: Parent node types that belong to the definition only when it is their one
    #: declaration (Go ``type X struct`` but not ``type ( A ...; B ... )``, JS
    #: ``const f = ...``); unlike :attr:`wrappers` they also start the signature.
    group_wrappers: frozenset[str] = frozenset()
    #: Wrappers whose text starts the signature too (C++ ``template <typename T>``).
    signature_wrappers: frozenset[str] = frozenset()
    #: Sibling node types just before a definition that belong to its range (Rust ``#[...]``,
    #: TypeScript method decorators, which the grammar puts beside the method, not in it).
    attributes: frozenset[str] = frozenset()
    #: Whether those attributes start the signature too (TypeScript, where class and
    #: property decorators are inside their node and so already in their signatures).
    signature_attributes: bool = False
    #: Body node types whose first statement's comments the grammar puts before the
    #: body, not in it (Ruby's ``body_statement``): they still document that statement.
    comments_before_body: frozenset[str] = frozenset()
    #: Characters stripped from the end of a signature cut before the body.
    signature_trailers: str = " {:"
    #: Python-style docstrings: the first string statement of the body.
    docstrings: bool = False
    #: Method names that are constructors (``__init__``, ``initialize`` ...).
    constructor_names: frozenset[str] = frozenset()
    #: C++: a function named like its class is its constructor.
    same_name_constructors: bool = False
    #: C++: ``void A::f() {}`` outside the class is a method of ``A``.
    qualified_functions_are_methods: bool = False
    #: File stems that stand for their directory in the module part.
    index_stems: frozenset[str] = frozenset()
    #: File stems that are the root of their package (Rust's ``lib``/``main``).
    root_stems: frozenset[str] = frozenset()
    #: The module part used for :attr:`root_stems`.
    root_module: str = ""

    def file_module(self, path: str) -> str:
        """The module part for a ``"file"``-style language, from the file's path (no I/O)."""
        parts = path.replace("\\", "/").rsplit("/", 2)
        stem = parts[-1].split(".", 1)[0]
        if stem in self.root_stems:
            return self.root_module
        if stem in self.index_stems and len(parts) > 1 and parts[-2] not in ("", ".", ".."):
            return parts[-2]
        return stem


_C_COMMENTS = frozenset({"comment"})

_TYPESCRIPT = LanguageSpec(
    query_name="typescript",
    wrappers=frozenset({"export_statement", "ambient_declaration", "expression_statement"}),
    group_wrappers=frozenset({"lexical_declaration", "variable_declaration"}),
    attributes=frozenset({"decorator"}),
    signature_attributes=True,
    comments=_C_COMMENTS,
    module_style="file",
    constructor_names=frozenset({"constructor"}),
    index_stems=frozenset({"index"}),
)

SPECS: dict[str, LanguageSpec] = {
    "python": LanguageSpec(
        query_name="python",
        wrappers=frozenset({"decorated_definition"}),
        comments=frozenset({"comment"}),
        module_style="file",
        docstrings=True,
        constructor_names=frozenset({"__init__"}),
        index_stems=frozenset({"__init__"}),
    ),
    "rust": LanguageSpec(
        query_name="rust",
        attributes=frozenset({"attribute_item"}),
        comments=frozenset({"line_comment", "block_comment"}),
        module_style="file",
        index_stems=frozenset({"mod"}),
        root_stems=frozenset({"lib", "main"}),
        root_module="crate",
    ),
    "go": LanguageSpec(
        query_name="go",
        group_wrappers=frozenset({"type_declaration", "const_declaration", "var_declaration"}),
        comments=_C_COMMENTS,
        module_style="declared",
    ),
    "typescript": _TYPESCRIPT,
    "tsx": _TYPESCRIPT,
    "javascript": LanguageSpec(
        query_name="javascript",
        wrappers=frozenset({"export_statement", "expression_statement"}),
        group_wrappers=frozenset({"lexical_declaration", "variable_declaration"}),
        comments=_C_COMMENTS,
        module_style="file",
        constructor_names=frozenset({"constructor"}),
        index_stems=frozenset({"index"}),
    ),
    "java": LanguageSpec(
        query_name="java",
        comments=frozenset({"line_comment", "block_comment"}),
        module_style="declared",
    ),
    "c": LanguageSpec(
        query_name="c",
        comments=_C_COMMENTS,
        module_style="none",
    ),
    "cpp": LanguageSpec(
        query_name="cpp",
        wrappers=frozenset({"template_declaration"}),
        signature_wrappers=frozenset({"template_declaration"}),
        comments=_C_COMMENTS,
        module_style="none",
        same_name_constructors=True,
        qualified_functions_are_methods=True,
    ),
    "csharp": LanguageSpec(
        query_name="csharp",
        comments=_C_COMMENTS,
        module_style="declared",
    ),
    "ruby": LanguageSpec(
        query_name="ruby",
        signature_trailers=" =",
        comments=_C_COMMENTS,
        comments_before_body=frozenset({"body_statement"}),
        module_style="none",
        constructor_names=frozenset({"initialize"}),
    ),
    "php": LanguageSpec(
        query_name="php",
        wrappers=frozenset({"expression_statement"}),
        comments=_C_COMMENTS,
        module_style="declared",
        constructor_names=frozenset({"__construct"}),
    ),
}
