"""The person index behind a small interface, and its tantivy implementation.

:class:`PersonIndex` is all the service needs: build from documents, upsert and
delete persons, search with an engine-neutral :class:`~casegraph.search.query.ParsedQuery`.
``docs/search.md`` describes how an OpenSearch implementation would slot in.

One document per *person*: every name variant of every linked record (raw and
normalised), phonetic keys, birth dates and years, identifiers (normalised forms),
localities, nationality, eligibility, open-case flag, record count, and a stored
JSON payload used to display the hit.
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import json
import math
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy

from casegraph.cli.common import UserError
from casegraph.search.phonetic import fuzzy_distance, phonetic_keys
from casegraph.search.query import IDENTIFIER_FIELDS, Clause, ParsedQuery

#: 2: no combined ``ident`` field (free-text identifiers query each identifier field:
#: as fast, and a quarter less indexing work at a million persons)
SCHEMA_VERSION = 2
MARKER_FILE = "casegraph-search.json"

# Scores. A name token is worth w = K x idf(the *name*), where the name's frequency is
# that of its phonetic key (all spellings of the name together), so that a rare spelling
# of a common name is not mistaken for a rare name. Each way of matching is a constant
# score (no BM25 length normalisation: a person with many linked records is not
# penalised), combined as max + TIE x the others:
#   exact spelling W_EXACT·w | within the edit distance W_FUZZY·w | phonetic key W_PHON·w
# exact ≈ 1.5w, a misspelling or another transliteration ≈ 0.8–1.0w, no match 0. A birth
# year (K x idf ≈ 12) outweighs the difference between two spellings of a common name.
K_NAME, W_EXACT, W_FUZZY, W_FUZZY_SHORT, W_PHON, TIE = 3.0, 1.3, 0.8, 0.5, 0.8, 0.1
DEFAULT_IDF = 8.0  # a token whose name the index has never seen: treat as a rare name
B_RAW, B_LOC = 0.5, 0.5
B_PHRASE, B_DOB, B_DOB_FUZZY, K_YEAR = 4.0, 4.0, 1.0, 3.0
B_IDENT, B_IDENT_FUZZY = 8.0, 4.0


#: The document every engine indexes, one per person: a JSON object with these keys
#: (lists of strings unless said otherwise). It is engine neutral on purpose: tantivy
#: indexes it as it is (``add_json``), an OpenSearch mapping would name the same fields
#: (``payload`` is base64, OpenSearch's ``binary`` type).
DOCUMENT_FIELDS: dict[str, str] = {
    "person_id": "the person (one string)",
    "name": "every name variant, normalised (lower case, accents folded)",
    "name_raw": "the variants with non-ASCII letters, as written (accent-exact bonus)",
    "name_phon": "phonetic keys of the name tokens ('m:' Metaphone, 't:' transliteration)",
    "dob": "birth dates, ISO", "year": "birth years",
    **{f: f"{f} forms (norm_identifier)" for f in IDENTIFIER_FIELDS},
    "locality": "localities, normalised", "nationality": "ISO codes",
    "eligible": "'yes' / 'no' / 'unknown' (one string)", "open_case": "'yes' / 'no'",
    "record_count": "linked records (number)",
    "payload": "base64 of the display JSON (what a hit shows)",
}


@dataclass
class DocBatch:
    """Documents of a batch of persons: ``docs[i]`` (JSON text, :data:`DOCUMENT_FIELDS`)
    is the document of ``person_ids[i]``. Batches, not single documents, so that building
    a million of them costs no Python per person."""

    person_ids: list[str]
    docs: list[str]


@dataclass
class RawHit:
    person_id: str
    score: float
    payload: dict[str, Any]


class PersonIndex(abc.ABC):
    """What search needs from an engine."""

    @abc.abstractmethod
    def exists(self) -> bool: ...

    @abc.abstractmethod
    def build(self, batches: Iterable[DocBatch], progress: Any = None) -> int:
        """Replace the whole index with these documents; returns the number indexed."""

    @abc.abstractmethod
    def upsert(self, batches: Iterable[DocBatch]) -> int: ...

    @abc.abstractmethod
    def delete(self, person_ids: Iterable[str]) -> int: ...

    @abc.abstractmethod
    def search(self, query: ParsedQuery, *, limit: int = 10,
               blocked_fields: frozenset[str] = frozenset()) -> list[RawHit]: ...

    @abc.abstractmethod
    def count(self) -> int: ...


def _yn(v: bool | None) -> str:
    return "unknown" if v is None else ("yes" if v else "no")


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("person_id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("name", tokenizer_name="default", index_option="position")
    sb.add_text_field("name_raw", tokenizer_name="default", index_option="freq")
    sb.add_text_field("name_phon", tokenizer_name="raw", index_option="freq")
    sb.add_text_field("dob", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("year", tokenizer_name="raw", index_option="basic")
    for f in IDENTIFIER_FIELDS:
        sb.add_text_field(f, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("locality", tokenizer_name="default", index_option="freq")
    sb.add_text_field("nationality", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("eligible", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("open_case", tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("record_count", stored=True, fast=True)
    sb.add_bytes_field("payload", stored=True)
    return sb.build()


class _PhaseClock:
    """Wall and CPU seconds (CPU: every thread of the process) per named phase."""

    def __init__(self) -> None:
        self.phases: dict[str, dict[str, float]] = {}
        self._t, self._c = time.perf_counter(), time.process_time()

    def lap(self, name: str) -> None:
        t, c = time.perf_counter(), time.process_time()
        ph = self.phases.setdefault(name, {"wall_s": 0.0, "cpu_s": 0.0})
        ph["wall_s"] += t - self._t
        ph["cpu_s"] += c - self._c
        self._t, self._c = t, c


_OPEN_LOCK = threading.Lock()
_OPEN: dict[str, tuple[tantivy.Index, int, float]] = {}  # path -> (index, dir inode, meta mtime)


class TantivyPersonIndex(PersonIndex):
    """A tantivy index directory (``ws.index_dir``)."""

    def __init__(self, path: str | Path, *, heap_size: int = 256_000_000, num_threads: int = 2
                 ) -> None:
        self.path = Path(path)
        self.heap_size = heap_size
        self.num_threads = num_threads
        self.schema = build_schema()
        #: phase -> {"wall_s", "cpu_s"} of the last build (benchmark figures)
        self.build_stats: dict[str, dict[str, float]] = {}

    # ---- lifecycle ---------------------------------------------------------------------
    def exists(self) -> bool:
        marker = self.path / MARKER_FILE
        if not marker.exists() or not (self.path / "meta.json").exists():
            return False
        try:
            return json.loads(marker.read_text()).get("schema_version") == SCHEMA_VERSION
        except (OSError, ValueError):
            return False

    def _index(self) -> tantivy.Index:
        """The open index, reloaded when another writer committed or a rebuild swapped it."""
        key = str(self.path.resolve())
        meta = self.path / "meta.json"
        try:
            st_dir = os.stat(self.path)
            mtime = os.stat(meta).st_mtime_ns
        except FileNotFoundError as e:
            raise UserError(f"no search index at {self.path}; run `casegraph search reindex`") from e
        with _OPEN_LOCK:
            cur = _OPEN.get(key)
            if cur is None or cur[1] != st_dir.st_ino:
                if len(_OPEN) >= 16:  # many workspaces in one process (tests): forget old ones
                    _OPEN.clear()
                idx = tantivy.Index(self.schema, path=str(self.path), reuse=True)
                _OPEN[key] = (idx, st_dir.st_ino, mtime)
                return idx
            idx = cur[0]
            if cur[2] != mtime:
                idx.reload()
                _OPEN[key] = (idx, st_dir.st_ino, mtime)
            return idx

    def _writer(self, idx: tantivy.Index) -> tantivy.IndexWriter:
        for attempt in range(50):
            try:
                return idx.writer(heap_size=self.heap_size, num_threads=self.num_threads)
            except ValueError as e:
                if "lock" not in str(e).lower() or attempt == 49:
                    raise UserError(f"search index is busy or broken: {e}") from e
                time.sleep(0.2)
        raise AssertionError("unreachable")

    @contextlib.contextmanager
    def build_lock(self) -> Iterator[None]:
        """Serialise rebuilds of this index across processes."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def build(self, batches: Iterable[DocBatch], progress: Any = None) -> int:
        """Build into a fresh directory beside the live one, then swap it in."""
        with self.build_lock():
            return self._build(batches, progress)

    def _build(self, batches: Iterable[DocBatch], progress: Any = None) -> int:
        tmp = self.path.with_name(self.path.name + ".building")
        old = self.path.with_name(self.path.name + ".old")
        for p in (tmp, old):
            if p.exists():
                shutil.rmtree(p)
        tmp.mkdir(parents=True)
        idx = tantivy.Index(self.schema, path=str(tmp), reuse=False)
        w = idx.writer(heap_size=self.heap_size, num_threads=self.num_threads)
        n = 0
        add = w.add_json
        clock = _PhaseClock()
        it = iter(batches)
        while True:
            batch = next(it, None)  # DuckDB works here (the whole aggregation before the first)
            clock.lap("documents_first" if n == 0 else "documents")
            if batch is None:
                break
            for d in batch.docs:
                add(d)
            n += len(batch.docs)
            clock.lap("indexing")
            if progress is not None:
                progress(len(batch.docs))
        w.commit()  # once: one set of segments, merged by tantivy's own policy
        clock.lap("commit")
        w.wait_merging_threads()
        clock.lap("merge")
        self.build_stats = clock.phases
        (tmp / MARKER_FILE).write_text(json.dumps({"schema_version": SCHEMA_VERSION,
                                                   "engine": "tantivy", "documents": n}))
        if self.path.exists():
            self.path.rename(old)
        tmp.rename(self.path)
        if old.exists():
            shutil.rmtree(old, ignore_errors=True)
        return n

    def upsert(self, batches: Iterable[DocBatch]) -> int:
        batches = [b for b in batches if b.docs]
        if not batches:
            return 0
        with self.build_lock():  # never write into a directory a rebuild is replacing
            return self._upsert(batches)

    def _upsert(self, batches: list[DocBatch]) -> int:
        idx = self._index()
        w = self._writer(idx)
        n = 0
        try:
            for b in batches:
                for pid, d in zip(b.person_ids, b.docs):
                    w.delete_documents_by_term("person_id", pid)
                    w.add_json(d)
                n += len(b.docs)
            w.commit()
            w.wait_merging_threads()
        except Exception:
            w.rollback()
            raise
        return n

    def delete(self, person_ids: Iterable[str]) -> int:
        ids = list(person_ids)
        if not ids:
            return 0
        with self.build_lock():
            idx = self._index()
            w = self._writer(idx)
            for pid in ids:
                w.delete_documents_by_term("person_id", pid)
            w.commit()
            w.wait_merging_threads()
        return len(ids)

    def count(self) -> int:
        if not self.exists():
            return 0
        return self._index().searcher().num_docs

    # ---- queries -----------------------------------------------------------------------
    def _term(self, f: str, v: str, boost: float) -> tantivy.Query:
        q = tantivy.Query.term_query(self.schema, f, v)
        return q if boost == 1.0 else tantivy.Query.boost_query(q, boost)

    def _fuzzy(self, f: str, v: str, dist: int, boost: float) -> tantivy.Query:
        q = tantivy.Query.fuzzy_term_query(self.schema, f, v, distance=dist,
                                           transposition_cost_one=True)
        return tantivy.Query.boost_query(q, boost)

    @staticmethod
    def _const(q: tantivy.Query, score: float) -> tantivy.Query:
        return tantivy.Query.const_score_query(q, score)

    def _idf(self, searcher: Any, fld: str, value: str) -> float:
        """BM25's idf of a term (DEFAULT_IDF for a term the index does not hold)."""
        if searcher is None:
            return DEFAULT_IDF
        n = searcher.num_docs or 1
        df = searcher.doc_freq(fld, value)
        if not df:
            return DEFAULT_IDF
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    @staticmethod
    def _any(qs: list[tantivy.Query]) -> tantivy.Query:
        if len(qs) == 1:
            return qs[0]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in qs])

    def _clause(self, c: Clause, blocked: frozenset[str], searcher: Any = None
                ) -> tantivy.Query | None:
        if c.kind == "name":
            t = c.value
            keys = phonetic_keys(t)
            w = K_NAME * self._idf(searcher, "name_phon", keys[0]) if keys else \
                K_NAME * self._idf(searcher, "name", t)
            d = fuzzy_distance(t)
            qs = [self._const(tantivy.Query.term_query(self.schema, "name", t), W_EXACT * w)]
            if d:
                qs.append(self._fuzzy("name", t, d, W_FUZZY * w))
            elif len(t) == 3:
                qs.append(self._fuzzy("name", t, 1, W_FUZZY_SHORT * w))
            qs += [self._const(tantivy.Query.term_query(self.schema, "name_phon", k), W_PHON * w)
                   for k in keys]
            if c.raw and c.raw != t and c.raw.isalpha():
                qs.append(self._term("name_raw", c.raw, B_RAW))
            if not c.must and "locality" not in blocked:
                qs.append(self._term("locality", t, B_LOC))
            return tantivy.Query.disjunction_max_query(qs, tie_breaker=TIE)
        if c.kind == "phrase":
            q = tantivy.Query.phrase_query(self.schema, "name", list(c.tokens))
            return tantivy.Query.boost_query(q, B_PHRASE)
        if c.kind == "dob":
            if "dob" in blocked:
                return None
            qs = [self._term("dob", c.value, B_DOB)]
            if not c.must:
                qs.append(self._fuzzy("dob", c.value, 1, B_DOB_FUZZY))
            return self._any(qs)
        if c.kind == "year":
            if "year" in blocked:
                return None
            return self._const(tantivy.Query.term_query(self.schema, "year", c.value),
                               K_YEAR * self._idf(searcher, "year", c.value))
        if c.kind == "ident":
            # free text: every identifier field the role may search (masked ones never)
            fields = [c.field] if c.field is not None else [
                f for f in IDENTIFIER_FIELDS if f not in blocked]
            qs = []
            for f in fields:
                qs.append(self._term(f, c.value, B_IDENT))
                if len(c.value) >= 6:
                    qs.append(self._fuzzy(f, c.value, 1, B_IDENT_FUZZY))
            return self._any(qs) if qs else None
        if c.kind == "locality":
            parts = []
            for t in c.tokens:
                alt = [self._term("locality", t, 1.0)]
                d = fuzzy_distance(t)
                if d:
                    alt.append(self._fuzzy("locality", t, d, 0.5))
                parts.append((tantivy.Occur.Must, self._any(alt)))
            return tantivy.Query.boolean_query(parts)
        if c.kind == "person_id":
            return self._term("person_id", c.value, 10.0)
        raise ValueError(f"unknown clause kind {c.kind}")  # pragma: no cover

    def to_query(self, pq: ParsedQuery, blocked: frozenset[str] = frozenset(),
                 searcher: Any = None) -> tantivy.Query:
        must: list[tantivy.Query] = []
        should: list[tantivy.Query] = []
        for c in pq.clauses:
            q = self._clause(c, blocked, searcher)
            if q is None:
                continue
            (must if c.must else should).append(q)
        parts: list[tuple[Any, tantivy.Query]] = [(tantivy.Occur.Must, q) for q in must]
        if should:
            grp = self._any(should)
            parts.append((tantivy.Occur.Should if must else tantivy.Occur.Must, grp))
        f = pq.filters
        filt: list[tantivy.Query] = []
        if f.nationality and "nationality" not in blocked:
            filt.append(self._any([self._term("nationality", n, 1.0) for n in f.nationality]))
        if f.eligible is not None:
            filt.append(self._term("eligible", _yn(f.eligible), 1.0))
        if f.has_open_case is not None:
            filt.append(self._term("open_case", "yes" if f.has_open_case else "no", 1.0))
        parts += [(tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)) for q in filt]
        if not must and not should and not filt:
            return tantivy.Query.empty_query()
        if not must and not should:
            parts.append((tantivy.Occur.Must, tantivy.Query.all_query()))
        return tantivy.Query.boolean_query(parts)

    def search(self, query: ParsedQuery, *, limit: int = 10,
               blocked_fields: frozenset[str] = frozenset()) -> list[RawHit]:
        idx = self._index()
        searcher = idx.searcher()
        q = self.to_query(query, blocked_fields, searcher)
        res = searcher.search(q, limit=limit, count=False)
        out = []
        for score, addr in res.hits:
            doc = searcher.doc(addr)
            payload = json.loads(bytes(doc.get_first("payload")))
            out.append(RawHit(person_id=doc.get_first("person_id"), score=float(score),
                              payload=payload))
        return out
