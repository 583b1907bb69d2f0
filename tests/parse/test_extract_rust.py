"""Rust: structs, enums, traits, impl blocks (methods belong to the type), modules, generics."""

from __future__ import annotations

from parse_helpers import by_name, name_span, span

SOURCE = """
//! Crate docs.

/// A point in space.
#[derive(Debug, Clone)]
pub struct Point<T> {
    pub x: T,
    y: T,
}

pub struct Meters(f64);

pub enum Shape {
    Circle { radius: f64 },
    Square(f64),
    Empty,
}

pub trait Area {
    fn area(&self) -> f64;
    fn describe(&self) -> String { String::new() }
}

impl<T: Copy> Point<T> {
    pub const ORIGIN_LABEL: &'static str = "origin";

    /// Makes a point.
    pub fn new(x: T, y: T) -> Self { Point { x, y } }
}

impl Area for Shape {
    fn area(&self) -> f64 { 0.0 }
}

mod geometry {
    pub fn distance() -> f64 { 0.0 }
}

pub type Pair<T> = (T, T);
static COUNTER: u32 = 0;
macro_rules! square { ($x:expr) => { $x * $x }; }
fn größe() -> usize { 1 }
"""


def test_rust_outline_puts_impl_methods_in_their_type(outline) -> None:
    assert outline(SOURCE, "src/shapes.rs") == [
        ("struct", "shapes.Point"),
        ("field", "shapes.Point.x"),
        ("field", "shapes.Point.y"),
        ("struct", "shapes.Meters"),
        ("enum", "shapes.Shape"),
        ("enum_member", "shapes.Shape.Circle"),
        ("field", "shapes.Shape.Circle.radius"),
        ("enum_member", "shapes.Shape.Square"),
        ("enum_member", "shapes.Shape.Empty"),
        ("interface", "shapes.Area"),
        ("method", "shapes.Area.area"),
        ("method", "shapes.Area.describe"),
        ("constant", "shapes.Point.ORIGIN_LABEL"),
        ("method", "shapes.Point.new"),
        ("method", "shapes.Shape.area"),
        ("module", "shapes.geometry"),
        ("function", "shapes.geometry.distance"),
        ("type_parameter", "shapes.Pair"),
        ("constant", "shapes.COUNTER"),
        ("function", "shapes.square"),
        ("function", "shapes.größe"),
    ]


def test_rust_attributes_and_doc_comments_belong_to_the_item(extract) -> None:
    point = by_name(extract(SOURCE, "src/shapes.rs"), "shapes.Point")
    assert span(point) == (3, 0, 7, 1)  # from #[derive] to the closing brace
    assert name_span(point) == (4, 11, 4, 16)
    assert point.doc == "A point in space."
    assert point.signature == "pub struct Point<T>"


def test_rust_crate_roots_and_mod_files_name_the_module(outline) -> None:
    assert outline("fn main() {}", "src/main.rs") == [("function", "crate.main")]
    assert outline("fn f() {}", "src/net/mod.rs") == [("function", "net.f")]


def test_rust_generic_impl_signature_and_doc(extract) -> None:
    new = by_name(extract(SOURCE, "src/shapes.rs"), "shapes.Point.new")
    assert new.signature == "pub fn new(x: T, y: T) -> Self"
    assert new.doc == "Makes a point."


def test_a_rust_closure_bound_by_let_is_a_local_function(extract) -> None:
    source = """
    pub fn tokenize(input: &str) -> Vec<String> {
        let is_separator = |c: char| c.is_whitespace() || c == ',';
        let mut push = |word: &str, out: &mut Vec<String>| {
            out.push(word.to_lowercase());
        };
        let count = input.len();
        Vec::new()
    }
    """
    symbols = extract(source, "src/lexer.rs")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("function", "lexer.tokenize"),
        ("function", "lexer.tokenize.is_separator"),
        ("function", "lexer.tokenize.push"),
    ]
    is_separator = by_name(symbols, "lexer.tokenize.is_separator")
    assert span(is_separator) == (1, 4, 1, 63)
    assert name_span(is_separator) == (1, 8, 1, 20)
    assert is_separator.signature == "let is_separator = |c: char|"
    assert by_name(symbols, "lexer.tokenize.push").signature == (
        "let mut push = |word: &str, out: &mut Vec<String>|"
    )
