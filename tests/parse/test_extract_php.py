"""PHP: namespaces, classes, interfaces, traits, enums, functions, methods, properties."""

from __future__ import annotations

from parse_helpers import by_name, name_span

SOURCE = """<?php
namespace App\\Models;

use Foo\\Bar;

const LIMIT = 5;

/**
 * A registered user.
 */
#[Entity]
final class User extends Model implements JsonSerializable
{
    public const ROLE = 'user';
    private ?string $name = null;
    public function __construct(private int $id) {}
    public static function find(int $id): ?self { return null; }
}

interface Shape { public function area(): float; }
trait Greets { public function hello(): string { return "hi"; } }
enum Suit: string { case Hearts = 'H'; case Spades = 'S'; }
function helper($x) { return $x; }
$handler = function () {};
"""


def test_php_outline(outline) -> None:
    assert outline(SOURCE, "src/Models/User.php") == [
        ("constant", "App.Models.LIMIT"),
        ("class", "App.Models.User"),
        ("constant", "App.Models.User.ROLE"),
        ("property", "App.Models.User.name"),
        ("constructor", "App.Models.User.__construct"),
        ("method", "App.Models.User.find"),
        ("interface", "App.Models.Shape"),
        ("method", "App.Models.Shape.area"),
        ("class", "App.Models.Greets"),
        ("method", "App.Models.Greets.hello"),
        ("enum", "App.Models.Suit"),
        ("enum_member", "App.Models.Suit.Hearts"),
        ("enum_member", "App.Models.Suit.Spades"),
        ("function", "App.Models.helper"),
        ("function", "App.Models.handler"),
    ]


def test_php_docblock_signature_and_property_name(extract) -> None:
    symbols = extract(SOURCE, "User.php")
    user = by_name(symbols, "App.Models.User")
    assert user.doc == "A registered user."
    assert user.signature == "#[Entity] final class User extends Model implements JsonSerializable"
    name = by_name(symbols, "App.Models.User.name")
    assert name_span(name) == (14, 21, 14, 25)  # without the `$`
    assert by_name(symbols, "App.Models.User.find").signature == (
        "public static function find(int $id): ?self"
    )


def test_php_braced_namespace_is_a_symbol(outline) -> None:
    source = "<?php\nnamespace Shop { class Cart {} }\n"
    assert outline(source, "cart.php") == [("namespace", "Shop"), ("class", "Shop.Cart")]


def test_php_unicode_identifiers_and_their_utf16_columns(extract) -> None:
    source = "<?php\nclass Größe { public function fläche(): float { return 0.0; } }\n"
    symbols = extract(source, "Groesse.php")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("class", "Größe"),
        ("method", "Größe.fläche"),
    ]
    assert name_span(by_name(symbols, "Größe")) == (1, 6, 1, 11)
    assert name_span(by_name(symbols, "Größe.fläche")) == (1, 30, 1, 36)


def test_a_php_closure_assigned_inside_a_function_is_a_local_function(outline) -> None:
    source = """<?php
    final class Router
    {
        public function register(array $routes): void
        {
            $normalize = fn(string $path): string => rtrim($path, '/');
            $handler = function (Request $r) use ($routes) { return $routes[$r->path]; };
        }
    }
    """
    assert outline(source, "Router.php") == [
        ("class", "Router"),
        ("method", "Router.register"),
        ("function", "Router.register.normalize"),
        ("function", "Router.register.handler"),
    ]
