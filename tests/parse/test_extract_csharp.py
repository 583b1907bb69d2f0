"""C#: namespaces (block and file-scoped), classes, properties, events, overloads, records."""

from __future__ import annotations

from parse_helpers import by_name, name_span, span

SOURCE = """
namespace Acme.Billing
{
    /// <summary>An invoice.</summary>
    [Serializable]
    public class Invoice<T> : IDocument where T : class
    {
        public const int MaxLines = 100;
        private readonly List<T> _lines = new();
        public decimal Total { get; private set; }
        public event EventHandler Changed;
        public Invoice() { }
        public void Add(T line) { }
        public void Add(T line, int qty) => Add(line);
    }

    public interface IDocument { string Title { get; } void Print(); }
    public struct Money { public decimal Amount; }
    public enum Status { Draft, Paid = 2 }
    public record Person(string Name);
}
"""


def test_csharp_outline(outline) -> None:
    assert outline(SOURCE, "Billing/Invoice.cs") == [
        ("namespace", "Acme.Billing"),
        ("class", "Acme.Billing.Invoice"),
        ("constant", "Acme.Billing.Invoice.MaxLines"),
        ("field", "Acme.Billing.Invoice._lines"),
        ("property", "Acme.Billing.Invoice.Total"),
        ("event", "Acme.Billing.Invoice.Changed"),
        ("constructor", "Acme.Billing.Invoice.Invoice"),
        ("method", "Acme.Billing.Invoice.Add"),
        ("method", "Acme.Billing.Invoice.Add"),
        ("interface", "Acme.Billing.IDocument"),
        ("property", "Acme.Billing.IDocument.Title"),
        ("method", "Acme.Billing.IDocument.Print"),
        ("struct", "Acme.Billing.Money"),
        ("field", "Acme.Billing.Money.Amount"),
        ("enum", "Acme.Billing.Status"),
        ("enum_member", "Acme.Billing.Status.Draft"),
        ("enum_member", "Acme.Billing.Status.Paid"),
        ("class", "Acme.Billing.Person"),
    ]


def test_csharp_doc_comments_attributes_and_dotted_namespace_names(extract) -> None:
    symbols = extract(SOURCE, "Invoice.cs")
    namespace = by_name(symbols, "Acme.Billing")
    assert namespace.name == "Billing"
    assert namespace.container == "Acme"
    assert name_span(namespace) == (0, 15, 0, 22)
    invoice = by_name(symbols, "Acme.Billing.Invoice")
    assert span(invoice) == (3, 4, 13, 5)  # the [Serializable] attribute is inside
    assert invoice.doc == "<summary>An invoice.</summary>"
    assert invoice.signature == "[Serializable] public class Invoice<T> : IDocument where T : class"


def test_csharp_file_scoped_namespace_is_the_module_part(outline) -> None:
    source = """
    namespace Acme.Scoped;

    class Only { void M() { } }
    """
    assert outline(source, "Only.cs") == [
        ("class", "Acme.Scoped.Only"),
        ("method", "Acme.Scoped.Only.M"),
    ]


LAMBDAS = """
namespace Acme.Text
{
    public static class Filters
    {
        /// <summary>True for null, empty or white space.</summary>
        public static readonly Func<string, bool> IsBlank = s => string.IsNullOrWhiteSpace(s);
        private static Action<string> _log = delegate (string m) { Console.WriteLine(m); };

        public static IEnumerable<string> Words(string text)
        {
            Func<string, string> normalize = w => w.Trim().ToLowerInvariant();
            return text.Split(' ').Select(normalize);
        }
    }
}
"""


def test_a_csharp_lambda_assigned_to_a_name_is_a_function(extract) -> None:
    symbols = extract(LAMBDAS, "Filters.cs")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("namespace", "Acme.Text"),
        ("class", "Acme.Text.Filters"),
        ("method", "Acme.Text.Filters.IsBlank"),  # a field holding a lambda
        ("method", "Acme.Text.Filters._log"),  # an anonymous method
        ("method", "Acme.Text.Filters.Words"),
        ("function", "Acme.Text.Filters.Words.normalize"),  # a local
    ]
    is_blank = by_name(symbols, "Acme.Text.Filters.IsBlank")
    assert span(is_blank) == (5, 8, 5, 94)
    assert name_span(is_blank) == (5, 50, 5, 57)
    assert is_blank.signature == "public static readonly Func<string, bool> IsBlank = s =>"
    assert is_blank.doc == "<summary>True for null, empty or white space.</summary>"
    assert by_name(symbols, "Acme.Text.Filters._log").signature == (
        "private static Action<string> _log = delegate (string m)"
    )


NESTED = """
namespace Acme.Http;

public sealed class RetryPolicy<TResult> where TResult : class
{
    public sealed class Builder
    {
        public Builder MaxAttempts(int count) => this;
        public enum Backoff { Linear, Exponential }
    }

    [Obsolete("Use ExecuteAsync instead.")]
    public TResult Execute(Func<TResult> action) => action();

    public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> run, CancellationToken ct)
        where T : TResult => await run(ct);
}
"""


def test_csharp_nested_types_are_contained_in_their_outer_class(outline) -> None:
    assert outline(NESTED, "RetryPolicy.cs") == [
        ("class", "Acme.Http.RetryPolicy"),
        ("class", "Acme.Http.RetryPolicy.Builder"),
        ("method", "Acme.Http.RetryPolicy.Builder.MaxAttempts"),
        ("enum", "Acme.Http.RetryPolicy.Builder.Backoff"),
        ("enum_member", "Acme.Http.RetryPolicy.Builder.Backoff.Linear"),
        ("enum_member", "Acme.Http.RetryPolicy.Builder.Backoff.Exponential"),
        ("method", "Acme.Http.RetryPolicy.Execute"),
        ("method", "Acme.Http.RetryPolicy.ExecuteAsync"),
    ]


def test_a_csharp_method_attribute_is_in_its_range(extract) -> None:
    execute = by_name(extract(NESTED, "RetryPolicy.cs"), "Acme.Http.RetryPolicy.Execute")
    assert span(execute) == (10, 4, 11, 61)  # from [Obsolete]
    assert name_span(execute) == (11, 19, 11, 26)
    assert execute.signature == (
        '[Obsolete("Use ExecuteAsync instead.")] public TResult Execute(Func<TResult> action)'
    )


def test_csharp_generic_signatures_keep_type_parameters_and_constraints(extract) -> None:
    symbols = extract(NESTED, "RetryPolicy.cs")
    assert by_name(symbols, "Acme.Http.RetryPolicy").signature == (
        "public sealed class RetryPolicy<TResult> where TResult : class"
    )
    assert by_name(symbols, "Acme.Http.RetryPolicy.ExecuteAsync").signature == (
        "public async Task<T> ExecuteAsync<T>(Func<CancellationToken, Task<T>> run,"
        " CancellationToken ct) where T : TResult"
    )


def test_csharp_unicode_identifiers_and_their_utf16_columns(extract) -> None:
    source = """
    public class Größe { public double Fläche() => 0; }
    public enum État { Prêt, Terminé }
    """
    symbols = extract(source, "Größe.cs")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("class", "Größe"),
        ("method", "Größe.Fläche"),
        ("enum", "État"),
        ("enum_member", "État.Prêt"),
        ("enum_member", "État.Terminé"),
    ]
    assert name_span(by_name(symbols, "Größe.Fläche")) == (0, 35, 0, 41)
    assert name_span(by_name(symbols, "État.Terminé")) == (1, 25, 1, 32)
