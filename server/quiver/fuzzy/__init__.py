"""Fuzzy matching of symbol names, the way editors rank Ctrl+T results.

A query matches a name when its characters appear in the name in order
(a case-insensitive subsequence). Among the matches, the ranking favours what a
person typing an abbreviation means:

* characters that land on **word starts** — the first character of the name, a
  character after a separator (``get_user``), a camelCase hump (``getUser``),
  the last capital of an acronym before a lower-case letter (``HTTPServer`` →
  ``S``), a switch between letters and digits (``utf8``);
* **contiguous runs** (``user`` inside ``getUser`` beats ``u…s…e…r`` spread out);
* characters typed in the **same case** as in the name;
* a query that is a **prefix** of the name, and above all an **exact** name;
* **shorter** names, when everything else is equal.

Separators in the query (``_ - . : / \\`` and spaces) are optional: ``get_user``
matches ``getUser`` as well as ``get_user_by_id``. A query made only of
separators (``__``) is matched literally.

The score of one alignment (the positions ``p_0 < p_1 < … < p_{m-1}`` where the
query characters land) is the sum, for each matched character, of

``MATCH`` + ``CASE`` if typed in the same case
+ ``FIRST_CHAR_MULTIPLIER × bonus(p_0)`` for the first query character,
+ ``max(bonus(p_i), CONSECUTIVE)`` when ``p_i = p_{i-1} + 1``,
+ ``bonus(p_i) + GAP_START + GAP_EXTENSION × (gap - 1)`` after a gap of ``gap``
  skipped characters — but only ``bonus(p_i) + GAP_START`` when ``p_i`` is a word
  start (skipping whole words is how abbreviations work, so it costs no more for
  long words);

where ``bonus`` is ``START``, ``WORD``, ``CAMEL`` or 0 as listed above. A
name's score is the best alignment's score (found by dynamic programming)
plus ``PREFIX`` / ``EXACT`` / ``EXACT_CASE`` bonuses, minus ``LENGTH_PENALTY``
per name character the query does not cover. Ties are broken by shorter name,
then the name's code points, then the caller's key, so results are deterministic.

With these weights ``hsr`` ranks both ``hasSortedRows`` and
``HttpServerRequest`` (every character on a word start) far above ``whiskers``
(mid-word); between the two the shorter ``hasSortedRows`` wins (its ``h`` is also
typed in the same case), while ``HSR`` puts ``HttpServerRequest`` first.

``NameIndex`` holds many names in flat numpy buffers (code points, lower-cased
code points and per-character bonuses) with two 64-bit character-set masks per
name (all its characters; the characters on its word starts). A search
discards in one vectorised step every name lacking a query character, then a
kernel keeps the best ``limit`` scores in a min-heap and skips aligning any
name whose upper bound cannot reach them. The kernels are compiled by numba
(cached on disk) once ``warm_up`` has run; before, a search computes the same
scores in numpy, by batches of names (``numpy_scoring.score_batches``): importing
numba and loading its cache takes ~0.35 s, which a warm server's first answer must
not wait for. No LSP import here: the engine and the CLI use this package directly.

Modules, one job each (the names above are re-exported here):

* ``kernels``: the scoring weights and the alignment kernels, plain Python over flat
  buffers (the weights sit with the kernels because numba's cache is keyed on the
  kernels' source file).
* ``encoding``: code-point classes and masks, UTF-8 decoding, word-start bonuses, the
  prepared query and name.
* ``numpy_scoring``: the search before ``warm_up``, the kernels' scores in numpy.
* ``compiled``: which kernels run (plain or compiled), ``warm_up``,
  ``kernels_compiled``, ``fuzzy_score``.
* ``name_index``: ``NameIndex`` and ``FuzzyMatch``.
"""

from __future__ import annotations

from quiver.fuzzy.compiled import fuzzy_score, kernels_compiled, warm_up
from quiver.fuzzy.encoding import MAX_QUERY_LENGTH
from quiver.fuzzy.name_index import FuzzyMatch, NameIndex

__all__ = [
    "MAX_QUERY_LENGTH",
    "FuzzyMatch",
    "NameIndex",
    "fuzzy_score",
    "kernels_compiled",
    "warm_up",
]
