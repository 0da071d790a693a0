"""Reads for the directory's pages and API.  Each returns everything its page needs, in a
fixed number of queries whatever the length of the lists."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Length, Lower, Replace
from django.db.models.lookups import Exact
from django.http import Http404
from django.utils.translation import gettext as _

from localsocial.core.pagination import (
    AFTER,
    InvalidCursorError,
    KeysetPage,
    decode_cursor,
    keyset_paginate,
)
from localsocial.core.search import (
    MAX_TERM_LENGTH,
    SearchQuery,
    postgres_websearch_texts,
    search_parse,
    search_without_stop_words,
    sqlite_match_text,
)
from localsocial.directory.models import (
    GSS_RE,
    ODS_RE,
    POSTCODE_RE,
    Area,
    Organisation,
    OrganisationMembership,
    OrganisationType,
    Postcode,
    Service,
    normalise_postcode,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from localsocial.accounts.models import User

ORDERING = ("name", "id")
# Search results: the rank keys of directory_search, then name, kind and id; and how many of
# the best matches a search keeps (decision 0021).
SEARCH_ORDERING = ("tier", "words", "name", "kind", "id")
SEARCH_CANDIDATES = 500
# The same rank for a queryset narrowed by organisation_queryset_search/service_queryset_search.
SEARCH_QUERYSET_ORDERING = ("search_tier", "search_words", "name", "id")
# The last word typed also matches the start of a word from this many letters ("riv" finds
# "Riverside"); a shorter one must be a whole word, so that "r" never reads every name.
MIN_PREFIX_LENGTH = 3
# A prefix is read as at most this many different words (in alphabetical order), each from its
# best matches only: what a prefix may cost is bounded whatever the size of the directory.
PREFIX_WORDS_CAP = 50
MAX_SEARCH_TERMS = 8

_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_PARTIAL = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]?$")
_FULL = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")


# --- Search conditions ------------------------------------------------------------------------

def postcode_prefix(query: str) -> str | None:
    """The postcode prefix a search means, or None if it does not look like one.

    "se1 7eh" and "SE17EH" mean that postcode; "SE1" means the district (SE1 …, not SE10 …);
    "SE1 7" means the start of the sector."""
    canonical = normalise_postcode(query)
    if _FULL.match(canonical):
        return canonical
    if _OUTWARD.match(canonical):
        return canonical + " "
    if _PARTIAL.match(canonical):
        return canonical
    return None


def _queryset_search(queryset: QuerySet[Any], query: str, kind: str) -> QuerySet[Any]:
    ids = _ranked_ids_sql(query, kind)
    if ids is None:
        return queryset.none()
    sql, params = ids
    compact = "".join(query.split()).upper()
    code = Q(pk__in=[])
    if re.match(ODS_RE, compact):
        code |= Q(ods_code=compact)
    if kind == "organisations" and re.match(GSS_RE, compact):
        code |= Q(gss_code=compact)
    prefix = postcode_prefix(query)
    if prefix:
        code |= Q(postcode__startswith=prefix)
    # The SQL is built from the code; what was typed travels only in ``params``.
    return queryset.filter(pk__in=RawSQL(sql, params)).annotate(  # noqa: S611
        search_tier=Case(
            When(code, then=Value(TIER_CODE)),
            When(Exact(Lower("name"), _normalised(query)), then=Value(TIER_NAME)),
            default=Value(TIER_WORDS),
            output_field=IntegerField(),
        ),
        search_words=Length("name") - Length(Replace("name", Value(" "), Value(""))),
    )


def organisation_queryset_search(queryset: QuerySet[Organisation], query: str) -> QuerySet[Organisation]:
    """``queryset`` narrowed to the best ``SEARCH_CANDIDATES`` organisations for ``query``, as
    ``directory_search`` finds and ranks them (and no others), with their rank keys
    ``search_tier`` and ``search_words``: order by ``SEARCH_QUERYSET_ORDERING`` for best
    first.  Unchanged for an empty query.  Adds no query: the search is a subquery."""
    return _queryset_search(queryset, query, "organisations") if query.strip() else queryset


def service_queryset_search(queryset: QuerySet[Service], query: str) -> QuerySet[Service]:
    """As ``organisation_queryset_search``, for services (those still provided only: the
    search never finds the others)."""
    return _queryset_search(queryset, query, "services") if query.strip() else queryset


# --- Directory home ---------------------------------------------------------------------------

def organisation_list_for_browse(
    *, org_type: str | None, cursor: str | None, page_size: int
) -> KeysetPage[Organisation]:
    """Organisations of one type, or (with no type) the top-level organisations, by name.
    One query.  Raises InvalidCursorError for a cursor not made here."""
    queryset = Organisation.objects.only("id", "name", "slug", "org_type", "postcode")
    queryset = queryset.filter(org_type=org_type) if org_type else queryset.filter(depth=0)
    return keyset_paginate(queryset, ordering=ORDERING, cursor=cursor, page_size=page_size)


# --- Search -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchResult:
    kind: str  # "organisation" or "service"
    name: str
    slug: str
    url: str
    context: str


def _type_label(value: str) -> str:
    try:
        return str(OrganisationType(value).label)
    except ValueError:
        return value


@dataclass
class DirectorySearchPage(KeysetPage[SearchResult]):
    """A page of search results; ``cut_to`` is the number of best matches kept when the words
    matched more than that (None when every match can be paged through)."""

    cut_to: int | None = None


# Rank keys, best first: a code (ODS, GSS, postcode), then the whole name, then any name with
# every word, fewer other words first.  See docs/decisions/0021-directory-search-ranking.md.
TIER_CODE, TIER_NAME, TIER_WORDS = 0, 1, 2
# The words in a name, less one (spaces): the same expression as directory_search_term.words
# (migration 0003).
_WORDS_SQL = "(length({t}.name) - length(replace({t}.name, ' ', '')))"


_KIND_NUMBER = {"directory_organisation": 1, "directory_service": 2}
# Counting a word's entries stops here: enough to tell a rare word from a common one.
WORD_COUNT_CAP = 1000
# Matches of common words that are this few are read from the GIN index and sorted.
FEW_MATCHES = 1000


@dataclass(frozen=True)
class NameQuery:
    """What a search asks of names: whole words, phrases and exclusions (``words``, without
    stop words), and ``prefix``, the last word typed, which may be the start of a word."""

    words: SearchQuery
    prefix: str | None = None

    @property
    def is_empty(self) -> bool:
        return not self.words.include and self.prefix is None


_LAST_TERM = re.compile(r"[^\W_]+", re.UNICODE)


def name_query(text: str) -> NameQuery:
    """Read a search box: ``core.search.search_parse`` without stop words (the same on both
    databases), and the last word as a prefix when it is a plain word (not quoted, excluded or
    joined to another by a hyphen), not a stop word, of ``MIN_PREFIX_LENGTH`` letters or more,
    and nothing follows it."""
    parsed = search_without_stop_words(search_parse(text))
    chunks = (text or "").split()
    last_chunk = chunks[-1] if chunks else ""
    terms = _LAST_TERM.findall(last_chunk.lower())
    if (
        parsed.include
        and len(parsed.include[-1]) == 1
        and len(terms) == 1
        and last_chunk[:1] not in ('"', "-")
        and '"' not in last_chunk
        and parsed.include[-1][0] == terms[0][:MAX_TERM_LENGTH]
        and len(terms[0]) >= MIN_PREFIX_LENGTH
    ):
        words = SearchQuery(include=parsed.include[:-1], exclude=parsed.exclude, notes=parsed.notes)
        return NameQuery(words=words, prefix=parsed.include[-1][0])
    return NameQuery(words=parsed)


def _postgres_query_sql(query: NameQuery, alias: str = "r") -> tuple[str, list[Any]]:
    """A condition on ``<alias>.search_vector`` true for a row whose name the whole query matches."""
    positive, negative = postgres_websearch_texts(query.words)
    parts: list[str] = []
    params: list[Any] = []
    if positive:
        parts.append("websearch_to_tsquery('english', %s)")
        params.append(positive)
    if query.prefix:
        # Terms hold letters and digits only: quoted, a term is one word to to_tsquery.
        parts.append("to_tsquery('english', %s)")
        params.append(f"'{query.prefix}':*")
    condition = f"{alias}.search_vector @@ ({' && '.join(parts)})"
    if negative:
        condition += f" AND NOT ({alias}.search_vector @@ websearch_to_tsquery('english', %s))"
        params.append(negative)
    return condition, params


def _fts_sql(table: str, query: NameQuery) -> tuple[str, list[Any]]:
    """SQL selecting the ids and names of the best ``SEARCH_CANDIDATES + 1`` rows of ``table`` (services:
    still provided) whose name has every word (and a word starting with the prefix): fewest
    words first, then by name.  The words are parameters."""
    limit = SEARCH_CANDIDATES + 1
    if connection.vendor == "postgresql":
        return _postgres_fts_sql(table, query)
    words = _WORDS_SQL.format(t=table)
    active = f" AND {table}.is_active" if table == "directory_service" else ""
    fts = f"{table}_fts"
    sql = (
        f"SELECT {table}.id, {table}.name FROM {fts} JOIN {table} ON {table}.id = {fts}.rowid "  # noqa: S608
        f"WHERE {fts} MATCH %s{active} ORDER BY {words}, {table}.name, {table}.id LIMIT {limit}"
    )
    return sql, [sqlite_match_text(query.words, prefix=query.prefix)]


def _postgres_fts_sql(table: str, query: NameQuery) -> tuple[str, list[Any]]:
    limit = SEARCH_CANDIDATES + 1
    kind = _KIND_NUMBER[table]
    positive, _negative = postgres_websearch_texts(query.words)
    check, check_params = _postgres_query_sql(query)
    if not query.words.include:
        # The prefix alone: the words of the directory that start with it (found by skipping
        # through the index on directory_search_term.lexeme, in C collation: migration 0005),
        # at most PREFIX_WORDS_CAP of them, each read in rank order up to the bound, merged.
        # The prefix is stemmed as the words were ("hospitals" is the start of "hospit…").
        exclusions = ""
        lateral_params: list[Any] = []
        if query.words.exclude:
            exclusions = f"JOIN {table} r ON r.id = t.row_id AND {check} "
            lateral_params = check_params
        sql = (
            "WITH RECURSIVE p AS (SELECT (tsvector_to_array(to_tsvector('english', %s)))[1] AS s), "  # noqa: S608
            # ORDER BY … LIMIT 1 rather than min(), and the prefix as a scalar subquery: the
            # range is then an index condition and the planner sees the one entry each step
            # reads (otherwise it expects the whole range, and a cost that high turns on JIT
            # compilation: some 700 ms a query).
            "lex(w, n) AS ("
            "SELECT (SELECT x.lexeme FROM directory_search_term x "
            "WHERE x.lexeme >= (SELECT s FROM p) AND x.lexeme < (SELECT s FROM p) || chr(1114111) "
            "ORDER BY x.lexeme LIMIT 1), 1 "
            "UNION ALL "
            "SELECT (SELECT x.lexeme FROM directory_search_term x "
            "WHERE x.lexeme > lex.w AND x.lexeme < (SELECT s FROM p) || chr(1114111) "
            "ORDER BY x.lexeme LIMIT 1), lex.n + 1 "
            f"FROM lex WHERE lex.w IS NOT NULL AND lex.n < {PREFIX_WORDS_CAP}) "
            "SELECT e.row_id AS id, e.name FROM lex, LATERAL ("
            f"SELECT t.row_id, t.name, t.words FROM directory_search_term t {exclusions}"
            f"WHERE t.lexeme = lex.w AND t.kind = {kind} ORDER BY t.words, t.name, t.row_id LIMIT {limit}) e "
            f"GROUP BY e.row_id, e.name, e.words ORDER BY e.words, e.name, e.row_id LIMIT {limit}"
        )
        return sql, [query.prefix, *lateral_params]
    # Walk one word's entries in directory_search_term in rank order (migration 0003), checking
    # the whole query on the row's own vector, and stop at the bound: as many rows read for
    # "hospital" in 300,000 names as in 10,000.  The word walked is the rarest (counted up to
    # WORD_COUNT_CAP), then the longest.  One word alone needs no check: its entries are its
    # matches.
    single = (
        len(query.words.include) == 1 and len(query.words.include[0]) == 1
        and not query.words.exclude and not query.prefix
    )
    rarest = (
        f"(SELECT count(*) FROM (SELECT 1 FROM directory_search_term c WHERE c.lexeme = w AND c.kind = {kind} "  # noqa: S608
        f"LIMIT {WORD_COUNT_CAP}) AS found), "
        if not single else ""
    )
    if single:
        sql = (
            "SELECT t.row_id AS id, t.name FROM directory_search_term t "  # noqa: S608
            "WHERE t.lexeme = (SELECT w FROM unnest(tsvector_to_array(to_tsvector('english', %s))) AS w LIMIT 1) "
            f"AND t.kind = {kind} ORDER BY t.words, t.name, t.row_id LIMIT {limit}"
        )
        return sql, [positive]
    # When every word is common (each over WORD_COUNT_CAP entries), the walk may read every
    # entry of one of them before it finds its matches: two common words that seldom meet
    # ("royal infirmary": none at scale 30, 18,000 entries read).  Then the GIN index on the
    # vector (migration 0006) counts the matches first, up to FEW_MATCHES + 1, from the two
    # words' posting lists: when there are that few, they are read from it and sorted; when
    # more, the words often meet and the walk finds its bound soon.  Each path is gated by a
    # one-time condition, so only one of them runs.
    active = " AND r.is_active" if table == "directory_service" else ""
    check_g, _same_params = _postgres_query_sql(query, alias="g")
    active_g = " AND g.is_active" if active else ""
    all_common = (
        f"(SELECT min((SELECT count(*) FROM (SELECT 1 FROM directory_search_term c WHERE c.lexeme = w "  # noqa: S608
        f"AND c.kind = {kind} LIMIT {WORD_COUNT_CAP}) AS found)) "
        "FROM unnest(tsvector_to_array(to_tsvector('english', %s))) AS w) >= "
        f"{WORD_COUNT_CAP}"
    )
    few = (
        f"({all_common} AND (SELECT count(*) FROM (SELECT 1 FROM {table} g WHERE {check_g}{active_g} "  # noqa: S608
        f"LIMIT {FEW_MATCHES + 1}) AS m) <= {FEW_MATCHES})"
    )
    words = _WORDS_SQL.format(t="r")
    sql = (
        f"WITH few AS MATERIALIZED (SELECT {few} AS yes) "  # noqa: S608
        f"(SELECT t.row_id AS id, t.name FROM directory_search_term t JOIN {table} r ON r.id = t.row_id "
        "WHERE NOT (SELECT yes FROM few) "
        "AND t.lexeme = (SELECT w FROM unnest(tsvector_to_array(to_tsvector('english', %s))) AS w "
        f"ORDER BY {rarest}length(w) DESC, w LIMIT 1) "
        f"AND t.kind = {kind} AND {check} "
        f"ORDER BY t.words, t.name, t.row_id LIMIT {limit}) "
        "UNION ALL "
        f"(SELECT r.id, r.name FROM {table} r WHERE (SELECT yes FROM few) AND {check}{active} "
        f"ORDER BY {words}, r.name, r.id LIMIT {limit})"
    )
    return sql, [positive, *check_params, positive, *check_params, *check_params]


def _code_conditions(text: str, alias: str, *, with_gss: bool) -> list[tuple[str, list[Any], str]]:
    """SQL matching the ODS or GSS code exactly, and SQL matching the start of a postcode, as
    the search box means them, each with the order its index reads in: (condition, params,
    ORDER BY).  Empty when the text is none of those."""
    compact = "".join(text.split()).upper()
    found: list[tuple[str, list[Any], str]] = []
    exact: list[str] = []
    params: list[Any] = []
    if re.match(ODS_RE, compact):
        exact.append(f"{alias}.ods_code = %s")
        params.append(compact)
    if with_gss and re.match(GSS_RE, compact):
        exact.append(f"{alias}.gss_code = %s")
        params.append(compact)
    if exact:
        found.append(("(" + " OR ".join(exact) + ")", params, f"{alias}.id"))
    prefix = postcode_prefix(text)
    if prefix:
        # A district may hold thousands: read its first postcodes from the postcode index
        # (on PostgreSQL a pattern-ops index, read in its own order) and stop at the bound.
        pattern_order = " USING ~<~" if connection.vendor == "postgresql" else ""
        found.append((f"{alias}.postcode LIKE %s", [prefix + "%"], f"{alias}.postcode{pattern_order}, {alias}.id"))
    return found


def _candidates_sql(query: NameQuery, text: str, kind: str) -> tuple[list[str], list[Any]]:
    """The branches of the search, each selecting (branch, kind, tier, id, name) of at most
    ``SEARCH_CANDIDATES + 1`` rows: names and codes, organisations and services."""
    branches: list[str] = []
    params: list[Any] = []
    limit = SEARCH_CANDIDATES + 1
    with_orgs = kind in ("all", "organisations")
    with_services = kind in ("all", "services")
    if not query.is_empty:
        for wanted, table, kind_name in (
            (with_orgs, "directory_organisation", "organisation"), (with_services, "directory_service", "service")
        ):
            if wanted:
                sql, fts_params = _fts_sql(table, query)
                branches.append(
                    f"SELECT {len(branches)} AS branch, '{kind_name}' AS kind, {TIER_WORDS} AS tier, c.id, c.name "  # noqa: S608
                    f"FROM ({sql}) c"
                )
                params += fts_params
    if with_orgs:
        for condition, code_params, order_by in _code_conditions(text, "o", with_gss=True):
            branches.append(
                f"SELECT * FROM (SELECT {len(branches)} AS branch, 'organisation' AS kind, {TIER_CODE} AS tier, o.id, o.name "  # noqa: S608
                f"FROM directory_organisation o WHERE {condition} ORDER BY {order_by} LIMIT {limit}) b{len(branches)}"
            )
            params += code_params
    if with_services:
        for condition, code_params, order_by in _code_conditions(text, "s", with_gss=False):
            branches.append(
                f"SELECT * FROM (SELECT {len(branches)} AS branch, 'service' AS kind, {TIER_CODE} AS tier, s.id, s.name "  # noqa: S608
                f"FROM directory_service s WHERE s.is_active AND {condition} ORDER BY {order_by} LIMIT {limit}) b{len(branches)}"
            )
            params += code_params
    return branches, params


_KEY = "k.tier, k.words, k.name, k.kind, k.id"
_KEY_DESCENDING = "k.tier DESC, k.words DESC, k.name DESC, k.kind DESC, k.id DESC"


def _search_sql(
    branches: list[str], params: list[Any], *, exact: str, values: list[Any], forward: bool, page_size: int
) -> tuple[str, list[Any]]:
    """One statement: the candidates of every branch, each row once at its best tier (a name
    that is exactly the query is lifted to TIER_NAME), the best ``SEARCH_CANDIDATES`` of them,
    and of those the page after (or before) ``values``, with what a result line shows and
    whether the search was cut (how many candidates; how full the fullest branch)."""
    words = _WORDS_SQL.format(t="b")
    after = ""
    page_params: list[Any] = []
    if values:
        after = f"WHERE ({_KEY}) {'>' if forward else '<'} (%s, %s, %s, %s, %s) "
        page_params = list(values)
    sql = (
        f"WITH candidates AS ({' UNION ALL '.join(branches)}), "  # noqa: S608
        "counted AS (SELECT kind, tier, id, name, count(*) OVER (PARTITION BY branch) AS in_branch FROM candidates), "
        "best AS (SELECT b.kind, CASE WHEN min(b.tier) = %s AND lower(b.name) = %s THEN %s ELSE min(b.tier) END AS tier, "
        f"{words} AS words, b.name, b.id FROM counted b GROUP BY b.kind, b.id, b.name), "
        f"kept AS (SELECT * FROM best k ORDER BY {_KEY} LIMIT {SEARCH_CANDIDATES}) "
        "SELECT k.tier, k.words, k.name, k.kind, k.id, coalesce(o.slug, s.slug), coalesce(o.org_type, p.name), "
        "(SELECT count(*) FROM best), (SELECT max(in_branch) FROM counted) "
        "FROM kept k "
        "LEFT JOIN directory_organisation o ON k.kind = 'organisation' AND o.id = k.id "
        "LEFT JOIN directory_service s ON k.kind = 'service' AND s.id = k.id "
        "LEFT JOIN directory_organisation p ON p.id = s.organisation_id "
        f"{after}ORDER BY {_KEY if forward else _KEY_DESCENDING} LIMIT {int(page_size) + 1}"
    )
    return sql, [*params, TIER_WORDS, exact, TIER_NAME, *page_params]


def _ranked_ids_sql(text: str, kind: str) -> tuple[str, list[Any]] | None:
    """SQL selecting the ids of the best ``SEARCH_CANDIDATES`` of one kind ("organisations" or
    "services") for ``text``, ranked as ``directory_search`` ranks them; None when the text can
    find nothing."""
    branches, params = _candidates_sql(name_query(text), text, kind)
    if not branches:
        return None
    words = _WORDS_SQL.format(t="b")
    sql = (
        "SELECT k.id FROM (SELECT b.id, "  # noqa: S608
        "CASE WHEN min(b.tier) = %s AND lower(b.name) = %s THEN %s ELSE min(b.tier) END AS tier, "
        f"{words} AS words, b.name FROM ({' UNION ALL '.join(branches)}) b GROUP BY b.id, b.name "
        f"ORDER BY tier, words, name, id LIMIT {SEARCH_CANDIDATES}) k"
    )
    return sql, [TIER_WORDS, _normalised(text), TIER_NAME, *params]


def _normalised(text: str) -> str:
    return " ".join(text.lower().split())


def _cursor_key(cursor: str) -> tuple[str, list[Any]]:
    direction, values = decode_cursor(cursor, SEARCH_ORDERING)
    try:
        key = [int(values[0]), int(values[1]), str(values[2]), str(values[3]), int(values[4])]
    except (TypeError, ValueError) as exc:
        raise InvalidCursorError("This cursor is not valid.") from exc
    return direction, key


def directory_search(
    *, query: str, kind: str, cursor: str | None, page_size: int
) -> DirectorySearchPage:
    """Organisations and services matching ``query``, best first, one page of them.

    A match is a name with every word of the query (English stemming: "clinics" finds
    "Clinic"; quoted phrases and -exclusions as in ``core.search``), or an ODS or GSS code
    exactly, or the start of a postcode (see ``postcode_prefix``).  Best first: codes, then a
    name that is exactly the query, then names with fewer other words; then by name, kind, id.
    Only services still provided.  ``kind`` is "all", "organisations" or "services".

    At most ``SEARCH_CANDIDATES`` results are kept, the best ones, and ``cut_to`` says when
    there were more.  One query whatever the number of matches: every branch reads at most
    ``SEARCH_CANDIDATES + 1`` rows, and only the page's rows are joined to what they show.
    Raises InvalidCursorError for a cursor not made here."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    direction, values = _cursor_key(cursor) if cursor else (AFTER, [])
    forward = direction == AFTER
    branches, params = _candidates_sql(name_query(query), query, kind)
    fetched: list[tuple[Any, ...]] = []
    if branches:
        sql, all_params = _search_sql(
            branches, params, exact=_normalised(query), values=values, forward=forward, page_size=page_size
        )
        with connection.cursor() as db:
            db.execute(sql, all_params)
            fetched = list(db.fetchall())
    more = len(fetched) > page_size
    rows = fetched[:page_size]
    if not forward:
        rows.reverse()
    cut = bool(rows) and (rows[0][7] > SEARCH_CANDIDATES or rows[0][8] > SEARCH_CANDIDATES)
    from django.urls import reverse

    results = []
    for _tier, _words_count, name, row_kind, _id, slug, context, _total, _fullest in rows:
        if row_kind == "organisation":
            url = reverse("directory:organisation", kwargs={"slug": slug})
            shown = _type_label(context)
        else:
            url = reverse("directory:service", kwargs={"slug": slug})
            shown = _("Service from %(organisation)s") % {"organisation": context}
        results.append(SearchResult(kind=row_kind, name=name, slug=slug, url=url, context=shown))
    return DirectorySearchPage(
        items=results, ordering=list(SEARCH_ORDERING),
        has_next=more if forward else bool(values), has_previous=bool(values) if forward else more,
        _first=list(rows[0][:5]) if rows else [], _last=list(rows[-1][:5]) if rows else [],
        cut_to=SEARCH_CANDIDATES if cut else None,
    )


