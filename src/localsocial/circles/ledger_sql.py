"""What the database itself enforces on the token ledger, for PostgreSQL and SQLite.

On both databases:

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
- An entry's account belongs to its transfer's circle, and a correction (a transfer with
  ``reverses``) points at a transfer of the same circle that is not itself a correction
  (BEFORE INSERT triggers).

On PostgreSQL only, at commit (deferred constraint triggers, which SQLite does not have):

- every transfer has at least two entries and they sum to zero;
- a correction's entries exactly negate the entries of the transfer it reverses.

On SQLite the service checks these before writing, and ``localsocial ledger verify`` checks
them afterwards.

``ledger_triggers_ensure`` (re)creates all of it; the migration calls it, and so does every
``migrate`` (SQLite drops a table's triggers when it rebuilds the table to alter it).
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
    # An entry's account is in its transfer's circle.
    """
    CREATE OR REPLACE FUNCTION circles_entry_check_circle() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT circle_id FROM circles_account WHERE id = NEW.account_id)
           IS DISTINCT FROM (SELECT circle_id FROM circles_transfer WHERE id = NEW.transfer_id) THEN
            RAISE EXCEPTION 'circles_entry_same_circle: tokens cannot move between circles (transfer %)',
                NEW.transfer_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "DROP TRIGGER IF EXISTS circles_entry_same_circle ON circles_entry",
    """
    CREATE TRIGGER circles_entry_same_circle BEFORE INSERT ON circles_entry
    FOR EACH ROW EXECUTE FUNCTION circles_entry_check_circle()
    """,
    # A correction points at a transfer of its own circle that is not itself a correction.
    """
    CREATE OR REPLACE FUNCTION circles_transfer_check_reverses() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.reverses_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM circles_transfer
            WHERE id = NEW.reverses_id AND circle_id = NEW.circle_id AND kind <> 'reversal'
        ) THEN
            RAISE EXCEPTION 'circles_transfer_reverses_valid: a correction must point at a transfer of its circle that is not a correction'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "DROP TRIGGER IF EXISTS circles_transfer_reverses_valid ON circles_transfer",
    """
    CREATE TRIGGER circles_transfer_reverses_valid BEFORE INSERT ON circles_transfer
    FOR EACH ROW EXECUTE FUNCTION circles_transfer_check_reverses()
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
    # At commit: the transfer balances, has two entries or more, and a correction negates
    # exactly what it corrects.  Fired by each new entry (so an entry slipped into an old
    # transfer is caught) and by each new transfer (so a transfer without entries is caught).
    """
    CREATE OR REPLACE FUNCTION circles_transfer_check(target bigint) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        total bigint;
        legs bigint;
        reversed bigint;
        mismatched bigint;
    BEGIN
        SELECT COALESCE(SUM(quarters), 0), COUNT(*) INTO total, legs FROM circles_entry WHERE transfer_id = target;
        IF total <> 0 THEN
            RAISE EXCEPTION 'circles_transfer_balanced: transfer % does not sum to zero (%)', target, total
                USING ERRCODE = 'check_violation';
        END IF;
        IF legs < 2 THEN
            RAISE EXCEPTION 'circles_transfer_balanced: transfer % has % entries, not two or more', target, legs
                USING ERRCODE = 'check_violation';
        END IF;
        SELECT reverses_id INTO reversed FROM circles_transfer WHERE id = target;
        IF reversed IS NOT NULL THEN
            SELECT COUNT(*) INTO mismatched
            FROM (SELECT account_id, quarters FROM circles_entry WHERE transfer_id = target) AS mine
            FULL OUTER JOIN (SELECT account_id, quarters FROM circles_entry WHERE transfer_id = reversed) AS theirs
                ON mine.account_id = theirs.account_id
            WHERE mine.quarters IS NULL OR theirs.quarters IS NULL OR mine.quarters <> -theirs.quarters;
            IF mismatched > 0 THEN
                RAISE EXCEPTION 'circles_transfer_balanced: correction % does not exactly reverse transfer %',
                    target, reversed USING ERRCODE = 'check_violation';
            END IF;
        END IF;
    END $$
    """,
    """
    CREATE OR REPLACE FUNCTION circles_transfer_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'circles_entry' THEN
            PERFORM circles_transfer_check(NEW.transfer_id);
        ELSE
            PERFORM circles_transfer_check(NEW.id);
        END IF;
        RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS circles_entry_balanced ON circles_entry",
    """
    CREATE CONSTRAINT TRIGGER circles_entry_balanced AFTER INSERT ON circles_entry
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION circles_transfer_check_balanced()
    """,
    "DROP TRIGGER IF EXISTS circles_transfer_balanced ON circles_transfer",
    """
    CREATE CONSTRAINT TRIGGER circles_transfer_balanced AFTER INSERT ON circles_transfer
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
    CREATE TRIGGER IF NOT EXISTS circles_entry_same_circle BEFORE INSERT ON circles_entry
    WHEN (SELECT circle_id FROM circles_account WHERE id = NEW.account_id)
         IS NOT (SELECT circle_id FROM circles_transfer WHERE id = NEW.transfer_id)
    BEGIN SELECT RAISE(ABORT, 'circles_entry_same_circle: tokens cannot move between circles'); END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS circles_transfer_reverses_valid BEFORE INSERT ON circles_transfer
    WHEN NEW.reverses_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM circles_transfer
        WHERE id = NEW.reverses_id AND circle_id = NEW.circle_id AND kind <> 'reversal'
    )
    BEGIN
        SELECT RAISE(ABORT, 'circles_transfer_reverses_valid: a correction must point at a transfer of its circle that is not a correction');
    END
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
