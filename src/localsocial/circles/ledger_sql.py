"""What the database itself enforces on the token ledger, for PostgreSQL and SQLite.

- ``circles_entry`` and ``circles_transfer`` rows are never changed: a trigger refuses every
  UPDATE (both databases) and every DELETE (PostgreSQL; on SQLite the test runner empties
  tables with DELETE, so there ``localsocial ledger verify`` catches a deleted entry instead:
  its transfer no longer sums to zero and its account's balance no longer matches).
- An account's cached balance is moved by the database, in the statement that inserts each
  entry (an AFTER INSERT trigger adds the entry to ``circles_account.balance_quarters``).  So
  the balance always equals the sum of the entries, and the CHECK constraint
  ``circles_account_within_limit`` refuses, atomically and under any concurrency, an entry
  that would take an account below its minimum: PostgreSQL locks the account row for the
  update, so two transfers from one account take turns and the second sees the first.
- PostgreSQL checks at commit that every transfer's entries sum to zero (a deferred
  constraint trigger).  On SQLite the service checks it before writing.

``ledger_triggers_ensure`` (re)creates all of it; the migration calls it, and so does every
``migrate`` on SQLite, which drops a table's triggers when it rebuilds the table to alter it.
"""

from __future__ import annotations

from typing import Any

POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION circles_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger rows are never changed or deleted: reverse the transfer instead (% on %)',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$
    """,
    "DROP TRIGGER IF EXISTS circles_entry_append_only ON circles_entry",
    """
    CREATE TRIGGER circles_entry_append_only BEFORE UPDATE OR DELETE ON circles_entry
    FOR EACH ROW EXECUTE FUNCTION circles_ledger_refuse_change()
    """,
    "DROP TRIGGER IF EXISTS circles_transfer_append_only ON circles_transfer",
    """
    CREATE TRIGGER circles_transfer_append_only BEFORE UPDATE OR DELETE ON circles_transfer
    FOR EACH ROW EXECUTE FUNCTION circles_ledger_refuse_change()
    """,
    """
    CREATE OR REPLACE FUNCTION circles_entry_move_balance() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE circles_account SET balance_quarters = balance_quarters + NEW.quarters WHERE id = NEW.account_id;
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS circles_entry_balance ON circles_entry",
    """
    CREATE TRIGGER circles_entry_balance AFTER INSERT ON circles_entry
    FOR EACH ROW EXECUTE FUNCTION circles_entry_move_balance()
    """,
    """
    CREATE OR REPLACE FUNCTION circles_transfer_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE total bigint;
    BEGIN
        SELECT COALESCE(SUM(quarters), 0) INTO total FROM circles_entry WHERE transfer_id = NEW.transfer_id;
        IF total <> 0 THEN
            RAISE EXCEPTION 'transfer % does not sum to zero (%)', NEW.transfer_id, total
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS circles_entry_balanced ON circles_entry",
    """
    CREATE CONSTRAINT TRIGGER circles_entry_balanced AFTER INSERT ON circles_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION circles_transfer_check_balanced()
    """,
]

SQLITE = [
    """
    CREATE TRIGGER IF NOT EXISTS circles_entry_no_update BEFORE UPDATE ON circles_entry
    BEGIN SELECT RAISE(ABORT, 'ledger rows are never changed: reverse the transfer instead'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS circles_transfer_no_update BEFORE UPDATE ON circles_transfer
    BEGIN SELECT RAISE(ABORT, 'ledger rows are never changed: reverse the transfer instead'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS circles_entry_balance AFTER INSERT ON circles_entry
    BEGIN
        UPDATE circles_account SET balance_quarters = balance_quarters + NEW.quarters WHERE id = NEW.account_id;
    END
    """,
]


def ledger_triggers_ensure(connection: Any) -> None:
    """Create (or re-create) the ledger's triggers on ``connection``'s database."""
    statements = {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(connection.vendor)
    if statements is None:
        raise NotImplementedError(f"The token ledger needs PostgreSQL or SQLite, not {connection.vendor}")
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
