"""C: functions (definitions and prototypes), structs, typedefs, enums, macros."""

from __future__ import annotations

from parse_helpers import by_name, name_span, span

SOURCE = """
#ifndef SHAPES_H
#define SHAPES_H
#define MAX_SHAPES 64
#define SQUARE(x) ((x) * (x))

/* A point on the plane. */
struct point {
    int x;
    int *y;
    char name[16];
};

typedef struct { int w, h; } size;
typedef unsigned long ulong;
enum color { RED, GREEN = 2 };

// Adds two ints.
int add(int a, int b);

static char *duplicate(const char *s) {
    return 0;
}

int main(void) { return add(1, 2); }
#endif
"""


def test_c_outline(outline) -> None:
    assert outline(SOURCE, "shapes.h") == [
        ("constant", "MAX_SHAPES"),
        ("function", "SQUARE"),
        ("struct", "point"),
        ("field", "point.x"),
        ("field", "point.y"),
        ("field", "point.name"),
        ("struct", "size"),
        ("field", "size.w"),
        ("field", "size.h"),
        ("type_parameter", "ulong"),
        ("enum", "color"),
        ("enum_member", "color.RED"),
        ("enum_member", "color.GREEN"),
        ("function", "add"),
        ("function", "duplicate"),
        ("function", "main"),
    ]


def test_c_pointer_returning_function_and_comments(extract) -> None:
    symbols = extract(SOURCE, "shapes.c")
    duplicate = by_name(symbols, "duplicate")
    assert span(duplicate) == (19, 0, 21, 1)
    assert name_span(duplicate) == (19, 13, 19, 22)
    assert duplicate.signature == "static char *duplicate(const char *s)"
    assert by_name(symbols, "add").doc == "Adds two ints."
    assert by_name(symbols, "point").doc == "A point on the plane."


def test_c_macro_range_ends_on_its_own_line(extract) -> None:
    macro = by_name(extract(SOURCE, "shapes.h"), "MAX_SHAPES")
    assert span(macro) == (2, 0, 2, 21)


def test_c_unicode_identifiers_and_their_utf16_columns(extract) -> None:
    source = """
    /* Maße eines Rechtecks. */
    struct größe { double länge; double höhe; };
    double fläche(const struct größe *g) { return g->länge * g->höhe; }
    #define MAX_GRÖSSE 1024
    """
    symbols = extract(source, "geometrie.c")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("struct", "größe"),
        ("field", "größe.länge"),
        ("field", "größe.höhe"),
        ("function", "fläche"),
        ("constant", "MAX_GRÖSSE"),
    ]
    assert by_name(symbols, "größe").doc == "Maße eines Rechtecks."
    # "größe" is 7 UTF-8 bytes but 5 UTF-16 units, so "länge" starts at column 22.
    assert name_span(by_name(symbols, "größe.länge")) == (1, 22, 1, 27)
    assert span(by_name(symbols, "fläche")) == (2, 0, 2, 67)
