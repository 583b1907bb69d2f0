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


def test_a_cpp_lambda_in_a_class_is_a_method_and_in_a_function_a_local_function(outline) -> None:
    source = """
    struct Scheduler {
        static inline auto by_deadline = [](const Task& a, const Task& b) {
            return a.deadline < b.deadline;
        };
        void run(std::vector<Task>& tasks) {
            auto ready = [now = clock::now()](const Task& t) { return t.start <= now; };
            std::erase_if(tasks, std::not_fn(ready));
        }
    };
    """
    assert outline(source, "scheduler.hpp", "cpp") == [
        ("struct", "Scheduler"),
        ("method", "Scheduler.by_deadline"),
        ("method", "Scheduler.run"),
        ("function", "Scheduler.run.ready"),
    ]


NESTED = """
class LruCache {
public:
    struct Entry {
        std::string key;
        std::size_t hits = 0;
    };
    class Stats {
    public:
        double hit_rate() const;
    private:
        struct Window { int size; };
    };
    Stats stats() const;
};

double LruCache::Stats::hit_rate() const { return 0.0; }
"""


def test_cpp_nested_classes_are_contained_in_their_outer_class(outline) -> None:
    assert outline(NESTED, "lru.cpp") == [
        ("class", "LruCache"),
        ("struct", "LruCache.Entry"),
        ("field", "LruCache.Entry.key"),
        ("field", "LruCache.Entry.hits"),
        ("class", "LruCache.Stats"),
        ("method", "LruCache.Stats.hit_rate"),
        ("struct", "LruCache.Stats.Window"),
        ("field", "LruCache.Stats.Window.size"),
        ("method", "LruCache.stats"),
        ("method", "LruCache.Stats.hit_rate"),
    ]


OVERLOADS = """
class Matrix {
public:
    Matrix operator*(const Matrix& other) const;
    Matrix operator*(double factor) const;
};

[[nodiscard]] int clamp(int value, int lo, int hi);
[[nodiscard]] double clamp(double value, double lo, double hi);

[[nodiscard, gnu::pure]]
inline std::size_t hash_of(std::string_view s) noexcept { return std::hash<std::string_view>{}(s); }
"""


def test_cpp_overloads_are_separate_symbols_with_their_own_signatures(extract) -> None:
    symbols = extract(OVERLOADS, "matrix.hpp", "cpp")
    times = [s for s in symbols if s.qualified_name == "Matrix.operator*"]
    assert [s.signature for s in times] == [
        "Matrix operator*(const Matrix& other) const;",
        "Matrix operator*(double factor) const;",
    ]
    assert [s.kind.label for s in times] == ["method", "method"]
    clamps = [s for s in symbols if s.qualified_name == "clamp"]
    assert [s.range.start.line for s in clamps] == [6, 7]
    assert len({s.content_hash for s in clamps}) == 2


def test_cpp_attributes_are_in_the_range_and_signature(extract) -> None:
    symbols = extract(OVERLOADS, "matrix.hpp", "cpp")
    clamp = next(s for s in symbols if s.qualified_name == "clamp")
    assert span(clamp) == (6, 0, 6, 51)
    assert name_span(clamp) == (6, 18, 6, 23)
    assert clamp.signature == "[[nodiscard]] int clamp(int value, int lo, int hi);"
    hash_of = by_name(symbols, "hash_of")
    assert span(hash_of)[:2] == (9, 0)  # the attribute on the line above
    assert hash_of.signature == (
        "[[nodiscard, gnu::pure]] inline std::size_t hash_of(std::string_view s) noexcept"
    )


UNICODE = """
namespace geometrie {
struct Größe { double länge; double höhe; };
double fläche(const Größe& g) { return g.länge * g.höhe; }
}
"""


def test_cpp_unicode_identifiers_and_their_utf16_columns(extract) -> None:
    symbols = extract(UNICODE, "geometrie.cpp")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("namespace", "geometrie"),
        ("struct", "geometrie.Größe"),
        ("field", "geometrie.Größe.länge"),
        ("field", "geometrie.Größe.höhe"),
        ("function", "geometrie.fläche"),
    ]
    # "Größe" is 7 UTF-8 bytes but 5 UTF-16 units, so "länge" starts at column 22.
    assert name_span(by_name(symbols, "geometrie.Größe.länge")) == (1, 22, 1, 27)
    assert name_span(by_name(symbols, "geometrie.fläche")) == (2, 7, 2, 13)
