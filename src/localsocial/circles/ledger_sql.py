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

On PostgreSQL a transfer is made by one call of ``circles_ledger_transfer`` (one statement, one
round trip; decision 0023), which claims the idempotency key, writes the transfer, its entries
and the day's totals; the rules above hold for it exactly as for rows written one by one.

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
    FOR EACH ROW WHEN (NEW.reverses_id IS NOT NULL) EXECUTE FUNCTION circles_transfer_check_reverses()
    """,
    # The balance moves with the entry, and the limit is checked on the locked row in the same
    # UPDATE (READ COMMITTED re-checks the condition on the newest row after waiting for its
    # lock).  A refusal names the account, so the caller can say whose tokens ran out; the CHECK
    # constraint circles_account_within_limit stays as the last word.
    """
    CREATE OR REPLACE FUNCTION circles_entry_move_balance() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE circles_account SET balance_quarters = balance_quarters + NEW.quarters
        WHERE id = NEW.account_id
          AND (minimum_quarters IS NULL OR balance_quarters + NEW.quarters >= minimum_quarters);
        IF NOT FOUND AND EXISTS (SELECT 1 FROM circles_account WHERE id = NEW.account_id) THEN
            RAISE EXCEPTION 'circles_account_within_limit: account % would go below its lowest allowed balance',
                NEW.account_id USING ERRCODE = 'check_violation';
        END IF;
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
    """,    # A transfer in one statement (one round trip; decision 0023): the idempotency key, the
    # transfer row, its entries (whose triggers move the balances and hold the limits) and the
    # day's totals in the transfer's slot.  Expected outcomes are returned, not raised, so the
    # caller's transaction is never spoilt by them:
    #   'made'             the transfer was made now;
    #   'replayed'         a transfer with this key and the same request was made before;
    #   'key_reused'       the key was used for a different transfer (nothing moves);
    #   'already_reversed' the transfer named by p_reverses is already corrected.
    # A limit broken raises circles_account_within_limit (check_violation) naming the account,
    # and nothing of the transfer is left.  The key is claimed first with ON CONFLICT DO NOTHING:
    # a concurrent request with the same key waits on the unique index until the first one
    # ends, then finds its transfer (or, if it was refused, makes the transfer itself).
    # p_at and p_day come from the caller: the application's clock and time zone, as for every
    # other row.  Legs are (p_accounts[i], p_quarters[i]); the service has checked they balance.
    """
    CREATE OR REPLACE FUNCTION circles_ledger_transfer(
        p_circle bigint, p_kind text, p_key text, p_memo text, p_created_by bigint, p_on_behalf_of bigint,
        p_payment bigint, p_reverses bigint, p_at timestamptz, p_day date, p_accounts bigint[],
        p_quarters bigint[], p_slots integer
    ) RETURNS TABLE (
        outcome text, transfer_id bigint, memo text, created_by_id bigint, on_behalf_of_id bigint,
        payment_id bigint, reverses_id bigint, created_at timestamptz, account_ids bigint[], balances bigint[]
    ) LANGUAGE plpgsql AS $$
    #variable_conflict use_column
    DECLARE
        found_id bigint;
        result text := 'made';
    BEGIN
        SELECT t.id INTO found_id FROM circles_transfer t WHERE t.circle_id = p_circle AND t.idempotency_key = p_key;
        IF found_id IS NULL THEN
            IF p_reverses IS NOT NULL AND EXISTS (SELECT 1 FROM circles_transfer t WHERE t.reverses_id = p_reverses) THEN
                RETURN QUERY SELECT 'already_reversed'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::bigint,
                    NULL::bigint, NULL::bigint, NULL::timestamptz, NULL::bigint[], NULL::bigint[];
                RETURN;
            END IF;
            INSERT INTO circles_transfer AS t (circle_id, kind, idempotency_key, memo, created_by_id, on_behalf_of_id,
                                               payment_id, reverses_id, created_at)
            VALUES (p_circle, p_kind, p_key, p_memo, p_created_by, p_on_behalf_of, p_payment, p_reverses, p_at)
            ON CONFLICT DO NOTHING RETURNING t.id INTO found_id;
            IF found_id IS NOT NULL THEN
                -- In account order: two transfers lock the accounts they share in the same order.
                INSERT INTO circles_entry (transfer_id, account_id, quarters, created_at)
                SELECT found_id, u.a, u.q, p_at FROM unnest(p_accounts, p_quarters) AS u(a, q) ORDER BY u.a;
                INSERT INTO circles_ledgerdaytotal AS d (circle_id, day, transfer_kind, account_kind, slot,
                                                          credit_quarters, debit_quarters, transfers)
                SELECT p_circle, p_day, p_kind, c.k, found_id % p_slots, SUM(c.credit), SUM(c.debit), SUM(c.n)
                FROM (
                    -- A lookup per leg (a join would be planned for any number of legs: a scan).
                    SELECT (SELECT a.kind::text FROM circles_account a WHERE a.id = u.a) AS k,
                           GREATEST(u.q, 0) AS credit, GREATEST(-u.q, 0) AS debit, 0 AS n
                    FROM unnest(p_accounts, p_quarters) AS u(a, q)
                    UNION ALL SELECT '', 0, 0, 1
                ) AS c
                GROUP BY c.k ORDER BY c.k
                ON CONFLICT (circle_id, day, transfer_kind, account_kind, slot) DO UPDATE SET
                    credit_quarters = d.credit_quarters + excluded.credit_quarters,
                    debit_quarters = d.debit_quarters + excluded.debit_quarters,
                    transfers = d.transfers + excluded.transfers;
            ELSE
                -- Someone else claimed the key (or corrected the same transfer) meanwhile.
                SELECT t.id INTO found_id FROM circles_transfer t
                WHERE t.circle_id = p_circle AND t.idempotency_key = p_key;
                IF found_id IS NULL THEN
                    RETURN QUERY SELECT 'already_reversed'::text, NULL::bigint, NULL::text, NULL::bigint, NULL::bigint,
                        NULL::bigint, NULL::bigint, NULL::timestamptz, NULL::bigint[], NULL::bigint[];
                    RETURN;
                END IF;
                result := 'replayed';
            END IF;
        ELSE
            result := 'replayed';
        END IF;
        IF result = 'replayed' AND NOT EXISTS (
            SELECT 1 FROM circles_transfer t
            WHERE t.id = found_id AND t.kind = p_kind AND t.reverses_id IS NOT DISTINCT FROM p_reverses
              AND t.payment_id IS NOT DISTINCT FROM p_payment
              AND (SELECT array_agg(e.account_id ORDER BY e.account_id) FROM circles_entry e WHERE e.transfer_id = found_id)
                  = (SELECT array_agg(u.a ORDER BY u.a) FROM unnest(p_accounts) AS u(a))
              AND (SELECT array_agg(e.quarters ORDER BY e.account_id) FROM circles_entry e WHERE e.transfer_id = found_id)
                  = (SELECT array_agg(u.q ORDER BY u.a) FROM unnest(p_accounts, p_quarters) AS u(a, q))
        ) THEN
            result := 'key_reused';
        END IF;
        RETURN QUERY
        SELECT result, t.id, t.memo::text, t.created_by_id, t.on_behalf_of_id, t.payment_id, t.reverses_id,
               t.created_at,
               b.ids, b.balances
        FROM circles_transfer t, (
            SELECT array_agg(u.a) AS ids,
                   array_agg((SELECT a.balance_quarters FROM circles_account a WHERE a.id = u.a)) AS balances
            FROM unnest(p_accounts) AS u(a)
        ) AS b
        WHERE t.id = found_id;
    END $$
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
