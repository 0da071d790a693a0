"""Full-text search with one interface on PostgreSQL and on SQLite.

A search box accepts a small, forgiving syntax (see docs/stories-reading.md):

* plain words: every one must match (``waiting room``);
* "quoted phrases": the words next to each other, in that order;
* -excluded words and -"excluded phrases".

Anything else (punctuation, stray quotes, symbols, operators of either database) is read as
a space, so no input can make the database raise: the query is rebuilt from letters and digits
only and handed to the database as a parameter, never spliced into SQL.

Each database does the matching its own way, behind :class:`FullTextIndex`:

* **PostgreSQL**: a stored, generated ``tsvector`` column on the table (English stemming,
  title weighted above the text) with a GIN index; queries go through
  ``websearch_to_tsquery``, which accepts exactly the syntax above and never fails.
* **SQLite**: an FTS5 table with external content (the table's own rows), ``porter unicode61``
  tokens, kept in step by triggers; queries use FTS5's ``MATCH`` with every term quoted.

Both stem English words ("waiting" finds "wait"); PostgreSQL also drops English stop words
("the", "and"), so a query of stop words alone finds nothing there.

The index promises only "these rows contain these words".  Which rows the public may see, and
in what order, is the caller's business (for stories: only published ones, newest first; see
``stories.selectors.reading`` and docs/decisions/0007-story-lists-and-search.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

# A term is a run of letters and digits; everything else separates terms.
_TERM = re.compile(r"[^\W_]+", re.UNICODE)
_CHUNK = re.compile(r'[^\s"]+')
# Generous limits that no honest search reaches, so that no query is costly to plan.
MAX_TERMS = 12
MAX_TERM_LENGTH = 40
MAX_QUERY_LENGTH = 500


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search: each item of ``include`` and ``exclude`` is a tuple of words (one word,
    or the words of a phrase in order)."""

    include: tuple[tuple[str, ...], ...] = ()
    exclude: tuple[tuple[str, ...], ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_empty(self) -> bool:
        return not self.include and not self.exclude

    @property
    def has_positive_terms(self) -> bool:
        return bool(self.include)

    def display(self) -> str:
        """The query as understood, in the same syntax (to show back to the reader)."""

        def one(words: tuple[str, ...]) -> str:
            return f'"{" ".join(words)}"' if len(words) > 1 else words[0]

        parts = [one(words) for words in self.include] + [f"-{one(words)}" for words in self.exclude]
        return " ".join(parts)


def _terms(text: str) -> tuple[str, ...]:
    return tuple(term.lower()[:MAX_TERM_LENGTH] for term in _TERM.findall(text))


def search_parse(text: str) -> SearchQuery:
    """Read what someone typed into a :class:`SearchQuery`.  Never raises.

    ``"a b"`` is a phrase; ``-word`` and ``-"a b"`` exclude; an unclosed quote runs to the end.
    Words beyond ``MAX_TERMS`` are dropped (and a note says so)."""
    text = (text or "")[:MAX_QUERY_LENGTH]
    include: list[tuple[str, ...]] = []
    exclude: list[tuple[str, ...]] = []
    notes: list[str] = []
    position = 0
    length = len(text)
    while position < length:
        char = text[position]
        if char.isspace():
            position += 1
            continue
        negate = False
        if char == "-" and position + 1 < length and not text[position + 1].isspace():
            negate = True
            position += 1
            char = text[position]
        if char == '"':
            end = text.find('"', position + 1)
            end = length if end == -1 else end
            chunk = text[position + 1 : end]
            position = end + 1
            words = _terms(chunk)
            groups = [words] if words else []
        else:
            match = _CHUNK.match(text, position)
            chunk = match.group(0) if match else char
            position += len(chunk)
            # "well-being" or "A&E" inside a word: the pieces must all match, next to each
            # other, as both databases index them.
            words = _terms(chunk)
            groups = [words] if words else []
        for group in groups:
            target = exclude if negate else include
            if group not in target:
                target.append(group)
    total = 0
    kept_include: list[tuple[str, ...]] = []
    kept_exclude: list[tuple[str, ...]] = []
    for source, kept in ((include, kept_include), (exclude, kept_exclude)):
        for group in source:
            if total + len(group) > MAX_TERMS:
                notes.append("too_many_terms")
                break
            total += len(group)
            kept.append(group)
    return SearchQuery(include=tuple(kept_include), exclude=tuple(kept_exclude), notes=tuple(dict.fromkeys(notes)))


# PostgreSQL's English stop words (tsearch_data/english.stop, which the 'english'
# configuration leaves out of every vector and query).  SQLite's FTS5 has no stop words, so a
# search that must find the same rows on both databases takes them out of the query itself
# (``search_without_stop_words``); the list must hold at least every word PostgreSQL drops.
STOP_WORDS = frozenset({
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours",
    "yourself", "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it",
    "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which", "who",
    "whom", "this", "that", "these", "those", "am", "is", "are", "was", "were", "be", "been",
    "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and",
    "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about",
    "against", "between", "into", "through", "during", "before", "after", "above", "below", "to",
    "from", "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then",
    "once", "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few",
    "more", "most", "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so",
    "than", "too", "very", "s", "t", "can", "will", "just", "don", "should", "now"
})


def search_without_stop_words(query: SearchQuery) -> SearchQuery:
    """``query`` without the words PostgreSQL's English configuration ignores, so that both
    databases find the same rows: single stop words are dropped (included or excluded), and
    so are the stop words at either end of a phrase, and a phrase of stop words only.  Stop
    words inside a phrase stay: PostgreSQL reads each as a gap of one word, SQLite as that
    word ("friends of the library" finds that name on both)."""

    def trimmed(group: tuple[str, ...]) -> tuple[str, ...]:
        words = list(group)
        while words and words[0] in STOP_WORDS:
            words.pop(0)
        while words and words[-1] in STOP_WORDS:
            words.pop()
        return tuple(words)

    def kept(groups: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
        return tuple(dict.fromkeys(group for group in map(trimmed, groups) if group))

    return SearchQuery(include=kept(query.include), exclude=kept(query.exclude), notes=query.notes)


def _quoted(words: tuple[str, ...]) -> str:
    # Terms hold letters and digits only, so a double quote can never appear inside one.
    return '"' + " ".join(words) + '"'


def postgres_websearch_texts(query: SearchQuery) -> tuple[str, str]:
    """The texts for ``websearch_to_tsquery``: what must match (every term), and what must
    not (any term).  Every term is quoted, so that words such as "or" are read as words, never
    as operators.  The two are kept apart so that the GIN index is only ever asked for what
    must match: a query of stop words and exclusions alone would otherwise become a "NOT"
    query, which reads the whole index."""
    positive = " ".join(_quoted(w) for w in query.include)
    negative = " or ".join(_quoted(w) for w in query.exclude)
    return positive, negative


def sqlite_match_text(query: SearchQuery, *, prefix: str | None = None) -> str:
    """The text for FTS5 ``MATCH``: ``"a" AND "b c" NOT "d"``, and with ``prefix`` (a term)
    also ``"pre"*``, a word starting with it.  Needs at least one included term or the prefix
    (FTS5, like a GIN index, cannot list rows by what they lack)."""
    parts = [_quoted(words) for words in query.include]
    if prefix:
        parts.append(_quoted((prefix,)) + "*")
    if not parts:
        raise ValueError("A search needs at least one word to look for.")
    positive = " AND ".join(parts)
    if query.exclude:
        positive = f"({positive})"
    return positive + "".join(f" NOT {_quoted(words)}" for words in query.exclude)


# Table and column names in the SQL below come from the code (FullTextIndex's fields), never
# from a request; what people type always travels as a parameter.  Hence the S608 exemptions.


@dataclass(frozen=True)
class FullTextIndex:
    """The full-text index of one table.  ``where`` is SQL that limits which rows may ever be
    returned (for stories: only published ones), applied inside every query."""

    table: str
    fts_table: str
    vector_column: str = "search_vector"
    config: str = "english"
    where: str = ""
    where_params: tuple[Any, ...] = ()

    @property
    def vendor(self) -> str:
        return connection.vendor

    def _postgres_condition(self, query: SearchQuery) -> tuple[str, list[Any]]:
        column = f"{self.table}.{self.vector_column}"
        positive, negative = postgres_websearch_texts(query)
        sql = f"{column} @@ websearch_to_tsquery('{self.config}', %s)"
        params: list[Any] = [positive]
        if negative:
            sql += f" AND NOT ({column} @@ websearch_to_tsquery('{self.config}', %s))"
            params.append(negative)
        return sql, params

    def ids_sql(self, query: SearchQuery) -> tuple[str, list[Any]]:
        """SQL selecting the ids of the rows that match (for ``pk__in=RawSQL(...)``)."""
        if not query.has_positive_terms:
            raise ValueError("A search needs at least one word to look for.")
        extra = f" AND ({self.where})" if self.where else ""
        if self.vendor == "postgresql":
            condition, params = self._postgres_condition(query)
            sql = f"SELECT {self.table}.id FROM {self.table} WHERE {condition}{extra}"  # noqa: S608
            return sql, [*params, *self.where_params]
        sql = (
            f"SELECT {self.table}.id FROM {self.fts_table} JOIN {self.table} ON {self.table}.id = {self.fts_table}.rowid "  # noqa: S608
            f"WHERE {self.fts_table} MATCH %s{extra}"
        )
        return sql, [sqlite_match_text(query), *self.where_params]

    def row_matches_sql(self, query: SearchQuery, *, id_reference: str) -> tuple[str, list[Any]]:
        """A condition true when the row whose id is ``id_reference`` (a column of the outer
        query) matches: checked row by row, for walking another index in order."""
        if not query.has_positive_terms:
            raise ValueError("A search needs at least one word to look for.")
        extra = f" AND ({self.where})" if self.where else ""
        if self.vendor == "postgresql":
            # A scalar subquery, not EXISTS: PostgreSQL may turn EXISTS into a join that reads
            # every matching row first; this is checked for each outer row, in its order.
            condition, params = self._postgres_condition(query)
            sql = (
                f"coalesce((SELECT {condition} FROM {self.table} WHERE {self.table}.id = {id_reference}{extra}), false)"  # noqa: S608
            )
            return sql, [*params, *self.where_params]
        sql = (
            f"{id_reference} IN (SELECT {self.fts_table}.rowid FROM {self.fts_table} JOIN {self.table} "  # noqa: S608
            f"ON {self.table}.id = {self.fts_table}.rowid WHERE {self.fts_table} MATCH %s{extra})"
        )
        return sql, [sqlite_match_text(query), *self.where_params]

    def estimate(self, query: SearchQuery) -> int:
        """The planner's estimate of how many rows match (PostgreSQL; from the column's
        statistics, without reading the index).  0 elsewhere.  Multiplies the words'
        frequencies, so two common words that seldom meet are overestimated."""
        if self.vendor != "postgresql":
            return 0
        sql, params = self.ids_sql(query)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        if isinstance(plan, str):
            plan = json.loads(plan)
        return int(plan[0]["Plan"]["Plan Rows"])

    def match_ids(self, query: SearchQuery, *, limit: int) -> list[int] | None:
        """The ids of every matching row, if there are at most ``limit`` of them; None when
        there are more (the words are common).  One query, reading at most ``limit + 1`` rows."""
        sql, params = self.ids_sql(query)
        sql = f"{sql} LIMIT {int(limit) + 1}"
        if self.vendor == "postgresql":
            # Always read the GIN index (a bitmap: the posting lists, then at most ``limit + 1``
            # rows).  Under LIMIT the planner otherwise prefers a sequential scan whenever it
            # expects many matches, which reads the whole table when its estimate is wrong
            # (two common words that seldom meet: "alpha omega" took seconds at 1M stories).
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute("SET LOCAL enable_indexscan = off")
                cursor.execute(sql, params)
                ids = [row[0] for row in cursor.fetchall()]
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                ids = [row[0] for row in cursor.fetchall()]
        return ids if len(ids) <= limit else None


# --- Schema: used by the migrations that create an index --------------------------------------

def postgres_create_sql(
    *, table: str, vector_column: str, weighted_columns: dict[str, str], config: str = "english"
) -> list[str]:
    """Statements adding a stored generated tsvector column and its GIN index."""
    parts = " || ".join(
        f"setweight(to_tsvector('{config}'::regconfig, coalesce({column}, '')), '{weight}')"
        for column, weight in weighted_columns.items()
    )
    return [
        f"ALTER TABLE {table} ADD COLUMN {vector_column} tsvector GENERATED ALWAYS AS ({parts}) STORED",
        f"CREATE INDEX {table}_{vector_column}_gin ON {table} USING GIN ({vector_column})",
    ]


def postgres_drop_sql(*, table: str, vector_column: str) -> list[str]:
    return [
        f"DROP INDEX IF EXISTS {table}_{vector_column}_gin",
        f"ALTER TABLE {table} DROP COLUMN IF EXISTS {vector_column}",
    ]


def sqlite_create_sql(*, table: str, fts_table: str, columns: list[str]) -> list[str]:
    """Statements creating an external-content FTS5 table over ``columns`` of ``table``, the
    triggers that keep it in step, and a rebuild from the rows already there."""
    cols = ", ".join(columns)
    new_cols = ", ".join(f"new.{c}" for c in columns)
    old_cols = ", ".join(f"old.{c}" for c in columns)
    return [
        f"CREATE VIRTUAL TABLE {fts_table} USING fts5({cols}, content='{table}', content_rowid='id', "
        "tokenize='porter unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {fts_table}_ai AFTER INSERT ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts_table}(rowid, {cols}) VALUES (new.id, {new_cols}); END",
        f"CREATE TRIGGER {fts_table}_ad AFTER DELETE ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts_table}({fts_table}, rowid, {cols}) VALUES ('delete', old.id, {old_cols}); END",
        # Only when the indexed text changes: counters and times change far more often.
        f"CREATE TRIGGER {fts_table}_au AFTER UPDATE OF {cols} ON {table} BEGIN "  # noqa: S608
        f"INSERT INTO {fts_table}({fts_table}, rowid, {cols}) VALUES ('delete', old.id, {old_cols}); "
        f"INSERT INTO {fts_table}(rowid, {cols}) VALUES (new.id, {new_cols}); END",
        f"INSERT INTO {fts_table}({fts_table}) VALUES ('rebuild')",  # noqa: S608
    ]


def sqlite_drop_sql(*, fts_table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {fts_table}_ai",
        f"DROP TRIGGER IF EXISTS {fts_table}_ad",
        f"DROP TRIGGER IF EXISTS {fts_table}_au",
        f"DROP TABLE IF EXISTS {fts_table}",
    ]


def sqlite_index_ensure(*, table: str, fts_table: str, columns: list[str]) -> bool:
    """On SQLite, put back the FTS triggers (and rebuild the index) if they are missing.

    SQLite cannot alter most columns in place, so Django rebuilds a table to change it, and the
    triggers on the old table go with it: after any later migration that alters ``table``, the
    index would silently stop following the rows.  Run this after migrating (a ``post_migrate``
    handler does).  Returns True when it had to repair something; does nothing elsewhere."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE %s", [f"{fts_table}%"]
        )
        present = {row[0] for row in cursor.fetchall()}
        if fts_table not in present:
            return False  # the migration creating the index has not run (or was reversed)
        wanted = {f"{fts_table}_ai", f"{fts_table}_ad", f"{fts_table}_au"}
        if wanted <= present:
            return False
        for name in wanted:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in sqlite_create_sql(table=table, fts_table=fts_table, columns=columns)[1:]:
            cursor.execute(statement)
    return True
