"""Ruby: modules, classes, `def self.x`, `class << self`, constants, attr accessors."""

from __future__ import annotations

from parse_helpers import by_name, span

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
