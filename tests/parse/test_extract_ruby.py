"""Ruby: modules, classes, `def self.x`, `class << self`, constants, attr accessors."""

from __future__ import annotations

from parse_helpers import by_name, name_span, span

SOURCE = """
# Billing domain.
module Billing
  VERSION = "1.0"

  # An invoice.
  class Invoice < Base
    attr_reader :total, :currency

    def initialize(total)
      @total = total
    end

    def self.build(*args) = new(*args)

    class << self
      def registry; end
    end

    def paid? = true
  end

  class Line::Item; end
end

def top_level; end
"""


def test_ruby_outline(outline) -> None:
    assert outline(SOURCE, "lib/billing.rb") == [
        ("module", "Billing"),
        ("constant", "Billing.VERSION"),
        ("class", "Billing.Invoice"),
        ("property", "Billing.Invoice.total"),
        ("property", "Billing.Invoice.currency"),
        ("constructor", "Billing.Invoice.initialize"),
        ("method", "Billing.Invoice.build"),
        ("method", "Billing.Invoice.registry"),
        ("method", "Billing.Invoice.paid?"),
        ("class", "Billing.Line.Item"),
        ("function", "top_level"),
    ]


def test_ruby_comments_signatures_and_ranges(extract) -> None:
    symbols = extract(SOURCE, "billing.rb")
    invoice = by_name(symbols, "Billing.Invoice")
    assert invoice.doc == "An invoice."
    assert span(invoice) == (5, 2, 19, 5)
    assert by_name(symbols, "Billing").doc == "Billing domain."
    assert by_name(symbols, "Billing.Invoice.initialize").signature == "def initialize(total)"
    assert by_name(symbols, "Billing.Invoice.build").signature == "def self.build(*args)"


LAMBDAS = """
module Pricing
  # Rounds to cents.
  ROUND = ->(amount) { amount.round(2) }

  class Discount
    APPLY = lambda do |price, percent|
      price * (1 - percent / 100.0)
    end

    def total(items)
      subtotal = ->(list) { list.sum(&:price) }
      ROUND.(subtotal.(items))
    end
  end
end

square = ->(x) { x * x }
cube = lambda { |x| x * x * x }
log_error = proc { |e| warn e.message }
on_exit = Proc.new { puts "bye" }
"""


def test_a_ruby_lambda_or_proc_assigned_to_a_name_is_a_function(extract) -> None:
    symbols = extract(LAMBDAS, "pricing.rb")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("module", "Pricing"),
        ("function", "Pricing.ROUND"),  # a function, though its name is a constant's
        ("class", "Pricing.Discount"),
        ("method", "Pricing.Discount.APPLY"),
        ("method", "Pricing.Discount.total"),
        ("function", "Pricing.Discount.total.subtotal"),
        ("function", "square"),
        ("function", "cube"),
        ("function", "log_error"),
        ("function", "on_exit"),
    ]
    round_ = by_name(symbols, "Pricing.ROUND")
    assert span(round_) == (2, 2, 2, 40)
    assert name_span(round_) == (2, 2, 2, 7)
    assert round_.signature == "ROUND = ->(amount)"
    assert round_.doc == "Rounds to cents."
    assert by_name(symbols, "cube").signature == "cube = lambda { |x|"
    assert by_name(symbols, "Pricing.Discount.APPLY").signature == (
        "APPLY = lambda do |price, percent|"
    )


def test_a_ruby_block_passed_to_a_method_is_not_a_symbol(outline) -> None:
    assert outline("totals = items.map { |i| i.price }\nVERSION = '2.1'\n", "x.rb") == [
        ("constant", "VERSION"),
    ]


def test_ruby_unicode_identifiers_and_their_utf16_columns(extract) -> None:
    source = """
    class Größe
      def länge = @länge
      def self.für(wert) = new(wert)
    end
    """
    symbols = extract(source, "groesse.rb")
    assert [(s.kind.label, s.qualified_name) for s in symbols] == [
        ("class", "Größe"),
        ("method", "Größe.länge"),
        ("method", "Größe.für"),
    ]
    assert name_span(by_name(symbols, "Größe.länge")) == (1, 6, 1, 11)
    assert name_span(by_name(symbols, "Größe.für")) == (2, 11, 2, 14)


def test_the_first_definition_in_a_ruby_body_keeps_its_comment(extract) -> None:
    # tree-sitter-ruby puts a comment before a body's first statement outside the body.
    source = """
    class Invoice < Base # :nodoc:
      # Total in cents.
      def total = @lines.sum(&:cents)

      # Marks the invoice paid.
      def pay!; end
    end
    """
    symbols = extract(source, "invoice.rb")
    assert by_name(symbols, "Invoice").doc == ""
    assert by_name(symbols, "Invoice.total").doc == "Total in cents."
    assert by_name(symbols, "Invoice.pay!").doc == "Marks the invoice paid."
