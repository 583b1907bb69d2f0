"""TypeScript and TSX: classes, interfaces, overloads, generics, arrow functions, namespaces."""

from __future__ import annotations

from parse_helpers import by_name, name_span, span

SOURCE = """
/** Parses a value. */
export function parse<T>(input: string): T { return JSON.parse(input); }

function pad(s: string): string;
function pad(n: number): string;
function pad(x: any): string { return String(x); }

export default class Cache<K, V> extends Base implements Store<K> {
  private readonly entries = new Map<K, V>();
  onEvict = (key: K) => { this.entries.delete(key); };
  constructor(private size: number) { super(); }
  get length(): number { return this.entries.size; }
  static create<K, V>(): Cache<K, V> { return new Cache(10); }
}

export interface Store<K> {
  readonly name: string;
  has(key: K): boolean;
}

enum Level { Low, High = 10 }
export type Handler<T> = (event: T) => void;

namespace Net.Http {
  export function get(url: string) {}
}

export const fetchAll = async (urls: string[]) => Promise.all(urls);
let legacy = function () {};
export const MAX_ITEMS = 100;
const notConstant = 1;
abstract class Shape { abstract area(): number; }
const 计数器 = () => 0;
"""


def test_typescript_outline(outline) -> None:
    assert outline(SOURCE, "src/cache.ts") == [
        ("function", "cache.parse"),
        ("function", "cache.pad"),
        ("function", "cache.pad"),
        ("function", "cache.pad"),
        ("class", "cache.Cache"),
        ("field", "cache.Cache.entries"),
        ("method", "cache.Cache.onEvict"),
        ("constructor", "cache.Cache.constructor"),
        ("method", "cache.Cache.length"),
        ("method", "cache.Cache.create"),
        ("interface", "cache.Store"),
        ("property", "cache.Store.name"),
        ("method", "cache.Store.has"),
        ("enum", "cache.Level"),
        ("enum_member", "cache.Level.Low"),
        ("enum_member", "cache.Level.High"),
        ("type_parameter", "cache.Handler"),
        ("namespace", "cache.Net.Http"),
        ("function", "cache.Net.Http.get"),
        ("function", "cache.fetchAll"),
        ("function", "cache.legacy"),
        ("constant", "cache.MAX_ITEMS"),
        ("class", "cache.Shape"),
        ("method", "cache.Shape.area"),
        ("function", "cache.计数器"),
    ]


def test_exported_declarations_span_the_export_keyword_and_keep_the_doc(extract) -> None:
    parse = by_name(extract(SOURCE, "cache.ts"), "cache.parse")
    assert span(parse) == (1, 0, 1, 72)
    assert name_span(parse) == (1, 16, 1, 21)
    assert parse.doc == "Parses a value."
    assert parse.signature == "function parse<T>(input: string): T"


def test_arrow_functions_assigned_to_names_are_functions(extract) -> None:
    fetch_all = by_name(extract(SOURCE, "cache.ts"), "cache.fetchAll")
    assert span(fetch_all) == (27, 0, 27, 68)
    assert fetch_all.signature == "const fetchAll = async (urls: string[]) =>"


def test_index_files_take_the_directory_name_and_tsx_parses_jsx(outline) -> None:
    component = """
    import React from "react";
    export const Button = ({ label }: { label: string }) => <button>{label}</button>;
    export function App(): JSX.Element { return <div><Button label="go" /></div>; }
    """
    assert outline(component, "src/ui/index.tsx") == [
        ("function", "ui.Button"),
        ("function", "ui.App"),
    ]
    assert outline("export class Service {}", "api.service.ts") == [("class", "api.Service")]


DECORATED = """
@Component({ selector: "app-search", templateUrl: "./search.html" })
export class SearchComponent {
  @Input() query: string = "";
  @Output() changed = new EventEmitter<string>();

  /** Runs the search when the user presses Enter. */
  @HostListener("keydown.enter", ["$event"])
  onEnter(event: KeyboardEvent): void {
    this.changed.emit(this.query);
  }

  @Debounce(300) @Log()
  refresh(): void {}
}
"""


def test_typescript_class_and_property_decorators_are_in_their_ranges(extract) -> None:
    symbols = extract(DECORATED, "search.component.ts")
    component = by_name(symbols, "search.SearchComponent")
    assert span(component) == (0, 0, 13, 1)  # from @Component
    assert name_span(component) == (1, 13, 1, 28)
    query = by_name(symbols, "search.SearchComponent.query")
    assert span(query) == (2, 2, 2, 29)
    assert query.signature == '@Input() query: string = ""'
    assert by_name(symbols, "search.SearchComponent.changed").kind.label == "field"


def test_a_typescript_method_decorator_is_in_the_method_range(extract) -> None:
    symbols = extract(DECORATED, "search.component.ts")
    on_enter = by_name(symbols, "search.SearchComponent.onEnter")
    assert span(on_enter) == (6, 2, 9, 3)  # from @HostListener to the closing brace
    assert name_span(on_enter) == (7, 2, 7, 9)
    assert on_enter.doc == "Runs the search when the user presses Enter."
    assert on_enter.signature == (
        '@HostListener("keydown.enter", ["$event"]) onEnter(event: KeyboardEvent): void'
    )
    refresh = by_name(symbols, "search.SearchComponent.refresh")
    assert span(refresh)[:2] == (11, 2)  # both stacked decorators


NESTED = """
export class Tree<T> {
  static Node = class<T> {
    constructor(public value: T, public children: T[] = []) {}
  };
  root?: InstanceType<typeof Tree.Node>;
}

export namespace Tree {
  export class Walker { next(): void {} }
}

function scopedError(prefix: string) {
  class ScopedError extends Error {
    constructor(message: string) { super(`${prefix}: ${message}`); }
  }
  return ScopedError;
}
"""


def test_typescript_nested_classes_are_contained_in_their_outer_scope(outline) -> None:
    assert outline(NESTED, "src/tree.ts") == [
        ("class", "tree.Tree"),
        ("class", "tree.Tree.Node"),  # a class expression held by a static field
        ("constructor", "tree.Tree.Node.constructor"),
        ("field", "tree.Tree.root"),
        ("namespace", "tree.Tree"),
        ("class", "tree.Tree.Walker"),
        ("method", "tree.Tree.Walker.next"),
        ("function", "tree.scopedError"),
        ("class", "tree.scopedError.ScopedError"),
        ("constructor", "tree.scopedError.ScopedError.constructor"),
    ]


def test_a_class_held_by_a_field_spans_the_field(extract) -> None:
    node = next(s for s in extract(NESTED, "tree.ts") if s.qualified_name == "tree.Tree.Node")
    assert span(node) == (1, 2, 3, 3)
    assert name_span(node) == (1, 9, 1, 13)
    assert node.signature == "static Node = class<T>"