# --- Organisation and service pages -----------------------------------------------------------

def organisation_ancestors(*, organisation: Organisation) -> list[Organisation]:
    """The organisations above this one, from the top down: one query (none at the top)."""
    ids = organisation.ancestor_ids
    if not ids:
        return []
    return list(Organisation.objects.filter(pk__in=ids).only("id", "name", "slug", "depth").order_by("depth"))


@dataclass
class OrganisationPage:
    organisation: Organisation
    ancestors: list[Organisation]
    areas: list[Area]
    children: KeysetPage[Organisation]
    services: KeysetPage[Service]
    can_manage_staff: bool


def organisation_get_for_page(
    *,
    slug: str,
    user: User | AnonymousUser,
    children_cursor: str | None,
    services_cursor: str | None,
    page_size: int,
) -> OrganisationPage:
    """An organisation with its ancestors, areas, one page of its child organisations and
    one of its services (still provided), and whether ``user`` may manage its staff.
    Raises Http404.  At most six queries, three more for a signed-in user."""
    organisation = (
        Organisation.objects.select_related("parent").prefetch_related("areas_served").filter(slug=slug).first()
    )
    if organisation is None:
        raise Http404(_("There is no organisation at this address."))
    children = keyset_paginate(
        Organisation.objects.filter(parent=organisation).only("id", "name", "slug", "org_type"),
        ordering=ORDERING, cursor=children_cursor, page_size=page_size, cursor_param="children",
    )
    services = keyset_paginate(
        Service.objects.filter(organisation=organisation, is_active=True).only(
            "id", "name", "slug", "lgsl_id", "postcode"
        ),
        ordering=ORDERING, cursor=services_cursor, page_size=page_size, cursor_param="services",
    )
    return OrganisationPage(
        organisation=organisation,
        ancestors=organisation_ancestors(organisation=organisation),
        areas=list(organisation.areas_served.all()),
        children=children,
        services=services,
        can_manage_staff=bool(user.is_authenticated and user.has_perm("directory.manage_staff", organisation)),
    )


