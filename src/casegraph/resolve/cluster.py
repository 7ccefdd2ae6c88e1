"""Clustering that does not chain.

Plain connected components over links above a threshold merges twins and namesakes
through one ambiguous record (A~C, C~B => A=B). Here, components are only candidates:
inside each, clusters are built greedily from the strongest link down, and two clusters
merge only when

* no cannot-link separates them (valid A-numbers more than one edit apart, a human
  "different" decision), and
* each record of the smaller one links well into the other (the average, over its
  records, of each one's best scored link into the other cluster >= ``min_density``):
  one good link cannot pull in records that nothing else ties to the cluster, and
* no scored cross pair is evidence of two people (``against``: improbable, and capped by
  a hard rule or carrying disagreeing identifying fields; see ``resolve/evidence.py``):
  one good link cannot pull in a record the rest of the cluster contradicts.

Must-links (same valid A-number with a compatible birth date, human "same") are applied
first and override the density test, never a cannot-link from a human.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import jellyfish


def a_numbers_conflict(a: str | None, b: str | None) -> bool:
    """True when two valid A-numbers are more than one edit or transposition apart."""
    if not a or not b or a == b:
        return False
    return jellyfish.damerau_levenshtein_distance(a, b) > 1


@dataclass
class ClusterResult:
    cluster_of: dict[str, int]              # record key -> cluster number
    best_link: dict[str, float]             # record key -> best link probability in cluster
    rejected: list[tuple[str, str, float, str]] = field(default_factory=list)
    # (key_l, key_r, probability, reason) of strong links that were not followed


class _UF:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        p = parent.get(x)
        if p is None:
            parent[x] = x
            return x
        if p == x:
            return x
        root = p
        while parent[root] != root:
            root = parent[root]
        while x != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def cluster(nodes: Iterable[str], edges: list[tuple[str, str, float]]
            | list[tuple[str, str, float, float]], *,
            pair_scores: dict[tuple[str, str], float] | None = None,
            a_number: dict[str, str | None] | None = None,
            must_link: Iterable[tuple[str, str]] = (),
            human_same: Iterable[tuple[str, str]] = (),
            cannot_link: Iterable[tuple[str, str]] = (),
            exclusive_source: dict[str, str] | None = None,
            link_threshold: float = 0.9, min_density: float = 0.5,
            veto_below: float = 0.01, ambiguity_margin: float = 1.0,
            against: set[tuple[str, str]] | None = None) -> ClusterResult:
    """Cluster records.

    Args:
        nodes: every record key to place (unlinked ones become singletons).
        edges: scored pairs (key_l, key_r, match_probability[, match_weight]) at or above
            the threshold (lower ones are ignored here but may be passed in
            ``pair_scores``); the weight orders links whose probabilities both round to 1.
        pair_scores: every scored pair {(min_key, max_key): p}, including weak ones; used
            for the density test. Defaults to the edges.
        a_number: record key -> cleaned valid A-number (or None).
        must_link: pairs the identifier rule joins (same valid A-number, compatible birth
            date); refused only by a cannot-link.
        human_same / cannot_link: pairs a human decided are the same / different people
            (a human "same" overrides an A-number conflict, never a human "different").
        exclusive_source: record key -> source, for records of sources known to hold at
            most one record per person (a cluster never takes two records of one).
        link_threshold: minimum probability for a link to be followed.
        min_density: minimum support to merge: the average, over the smaller cluster's
            records with a scored pair into the other, of each one's best such pair.
        veto_below: a scored cross pair below this probability that is evidence of two
            different people (in ``against``, e.g. twins) vetoes the merge.
        against: the scored pairs that are evidence of two people (the pairs table's
            ``contra`` or a hard-rule cap); default: every pair below ``veto_below``.

        ambiguity_margin: a record whose best link to another cluster (one judged a
            different person) is within this many bits of match weight of its best link
            inside its own cluster is detached as ambiguous.

    Returns:
        the cluster of each record, each record's best link into its cluster, and the
        strong links that were refused (for the review queue).
    """
    a_number = a_number or {}
    scores: dict[tuple[str, str], float] = dict(pair_scores or {})
    weight: dict[tuple[str, str], float] = {}
    for e in edges:
        l, r, p = e[0], e[1], e[2]
        k = (l, r) if l < r else (r, l)
        scores[k] = max(p, scores.get(k, 0.0))
        if len(e) > 3:
            weight[k] = e[3]  # type: ignore[misc]
    cannot = {((l, r) if l < r else (r, l)) for l, r in cannot_link}
    must = [((l, r) if l < r else (r, l)) for l, r in must_link]
    hsame = [((l, r) if l < r else (r, l)) for l, r in human_same]
    for k in must + hsame:
        scores[k] = 1.0
    if against is None:
        against = {k for k, p in scores.items() if p < veto_below}
    against = {((l, r) if l < r else (r, l)) for l, r in against} - set(must + hsame)
    nodes = set(nodes)
    for l, r in must + hsame:
        nodes.update((l, r))

    # adjacency of scored pairs, for cross-pair density. Built in key order, never in the
    # callers' row order: ties (two outside links of equal p) and float sums follow adj's
    # order, and the order rows come out of a join differs between engines and runs
    adj: dict[str, dict[str, float]] = defaultdict(dict)
    for (l, r), p in sorted(scores.items()):
        adj[l][r] = p
        adj[r][l] = p

    uf = _UF()
    members: dict[str, list[str]] = {n: [n] for n in nodes}
    anums: dict[str, set[str]] = {n: ({a_number[n]} if a_number.get(n) else set()) for n in nodes}
    exclusive_source = exclusive_source or {}
    srcs: dict[str, set[str]] = {n: ({exclusive_source[n]} if n in exclusive_source else set())
                                 for n in nodes}
    cannot_of: dict[str, set[str]] = defaultdict(set)
    for l, r in cannot:
        cannot_of[l].add(r)
        cannot_of[r].add(l)
    rejected: list[tuple[str, str, float, str]] = []
    alias: dict[str, str] = {}

    def conflict(ra: str, rb: str) -> str | None:
        small, big = (ra, rb) if len(members[ra]) <= len(members[rb]) else (rb, ra)
        big_set = set(members[big])
        for x in members[small]:
            if cannot_of.get(x, set()) & big_set:
                return "human decision: different people"
        if srcs[ra] & srcs[rb]:
            return "two records of a source that holds one record per person"
        for a in anums[ra]:
            for b in anums[rb]:
                if alias.get(a, a) != alias.get(b, b) and a_numbers_conflict(a, b):
                    return "different A-numbers"
        return None

    def density(ra: str, rb: str) -> tuple[float, float | None]:
        """Support across two clusters, and the lowest cross pair that is evidence of two
        people (``against``; None when there is none).

        Support: each record of the smaller cluster counts its best link into the other
        (records with no scored pair there are left out), averaged. The records of one
        person carry different fields (a mail record shares its address with the licence
        and nothing but the name with the booking), so a weak pair is missing evidence,
        not contrary evidence: averaging every cross pair kept such records out. What a
        chain through one record cannot give is a good link from each of the others."""
        small, big = (ra, rb) if len(members[ra]) <= len(members[rb]) else (rb, ra)
        big_set = set(members[big])
        tot, n, bad = 0.0, 0, None
        for x in members[small]:
            best = -1.0
            for y, p in adj.get(x, {}).items():
                if y in big_set:
                    best = max(best, p)
                    if ((x, y) if x < y else (y, x)) in against and (bad is None or p < bad):
                        bad = p
            if best >= 0:
                tot += best
                n += 1
        return (tot / n if n else 0.0), bad

    def merge(ra: str, rb: str) -> None:
        uf.union(ra, rb)
        root = uf.find(ra)
        other = rb if root == ra else ra
        members[root].extend(members.pop(other))
        anums[root] |= anums.pop(other)
        srcs[root] |= srcs.pop(other)

    for l, r in sorted(set(hsame)):
        ra, rb = uf.find(l), uf.find(r)
        if ra == rb:
            continue
        why = conflict(ra, rb)
        if why and why.startswith("human"):
            rejected.append((l, r, 1.0, why))
            continue
        merge(ra, rb)
    # A-numbers a human joined are aliases of one person from now on (a clerical error
    # gave the person a second number): they no longer conflict with each other
    alias: dict[str, str] = {}
    for root, nums in anums.items():
        if len(nums) > 1:
            first = min(nums)
            for a in nums:
                alias[a] = first
    for l, r in sorted(set(must)):
        ra, rb = uf.find(l), uf.find(r)
        if ra == rb:
            continue
        why = conflict(ra, rb)
        if why:
            rejected.append((l, r, 1.0, why))
            continue
        merge(ra, rb)

    # strongest first; the match weight breaks ties where probabilities saturate at 1.0
    ordered = sorted(((p, weight.get((l, r), 0.0), l, r) for (l, r), p in scores.items()
                      if p >= link_threshold), key=lambda t: (-t[0], -t[1], t[2], t[3]))
    for p, _w, l, r in ordered:
        if l not in nodes or r not in nodes:
            continue
        ra, rb = uf.find(l), uf.find(r)
        if ra == rb:
            continue
        why = conflict(ra, rb)
        if why is None and len(members[ra]) + len(members[rb]) > 2:
            d, bad = density(ra, rb)
            if bad is not None:
                why = f"a record of one cluster clearly differs from the other (p={bad:.3f})"
            elif d < min_density and min(len(members[ra]), len(members[rb])) > 1:
                # a lone record cannot chain two people together by itself; whether it
                # is ambiguous between two people is checked once clusters are built
                why = f"weak support across clusters (average link {d:.2f})"
        if why:
            rejected.append((l, r, p, why))
            continue
        merge(ra, rb)

    # ambiguity: a record held in its cluster by links no stronger than its links to
    # another person is detached (and queued for review) rather than guessed
    pinned = {x for pair in must + hsame for x in pair}
    for root, xs in members.items():  # flatten, so that detaching one record is safe
        for x in xs:
            uf.parent[x] = root
    for n in sorted(nodes):
        if n in pinned:
            continue
        root = uf.find(n)
        if len(members[root]) < 2:
            continue
        s_in, s_out, other, w_in = 0.0, 0.0, "", float("-inf")
        for y, p in adj.get(n, {}).items():
            if uf.find(y) == root:
                s_in = max(s_in, p)
                w_in = max(w_in, weight.get((n, y) if n < y else (y, n), float("-inf")))
            elif p > s_out:
                s_out, other = p, y
        if s_out < link_threshold:
            continue
        w_out = weight.get((n, other) if n < other else (other, n))
        close = (w_out >= w_in - ambiguity_margin) if w_out is not None and w_in > float("-inf") \
            else s_out >= s_in
        if not close:
            continue
        # only when the two clusters are judged to be different people
        o_root = uf.find(other)
        members[root].remove(n)
        differ = conflict(root, o_root) is not None or (
            min(len(members[root]), len(members[o_root])) > 0
            and density(root, o_root)[0] < min_density)
        if not differ:
            members[root].append(n)
            continue
        uf.parent[n] = n
        if root == n:  # n was the root: re-root the rest
            rest = members.pop(n)
            new_root = min(rest)
            for x in rest:
                uf.parent[x] = new_root
            members[new_root] = rest
            anums[new_root] = {a_number[x] for x in rest if a_number.get(x)}
            srcs[new_root] = {exclusive_source[x] for x in rest if x in exclusive_source}
        members[n] = [n]
        anums[n] = {a_number[n]} if a_number.get(n) else set()
        srcs[n] = {exclusive_source[n]} if n in exclusive_source else set()
        rejected.append((n, other, s_out, "ambiguous: links as strongly to another person"))

    roots = sorted({uf.find(n) for n in nodes})
    number = {r: i for i, r in enumerate(roots)}
    cluster_of = {n: number[uf.find(n)] for n in nodes}
    best: dict[str, float] = {}
    for n in nodes:
        c = cluster_of[n]
        ps = [p for y, p in adj.get(n, {}).items() if cluster_of.get(y) == c]
        best[n] = max(ps) if ps else 1.0
    return ClusterResult(cluster_of, best, rejected)
