"""Which symbols a filter admits, read from the FAST fields of one snapshot (no stored fields).

A filtered semantic search asks the text index for the symbols its filter
(kind, language, path globs) admits before it touches a vector: their ids
(``symbol_id`` column) when there are few, else how many sit in each IVF list
(a terms aggregation over the ``cluster_id`` column), so it can pick the lists
worth scanning and then ask for the ids in those lists only.

Both read the committed searcher and, while refreshed writes wait for a commit,
the in-memory delta's; committed documents that newer writes replaced or deleted
(the snapshot's hidden ids) are dropped from ids. Cluster counts still include
them: an aggregation cannot skip them, and a count that is a few too high only
moves which lists come first.

Measured on 100,000 documents (one segment, see ``benchmarks/README.md``,
"Filtered semantic search"): the aggregation costs ~0.2–1 ms, ids ~0.6 µs
each (the search collecting them and ``fast_field_values``).
"""

from __future__ import annotations

from typing import Final, cast

import tantivy

from quiver.text import schema as fields
from quiver.text.delta import Snapshot

_AGGREGATION: Final = "clusters"


def _sources(snapshot: Snapshot) -> list[tuple[tantivy.Searcher, frozenset[int]]]:
    sources = [(snapshot.committed, snapshot.hidden_ids)]
    if snapshot.delta is not None:
        sources.append((snapshot.delta, frozenset()))
    return sources


def admitted_ids(snapshot: Snapshot, query: tantivy.Query) -> list[int]:
    """The symbol ids of every document ``query`` matches.

    Costs one Tantivy search per source, plus ~85 ns per id read from the fast field.
    """
    found: list[int] = []
    for searcher, hidden in _sources(snapshot):
        total = int(searcher.num_docs)
        if total == 0:
            continue
        hits = searcher.search(query, total, count=False).hits
        addresses = [address for _, address in hits]
        # An unsigned field: its values are ints (None only for a segment without it).
        values = cast("list[int | None]", searcher.fast_field_values(fields.SYMBOL_ID, addresses))
        if hidden:
            found.extend(v for v in values if v is not None and v not in hidden)
        else:
            found.extend(v for v in values if v is not None)
    return found


def cluster_counts(snapshot: Snapshot, query: tantivy.Query, max_clusters: int) -> dict[int, int]:
    """How many documents ``query`` matches in each IVF list (``cluster_id``), hidden ones included.

    At most ``max_clusters`` lists are reported (the most populated). Costs one
    terms aggregation over the fast field per source, ~0.4–0.9 ms per 100,000
    matching documents, plus ~0.1 µs per list reported.
    """
    aggregation = {
        _AGGREGATION: {
            "terms": {"field": fields.CLUSTER_ID, "size": max_clusters, "shard_size": max_clusters}
        }
    }
    counts: dict[int, int] = {}
    for searcher, _hidden in _sources(snapshot):
        if int(searcher.num_docs) == 0:
            continue
        buckets = searcher.aggregate(query, aggregation)[_AGGREGATION]["buckets"]
        if not counts:
            counts = {bucket["key"]: bucket["doc_count"] for bucket in buckets}
            continue
        for bucket in buckets:
            counts[bucket["key"]] = counts.get(bucket["key"], 0) + bucket["doc_count"]
    return counts