@dataclass
class ServicePage:
    service: Service
    ancestors: list[Organisation]  # the service's organisation and those above it


def service_get_for_page(*, slug: str) -> ServicePage:
    """A service with its organisation and the organisations above that: two queries.
    Raises Http404."""
    service = Service.objects.select_related("organisation").filter(slug=slug).first()
    if service is None:
        raise Http404(_("There is no service at this address."))
    organisation = service.organisation
    return ServicePage(service=service, ancestors=[*organisation_ancestors(organisation=organisation), organisation])


# --- Staff management -------------------------------------------------------------------------

def organisation_get_for_staff_management(*, user: User, slug: str) -> Organisation:
    """The organisation with this slug, if ``user`` may manage its staff.

    Raises Http404 if there is none and PermissionDenied if the user may not."""
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404(_("There is no organisation at this address."))
    if not user.has_perm("directory.manage_staff", organisation):
        raise PermissionDenied(_("You cannot manage the staff of this organisation."))
    return organisation


def membership_list_for_organisation(
    *, organisation: Organisation, cursor: str | None, page_size: int
) -> KeysetPage[OrganisationMembership]:
    """One page of the organisation's own staff with their accounts, by email: one query."""
    queryset = OrganisationMembership.objects.filter(organisation=organisation).select_related("user")
    return keyset_paginate(queryset, ordering=("user__email", "id"), cursor=cursor, page_size=page_size)


def membership_get_for_management(*, organisation: Organisation, membership_id: int) -> OrganisationMembership:
    """A member of this organisation's staff (fetch the organisation with
    ``organisation_get_for_staff_management`` first).  Raises Http404."""
    membership = (
        OrganisationMembership.objects.select_related("user")
        .filter(pk=membership_id, organisation=organisation)
        .first()
    )
    if membership is None:
        raise Http404(_("This person is not on the staff of this organisation."))
    return membership


def organisation_administrators_above(*, organisation: Organisation) -> list[Organisation]:
    """The organisations above this one (whose administrators also manage its staff)."""
    return organisation_ancestors(organisation=organisation)


# --- Postcodes ---------------------------------------------------------------------------------

def postcode_locate(postcode: str) -> tuple[float, float] | None:
    """The (latitude, longitude) of a full UK postcode, written in any case and spacing, or
    None when it is not a full postcode or is not in the loaded postcode data.  One query at
    most; terminated postcodes are still located (their place has not moved)."""
    normalised = normalise_postcode(postcode or "")
    if not re.match(POSTCODE_RE, normalised):
        return None
    found = Postcode.objects.filter(postcode=normalised).values_list("latitude", "longitude").first()
    return (found[0], found[1]) if found else None
