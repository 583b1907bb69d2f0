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
"Filtered semantic search"): collecting the matches costs ~0.2–0.9 ms, ids
~85 ns each (``fast_field_values``), the aggregation ~0.4–0.9 ms.
"""

from __future__ import annotations

from typing import Final

import tantivy

from quiver.text import schema as fields
from quiver.text.delta import Snapshot

_AGGREGATION: Final = "clusters"


def _sources(snapshot: Snapshot) -> list[tuple[tantivy.Searcher, frozenset[int]]]:
    sources = [(snapshot.committed, snapshot.hidden_ids)]
    if snapshot.delta is not None:
        sources.append((snapshot.delta, frozenset()))
    return sources


def admitted_ids(snapshot: Snapshot, query: tantivy.Query, limit: int | None) -> list[int] | None:
    """The symbol ids of every document ``query`` matches, or None when more than ``limit``.

    ``limit=None`` always returns them all. Costs one Tantivy search per source
    (collecting at most ``limit`` + 1 + hidden documents), plus ~85 ns per id read
    from the fast field; when a search fills up, no id is read.
    """
    found: list[int] = []
    for searcher, hidden in _sources(snapshot):
        total = int(searcher.num_docs)
        if total == 0:
            continue
        wanted = total if limit is None else min(total, limit + 1 + len(hidden))
        hits = searcher.search(query, wanted, count=False).hits
        if limit is not None and len(hits) == wanted and wanted - len(hidden) > limit:
            return None  # even without any hidden one, more than ``limit`` remain
        addresses = [address for _, address in hits]
        values = searcher.fast_field_values(fields.SYMBOL_ID, addresses)
        found.extend(int(v) for v in values if v is not None and v not in hidden)
    if limit is not None and len(found) > limit:
        return None
    return found


def cluster_counts(snapshot: Snapshot, query: tantivy.Query, max_clusters: int) -> dict[int, int]:
    """How many documents ``query`` matches in each IVF list (``cluster_id``), hidden ones included.

    At most ``max_clusters`` lists are reported (the most populated). Costs one
    terms aggregation over the fast field per source, ~0.4–0.9 ms per 100,000
    matching documents.
    """
    counts: dict[int, int] = {}
    aggregation = {
        _AGGREGATION: {
            "terms": {"field": fields.CLUSTER_ID, "size": max_clusters, "shard_size": max_clusters}
        }
    }
    for searcher, _hidden in _sources(snapshot):
        if int(searcher.num_docs) == 0:
            continue
        result = searcher.aggregate(query, aggregation)
        for bucket in result[_AGGREGATION]["buckets"]:
            cluster = int(bucket["key"])
            counts[cluster] = counts.get(cluster, 0) + int(bucket["doc_count"])
    return counts
