"""The vector index: an IVFFlat index of unit vectors under inner product, on memory-mapped files.

``IVFIndex`` (``quiver.ivf.index``) is the API, in faiss's words: ``train``,
``add_with_ids``, ``remove_ids``, ``search(queries, k) -> (scores, ids)``, ``nlist``,
``nprobe``; plus ``commit``/``refresh`` for publishing and following generations on
disk, ``probe``/``cluster_of`` for restricting the text index to the probed clusters,
and ``compact``/``retrain`` with their triggers. Modules, one job each:

* ``kmeans``: training the coarse quantiser (spherical k-means, sampled, two-level).
* ``kernels``: the numba loops (list scans with a top-k heap, int8 scoring, k-means steps).
* ``jit``: how kernels are compiled and where numba caches them.
* ``storage``: the inverted lists on disk, the in-memory delta, change records.
* ``state``: the in-memory content, snapshots for lock-free searches, log replay.
* ``persist``: the index on disk: creating, opening, publishing and following generations.
* ``validate``: checks on the settings, vectors, queries and ids callers pass.
* ``scanning``: running a search over a snapshot with the kernels; warming them up.
* ``policy``: when to compact (fold the delta) and when to retrain (clusters drifted).
* ``rebuild``: learning centroids and rewriting the lists (train, retrain, compact).
* ``index``: ``IVFIndex``, the faiss-shaped API composing the modules above.
"""
