"""Java: the package is the module part; classes, interfaces, enums, records, overloads."""

from __future__ import annotations

from parse_helpers import by_name, name_span, span

SOURCE = """
package com.example.store;

import java.util.List;

/** Holds one item. */
@Deprecated
public class Box<T extends Comparable<T>> implements Container<T> {
    public static final int MAX = 10;
    private T value;

    /** Makes a box. */
    public Box(T value) { this.value = value; }

    public <R> Box<R> map(Function<T, R> f) { return null; }
    void put(int x) {}
    void put(String s) {}

    static class Inner { int depth; }
    interface Visitor { void visit(Box<?> box); }
    enum Color { RED, GREEN; Color() {} }
}

record Point(int x, int y) {
    Point { }
    static Point origin() { return new Point(0, 0); }
}

@interface Marker { String value() default ""; }

interface Shape { double PI = 3.14; double área(); }
"""


def test_java_outline(outline) -> None:
    p = "com.example.store"
    assert outline(SOURCE, "src/main/java/com/example/store/Box.java") == [
        ("class", f"{p}.Box"),
        ("constant", f"{p}.Box.MAX"),
        ("field", f"{p}.Box.value"),
        ("constructor", f"{p}.Box.Box"),
        ("method", f"{p}.Box.map"),
        ("method", f"{p}.Box.put"),
        ("method", f"{p}.Box.put"),
        ("class", f"{p}.Box.Inner"),
        ("field", f"{p}.Box.Inner.depth"),
        ("interface", f"{p}.Box.Visitor"),
        ("method", f"{p}.Box.Visitor.visit"),
        ("enum", f"{p}.Box.Color"),
        ("enum_member", f"{p}.Box.Color.RED"),
        ("enum_member", f"{p}.Box.Color.GREEN"),
        ("constructor", f"{p}.Box.Color.Color"),
        ("class", f"{p}.Point"),
        ("constructor", f"{p}.Point.Point"),
        ("method", f"{p}.Point.origin"),
        ("interface", f"{p}.Marker"),
        ("method", f"{p}.Marker.value"),
        ("interface", f"{p}.Shape"),
        ("constant", f"{p}.Shape.PI"),
        ("method", f"{p}.Shape.área"),
    ]


def test_java_annotations_are_in_the_range_and_javadoc_is_the_doc(extract) -> None:
    symbols = extract(SOURCE, "Box.java")
    box = by_name(symbols, "com.example.store.Box")
    assert span(box) == (5, 0, 20, 1)
    assert name_span(box) == (6, 13, 6, 16)
    assert box.doc == "Holds one item."
    constructor = by_name(symbols, "com.example.store.Box.Box")
    assert constructor.doc == "Makes a box."
    assert constructor.signature == "public Box(T value)"


def test_java_without_package_has_no_module_part(outline) -> None:
    assert outline("class A { void f() {} }", "A.java") == [("class", "A"), ("method", "A.f")]


LAMBDAS = """
package com.example.text;

public final class Strings {
    /** Orders by length; a method reference, not a lambda, so a constant. */
    public static final Comparator<String> BY_LENGTH = Comparator.comparingInt(String::length);

    /** Strips surrounding white space. */
    public static final Function<String, String> TRIM = s -> s.strip();
    private final Runnable onClose = () -> { System.out.println("closed"); };

    @Override
    public String toString() { return "Strings"; }

    static <T extends CharSequence> List<T> nonBlank(List<T> items) {
        Predicate<T> notBlank = item -> !item.toString().isBlank();
        return items.stream().filter(notBlank).toList();
    }
}
"""


def test_a_java_lambda_assigned_to_a_name_is_a_function(extract) -> None:
    symbols = extract(LAMBDAS, "Strings.java")
    p = "com.example.text.Strings"
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("class", p),
        ("constant", f"{p}.BY_LENGTH"),
        ("method", f"{p}.TRIM"),  # a field holding a lambda
        ("method", f"{p}.onClose"),
        ("method", f"{p}.toString"),
        ("method", f"{p}.nonBlank"),
        ("function", f"{p}.nonBlank.notBlank"),  # a local
    ]
    trim = by_name(symbols, f"{p}.TRIM")
    assert span(trim) == (7, 4, 7, 71)
    assert name_span(trim) == (7, 49, 7, 53)
    assert trim.signature == "public static final Function<String, String> TRIM = s ->"
    assert trim.doc == "Strips surrounding white space."
    assert by_name(symbols, f"{p}.onClose").signature == "private final Runnable onClose = () ->"


def test_java_method_annotations_are_in_the_range_and_generics_in_the_signature(extract) -> None:
    symbols = extract(LAMBDAS, "Strings.java")
    to_string = by_name(symbols, "com.example.text.Strings.toString")
    assert span(to_string) == (10, 4, 11, 50)  # from @Override
    assert name_span(to_string) == (11, 18, 11, 26)
    assert by_name(symbols, "com.example.text.Strings.nonBlank").signature == (
        "static <T extends CharSequence> List<T> nonBlank(List<T> items)"
    )


def test_java_overloads_are_separate_symbols_with_their_own_signatures(extract) -> None:
    puts = [s for s in extract(SOURCE, "Box.java") if s.name == "put"]
    assert [s.signature for s in puts] == ["void put(int x)", "void put(String s)"]
    assert len({s.content_hash for s in puts}) == 2
