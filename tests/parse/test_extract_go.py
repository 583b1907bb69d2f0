"""Go: the package is the module part; methods belong to their receiver type."""

from __future__ import annotations

from parse_helpers import by_name, name_span, span

SOURCE = """
// Package shapes draws shapes.
package shapes

import "math"

// Shape is anything with an area.
type Shape interface {
	Area() float64
}

type (
	// Point is a position.
	Point struct {
		X, Y float64
	}
	ID = string
)

// Area of a circle.
func (c *Circle) Area() float64 { return math.Pi * c.R * c.R }

func (l List[T]) Len() int { return len(l.items) }

// Map applies f.
func Map[T, U any](xs []T, f func(T) U) []U { return nil }

const Pi = 3.14
const (
	Small = iota
	Large
)

var DefaultName = "shape"

func 你好() {}
"""


def test_go_outline_uses_package_and_receiver_as_container(outline) -> None:
    assert outline(SOURCE, "shapes/shapes.go") == [
        ("interface", "shapes.Shape"),
        ("method", "shapes.Shape.Area"),
        ("struct", "shapes.Point"),
        ("field", "shapes.Point.X"),
        ("field", "shapes.Point.Y"),
        ("type_parameter", "shapes.ID"),
        ("method", "shapes.Circle.Area"),
        ("method", "shapes.List.Len"),
        ("function", "shapes.Map"),
        ("constant", "shapes.Pi"),
        ("constant", "shapes.Small"),
        ("constant", "shapes.Large"),
        ("variable", "shapes.DefaultName"),
        ("function", "shapes.你好"),
    ]


def test_go_single_type_declaration_spans_the_type_keyword_and_keeps_its_doc(extract) -> None:
    symbols = extract(SOURCE, "shapes.go")
    shape = by_name(symbols, "shapes.Shape")
    assert span(shape) == (6, 0, 8, 1)
    assert shape.doc == "Shape is anything with an area."
    point = by_name(symbols, "shapes.Point")
    assert span(point) == (12, 1, 14, 2)  # inside a group: just the spec
    assert point.doc == "Point is a position."
    assert point.signature == "Point struct"


def test_go_method_signature_includes_receiver_and_generics(extract) -> None:
    symbols = extract(SOURCE, "shapes.go")
    assert by_name(symbols, "shapes.Circle.Area").signature == "func (c *Circle) Area() float64"
    assert by_name(symbols, "shapes.Circle.Area").doc == "Area of a circle."
    assert by_name(symbols, "shapes.Map").signature == "func Map[T, U any](xs []T, f func(T) U) []U"


GROUPED = """
package store

var (
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("store: closed")
	defaultTTL = 5 * time.Minute
)
"""


def test_go_grouped_var_declarations_are_variables(outline, extract) -> None:
    assert outline(GROUPED, "store/errors.go") == [
        ("variable", "store.ErrClosed"),
        ("variable", "store.defaultTTL"),
    ]
    closed = by_name(extract(GROUPED, "store/errors.go"), "store.ErrClosed")
    assert span(closed) == (4, 1, 4, 40)  # the spec, not the whole group
    assert closed.doc == "ErrClosed is returned after Close."


FUNC_LITERALS = """
package handlers

// Healthz answers load balancer probes.
var Healthz = func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
}

var (
	notFound = func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
	maxBody  = int64(1 << 20)
)

func Routes(mux *http.ServeMux) {
	logged := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { next(w, r) }
	}
	var ping = func(w http.ResponseWriter, r *http.Request) {}
	mux.HandleFunc("/healthz", logged(Healthz))
	mux.HandleFunc("/ping", ping)
}
"""


def test_a_go_func_literal_assigned_to_a_name_is_a_function(extract) -> None:
    symbols = extract(FUNC_LITERALS, "handlers/routes.go")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("function", "handlers.Healthz"),
        ("function", "handlers.notFound"),
        ("variable", "handlers.maxBody"),
        ("function", "handlers.Routes"),
        ("function", "handlers.Routes.logged"),  # `:=` inside a function
        ("function", "handlers.Routes.ping"),
    ]
    healthz = by_name(symbols, "handlers.Healthz")
    assert span(healthz) == (3, 0, 5, 1)  # from `var`
    assert name_span(healthz) == (3, 4, 3, 11)
    assert healthz.signature == "var Healthz = func(w http.ResponseWriter, r *http.Request)"
    assert healthz.doc == "Healthz answers load balancer probes."
    logged = by_name(symbols, "handlers.Routes.logged")
    assert logged.signature == "logged := func(next http.HandlerFunc) http.HandlerFunc"
