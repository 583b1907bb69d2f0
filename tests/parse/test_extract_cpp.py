"""C++: namespaces, classes, templates, constructors, out-of-line `A::f` definitions."""

from __future__ import annotations

from parse_helpers import by_name, name_span, span

SOURCE = """
namespace geo {
namespace detail { int helper(); }

/// A shape with an area.
class Shape {
public:
    Shape();
    virtual ~Shape();
    virtual double area() const = 0;
    bool operator==(const Shape& other) const;
private:
    int id_;
};

template <typename T>
struct Box {
    T value;
    T get() const { return value; }
};

enum class Color { Red, Green };
using Id = int;
}  // namespace geo

geo::Shape::Shape() : id_(0) {}
double geo::Shape::area() const { return 0.0; }
void geo::detail::helper() {}
template <typename T> T max_of(T a, T b) { return a > b ? a : b; }
"""


def test_cpp_outline(outline) -> None:
    assert outline(SOURCE, "shape.cpp") == [
        ("namespace", "geo"),
        ("namespace", "geo.detail"),
        ("function", "geo.detail.helper"),
        ("class", "geo.Shape"),
        ("constructor", "geo.Shape.Shape"),
        ("method", "geo.Shape.~Shape"),
        ("method", "geo.Shape.area"),
        ("method", "geo.Shape.operator=="),
        ("field", "geo.Shape.id_"),
        ("struct", "geo.Box"),
        ("field", "geo.Box.value"),
        ("method", "geo.Box.get"),
        ("enum", "geo.Color"),
        ("enum_member", "geo.Color.Red"),
        ("enum_member", "geo.Color.Green"),
        ("type_parameter", "geo.Id"),
        ("constructor", "geo.Shape.Shape"),
        ("method", "geo.Shape.area"),
        ("function", "geo.detail.helper"),
        ("function", "max_of"),
    ]


def test_out_of_line_definition_selects_the_bare_name(extract) -> None:
    symbols = extract(SOURCE, "shape.cpp")
    area = [s for s in symbols if s.qualified_name == "geo.Shape.area"][1]
    assert span(area) == (25, 0, 25, 47)
    assert name_span(area) == (25, 19, 25, 23)
    assert area.signature == "double geo::Shape::area() const"


def test_templates_belong_to_the_range_and_signature(extract) -> None:
    symbols = extract(SOURCE, "shape.cpp")
    box = by_name(symbols, "geo.Box")
    assert span(box)[:2] == (14, 0)
    assert box.signature == "template <typename T> struct Box"
    assert by_name(symbols, "geo.Shape").doc == "A shape with an area."


LAMBDAS = """
#include <algorithm>
#include <vector>

/// Squares a number.
auto sq = [](int x) { return x * x; };

namespace util {
static const auto by_length = [](const std::string& a, const std::string& b) {
    return a.size() < b.size();
};
std::function<void(int)> on_exit = [](int code) { std::exit(code); };
}  // namespace util
"""


def test_a_cpp_lambda_assigned_to_a_name_is_a_function(extract) -> None:
    symbols = extract(LAMBDAS, "util.cpp")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("function", "sq"),
        ("namespace", "util"),
        ("function", "util.by_length"),
        ("function", "util.on_exit"),
    ]
    square = by_name(symbols, "sq")
    assert span(square) == (4, 0, 4, 38)
    assert name_span(square) == (4, 5, 4, 7)
    assert square.signature == "auto sq = [](int x)"
    assert square.doc == "Squares a number."
    by_length = by_name(symbols, "util.by_length")
    assert span(by_length) == (7, 0, 9, 2)
    assert by_length.signature == (
        "static const auto by_length = [](const std::string& a, const std::string& b)"
    )
