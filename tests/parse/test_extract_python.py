"""Python: classes, methods, decorators, overloads, nesting, docstrings, constants."""

from __future__ import annotations

from parse_helpers import by_name, name_span, span

SOURCE = '''
"""Module docstring."""
from typing import overload

MAX_RETRIES = 3
_DEFAULT_TIMEOUT: float = 2.5
lowercase = 1


@dataclass(frozen=True)
class Client(Base):
    """Talks to the server.

    Retries failed requests.
    """

    host: str
    port: int = 80

    class Config:
        verbose = False

        def dump(self) -> str:
            return ""

    def __init__(self, host: str) -> None:
        self.host = host

    @overload
    def get(self, key: int) -> int: ...
    @overload
    def get(self, key: str) -> str: ...
    def get(self, key):
        """Fetch one key."""
        return key

    @property
    async def status(self) -> str:
        return "ok"


# Retries the wrapped call.
def retry(times: int = 3):
    # A comment between the signature and the body.
    def decorator(func):
        return func
    return decorator


class Ünïcode:
    def naïve_método(self): pass


type Vector = list[float]
'''


def test_python_outline_names_kinds_and_containers(outline) -> None:
    assert outline(SOURCE, "pkg/client.py") == [
        ("constant", "client.MAX_RETRIES"),
        ("constant", "client._DEFAULT_TIMEOUT"),
        ("class", "client.Client"),
        ("field", "client.Client.host"),
        ("field", "client.Client.port"),
        ("class", "client.Client.Config"),
        ("method", "client.Client.Config.dump"),
        ("constructor", "client.Client.__init__"),
        ("method", "client.Client.get"),
        ("method", "client.Client.get"),
        ("method", "client.Client.get"),
        ("method", "client.Client.status"),
        ("function", "client.retry"),
        ("function", "client.retry.decorator"),
        ("class", "client.Ünïcode"),
        ("method", "client.Ünïcode.naïve_método"),
        ("type_parameter", "client.Vector"),
    ]


def test_decorated_definitions_include_their_decorators_in_the_range(extract) -> None:
    symbols = extract(SOURCE, "client.py")
    client = by_name(symbols, "client.Client")
    assert span(client)[:2] == (8, 0)  # the @dataclass line
    assert name_span(client) == (9, 6, 9, 12)
    status = by_name(symbols, "client.Client.status")
    assert span(status) == (35, 4, 37, 19)
    assert status.signature == "async def status(self) -> str"


def test_overloads_are_separate_symbols_with_their_own_ranges(extract) -> None:
    overloads = [s for s in extract(SOURCE, "client.py") if s.name == "get"]
    assert [s.range.start.line for s in overloads] == [27, 29, 31]
    assert overloads[0].signature == "def get(self, key: int) -> int"
    assert overloads[2].doc == "Fetch one key."
    assert len({s.content_hash for s in overloads}) == 3


def test_docstrings_and_comments_become_the_doc(extract) -> None:
    symbols = extract(SOURCE, "client.py")
    client_doc = by_name(symbols, "client.Client").doc
    assert client_doc == "Talks to the server.\n\nRetries failed requests."
    assert by_name(symbols, "client.retry").doc == "Retries the wrapped call."
    assert by_name(symbols, "client.retry.decorator").doc == ""


def test_signatures_stop_at_the_body(extract) -> None:
    symbols = extract(SOURCE, "client.py")
    assert by_name(symbols, "client.Client").signature == "class Client(Base)"
    assert by_name(symbols, "client.retry").signature == "def retry(times: int = 3)"
    assert by_name(symbols, "client.MAX_RETRIES").signature == "MAX_RETRIES = 3"
    assert by_name(symbols, "client.Client.port").signature == "port: int = 80"


def test_package_init_takes_the_directory_as_module_name(outline) -> None:
    assert outline("def f(): pass\n", "src/quiver/__init__.py") == [("function", "quiver.f")]


def test_body_is_the_head_of_the_symbol_text(extract) -> None:
    symbols = extract(SOURCE, "client.py")
    dump = by_name(symbols, "client.Client.Config.dump")
    assert dump.body == 'def dump(self) -> str:\n            return ""'
    long = extract("def big():\n" + "    x = 1\n" * 1000, "big.py")[0]
    assert len(long.body) == 2000
    assert long.body.startswith("def big():\n    x = 1")


def test_syntax_errors_still_yield_what_parses(outline) -> None:
    broken = """
    class Good:
        def ok(self): pass

    def broken(:
        pass

    def after(): pass
    """
    found = outline(broken, "broken.py")
    assert ("class", "broken.Good") in found
    assert ("method", "broken.Good.ok") in found
    assert ("function", "broken.after") in found


GENERICS = """
class Stack[T]:
    def push[U: T](self, item: U) -> None: ...


def first[T](items: Sequence[T]) -> T:
    return items[0]


type Pair[K, V] = tuple[K, V]
"""


def test_python_generic_classes_functions_and_aliases_keep_their_type_parameters(extract) -> None:
    symbols = extract(GENERICS, "stack.py")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("class", "stack.Stack"),
        ("method", "stack.Stack.push"),
        ("function", "stack.first"),
        ("type_parameter", "stack.Pair"),
    ]
    assert by_name(symbols, "stack.Stack").signature == "class Stack[T]"
    assert by_name(symbols, "stack.Stack.push").signature == (
        "def push[U: T](self, item: U) -> None"
    )
    pair = by_name(symbols, "stack.Pair")
    assert name_span(pair) == (8, 5, 8, 9)
    assert pair.signature == "type Pair[K, V] = tuple[K, V]"


LAMBDAS = '''
square = lambda x: x * x
BY_PRIORITY = lambda task: (task.priority, task.created)
on_error: Callable[[Exception], None] = lambda exc: log.warning("failed: %s", exc)


class Scheduler:
    deadline = lambda self, task: task.deadline

    def run(self, tasks):
        """Run tasks in order."""
        order = lambda t: t.priority
        return sorted(tasks, key=order)
'''


def test_a_python_lambda_assigned_to_a_name_is_a_function(extract) -> None:
    symbols = extract(LAMBDAS, "jobs.py")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("function", "jobs.square"),
        ("function", "jobs.BY_PRIORITY"),  # a function, though its name looks like a constant
        ("function", "jobs.on_error"),
        ("class", "jobs.Scheduler"),
        ("method", "jobs.Scheduler.deadline"),
        ("method", "jobs.Scheduler.run"),
        ("function", "jobs.Scheduler.run.order"),
    ]
    square = by_name(symbols, "jobs.square")
    assert span(square) == (0, 0, 0, 24)
    assert name_span(square) == (0, 0, 0, 6)
    assert square.signature == "square = lambda x"
    assert by_name(symbols, "jobs.on_error").signature == (
        "on_error: Callable[[Exception], None] = lambda exc"
    )


def test_a_lambda_passed_as_an_argument_is_not_a_symbol(outline) -> None:
    source = "ordered = sorted(tasks, key=lambda t: t.priority)\n"
    assert outline(source, "jobs.py") == []
