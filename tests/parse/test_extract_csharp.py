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
