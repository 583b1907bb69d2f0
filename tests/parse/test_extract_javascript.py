"""JavaScript: functions, classes, arrow functions and function expressions assigned to names."""

from __future__ import annotations

from parse_helpers import by_name, span

SOURCE = """
/**
 * Adds two numbers.
 * @param {number} a
 */
export function add(a, b) { return a + b; }

class Counter extends EventEmitter {
  #count = 0;
  static instances = 0;
  onClick = () => { this.#count++; };
  constructor() { super(); }
  *ids() { yield 1; }
  async load() {}
}

const square = (x) => x * x;
let legacy = function () {};
var named = function inner() {};
module.exports.helper = function () {};
Counter.prototype.reset = () => {};
const Klass = class {};
function* generate() {}
export const DEFAULT_PORT = 8080;
const first = () => 1, second = () => 2;
const ünï = () => 1;
"""


def test_javascript_outline(outline) -> None:
    assert outline(SOURCE, "lib/counter.mjs") == [
        ("function", "counter.add"),
        ("class", "counter.Counter"),
        ("field", "counter.Counter.#count"),
        ("field", "counter.Counter.instances"),
        ("method", "counter.Counter.onClick"),
        ("constructor", "counter.Counter.constructor"),
        ("method", "counter.Counter.ids"),
        ("method", "counter.Counter.load"),
        ("function", "counter.square"),
        ("function", "counter.legacy"),
        ("function", "counter.named"),
        ("function", "counter.helper"),
        ("function", "counter.reset"),
        ("class", "counter.Klass"),
        ("function", "counter.generate"),
        ("constant", "counter.DEFAULT_PORT"),
        ("function", "counter.first"),
        ("function", "counter.second"),
        ("function", "counter.ünï"),
    ]


def test_jsdoc_is_cleaned_of_comment_markers(extract) -> None:
    add = by_name(extract(SOURCE, "counter.js"), "counter.add")
    assert add.doc == "Adds two numbers.\n@param {number} a"
    assert span(add) == (4, 0, 4, 43)


def test_two_declarators_in_one_statement_get_their_own_ranges(extract) -> None:
    symbols = extract(SOURCE, "counter.js")
    assert span(by_name(symbols, "counter.first")) == (23, 6, 23, 21)
    assert span(by_name(symbols, "counter.second")) == (23, 23, 23, 39)
    assert by_name(symbols, "counter.square").signature == "const square = (x) =>"


NESTED = """
export class Parser {
  static ParseError = class extends SyntaxError {
    constructor(message, offset) { super(message); this.offset = offset; }
  };

  parse(text) {
    class Cursor {
      constructor(source) { this.source = source; this.pos = 0; }
      peek() { return this.source[this.pos]; }
    }
    return new Cursor(text);
  }
}
"""


def test_javascript_nested_classes_are_contained_in_their_outer_scope(outline) -> None:
    assert outline(NESTED, "src/parser.js") == [
        ("class", "parser.Parser"),
        ("class", "parser.Parser.ParseError"),  # a class expression held by a static field
        ("constructor", "parser.Parser.ParseError.constructor"),
        ("method", "parser.Parser.parse"),
        ("class", "parser.Parser.parse.Cursor"),
        ("constructor", "parser.Parser.parse.Cursor.constructor"),
        ("method", "parser.Parser.parse.Cursor.peek"),
    ]


def test_an_arrow_function_bound_inside_a_function_is_a_local_function(outline) -> None:
    source = """
    export function debounce(fn, ms) {
      let timer;
      const cancel = () => clearTimeout(timer);
      return (...args) => { cancel(); timer = setTimeout(() => fn(...args), ms); };
    }
    """
    assert outline(source, "src/debounce.js") == [
        ("function", "debounce.debounce"),
        ("function", "debounce.debounce.cancel"),  # the returned, unnamed arrow is not a symbol
    ]
