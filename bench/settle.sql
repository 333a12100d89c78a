-- bench/settle.sql: settle-diff's comparison as a user would write it for
-- the sqlite3 shell: the settlement file and the ledger export imported,
-- then one FULL OUTER JOIN of the file's charges and refunds with the
-- ledger, and the reversals, duplicates and the period around it.
--
-- Run in a directory holding stripe.csv or paypal.csv (a Stripe itemized
-- report or a PayPal STL report, with the columns gen-settle.py --plain
-- writes; the other file empty) and ledger.csv (gateway_txn_id, kind,
-- order_id, amount, currency, created_at, status):
--     sqlite3 :memory: <settle.sql
-- Prints kind, gateway_txn_id, ledger amount and settled amount in minor
-- units, and the currency, of every discrepancy.

PRAGMA temp_store = MEMORY;
.mode csv
.headers off

CREATE TABLE ccy (code TEXT PRIMARY KEY, exp INTEGER) WITHOUT ROWID;
INSERT INTO ccy VALUES ('USD', 2), ('EUR', 2), ('JPY', 0), ('KWD', 3);

CREATE TABLE stripe_raw (balance_transaction_id, created_utc, currency,
    gross, fee, net, reporting_category, source_id, charge_id,
    customer_facing_amount, customer_facing_currency, order_id);
CREATE TABLE paypal_raw (c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12,
    c13, c14, c15, c16);
CREATE TABLE led_raw (gateway_txn_id, kind, order_id, amount, currency,
    created_at, status);
.import --skip 1 stripe.csv stripe_raw
.import paypal.csv paypal_raw
.import --skip 1 ledger.csv led_raw

-- The file's rows: kind, the transaction id, a reversal's charge, the
-- magnitude compared (customer-facing when another currency) in minor
-- units, its currency and the time (UTC).
CREATE TABLE st (line INTEGER PRIMARY KEY, kind TEXT, txn TEXT, ref TEXT,
    mag INTEGER, ccy TEXT, at TEXT);
INSERT INTO st
SELECT rowid,
    CASE reporting_category WHEN 'charge' THEN 'charge'
        WHEN 'refund' THEN 'refund' WHEN 'dispute' THEN 'reversal'
        ELSE 'other' END AS kind,
    CASE reporting_category
        WHEN 'charge' THEN coalesce(nullif(charge_id, ''), source_id)
        WHEN 'refund' THEN source_id WHEN 'dispute' THEN source_id
        ELSE '' END AS txn,
    CASE reporting_category WHEN 'dispute' THEN charge_id ELSE '' END AS ref,
    CASE WHEN customer_facing_currency <> ''
            AND upper(customer_facing_currency) <> upper(currency)
        THEN abs(CAST(replace(customer_facing_amount, '.', '') AS INTEGER))
        ELSE abs(CAST(replace(gross, '.', '') AS INTEGER)) END AS mag,
    upper(CASE WHEN customer_facing_currency <> ''
            AND upper(customer_facing_currency) <> upper(currency)
        THEN customer_facing_currency ELSE currency END) AS ccy,
    created_utc AS at
FROM stripe_raw
UNION ALL
SELECT 1000000000 + p.rowid,
    CASE WHEN c6 LIKE 'T00%' THEN 'charge' WHEN c6 = 'T1107' THEN 'refund'
        WHEN c6 IN ('T1106', 'T1201') THEN 'reversal' ELSE 'other' END,
    c2,
    CASE WHEN c6 IN ('T1106', 'T1201') THEN c4 ELSE '' END,
    CASE x.exp WHEN 0 THEN CAST(c10 AS INTEGER) / 100
        WHEN 3 THEN CAST(c10 AS INTEGER) * 10 ELSE CAST(c10 AS INTEGER) END,
    c11,
    datetime(replace(substr(c8, 1, 19), '/', '-'),
        ((CASE substr(c8, 21, 1) WHEN '-' THEN 1 ELSE -1 END)
         * (substr(c8, 22, 2) * 60 + substr(c8, 24, 2))) || ' minutes')
FROM paypal_raw p JOIN ccy x ON x.code = c11
WHERE c1 = 'SB';
CREATE INDEX st_txn ON st (txn);

CREATE TABLE led AS
SELECT gateway_txn_id AS txn, kind, order_id,
    CAST(replace(amount, '.', '') AS INTEGER) AS amount, currency AS ccy,
    substr(created_at, 1, 10) || ' ' || substr(created_at, 12, 8) AS at,
    status
FROM led_raw;
CREATE UNIQUE INDEX led_txn ON led (txn);
CREATE INDEX led_order ON led (order_id);

WITH
period AS (SELECT min(at) AS lo, max(at) AS hi FROM st
    WHERE kind IN ('charge', 'refund')),
first AS (SELECT txn, min(line) AS line FROM st
    WHERE txn <> '' AND kind <> 'other' GROUP BY txn),
prim AS (SELECT s.* FROM st s JOIN first f ON f.line = s.line
    WHERE s.kind IN ('charge', 'refund')),
rev AS (SELECT s.*, l.txn AS ltxn, l.kind AS lkind, l.amount AS lamt,
        l.status AS lstatus
    FROM st s JOIN first f ON f.line = s.line
    LEFT JOIN led l ON l.txn = s.ref
    WHERE s.kind = 'reversal'),
m AS (SELECT p.line, p.kind, p.txn, p.mag, p.ccy, l.txn AS ltxn,
        l.kind AS lkind, l.order_id, l.amount AS lamt, l.ccy AS lccy,
        l.at AS lat, l.status
    FROM prim p FULL OUTER JOIN led l ON l.txn = p.txn),
settled AS (SELECT order_id, count(*) AS n FROM m
    WHERE line IS NOT NULL AND kind = 'charge' AND lkind = 'charge'
    GROUP BY order_id),
unused AS (SELECT m.* FROM m, period
    WHERE m.line IS NULL AND m.lat BETWEEN period.lo AND period.hi
    AND m.ltxn NOT IN (SELECT ref FROM rev WHERE lkind = 'charge'))
SELECT 'missing_in_ledger', txn, NULL, mag, ccy FROM m WHERE ltxn IS NULL
UNION ALL
SELECT 'amount_mismatch', txn, lamt, mag, ccy FROM m
    WHERE line IS NOT NULL AND ltxn IS NOT NULL AND (lkind <> kind
        OR (lccy = ccy AND status NOT IN ('pending', 'failed')
            AND lamt <> mag))
UNION ALL
SELECT 'currency_mismatch', txn, lamt, mag, ccy FROM m
    WHERE line IS NOT NULL AND lkind = kind AND lccy <> ccy
UNION ALL
SELECT 'status_mismatch', txn, lamt, mag, ccy FROM m
    WHERE line IS NOT NULL AND lkind = kind AND lccy = ccy
    AND status IN ('pending', 'failed')
UNION ALL
SELECT 'missing_in_ledger', ref, NULL, mag, ccy FROM rev
    WHERE ltxn IS NULL OR lkind <> 'charge'
UNION ALL
SELECT 'status_mismatch', ref, lamt, mag, ccy FROM rev
    WHERE lkind = 'charge' AND lstatus NOT IN ('reversed', 'disputed')
UNION ALL
SELECT 'duplicate_in_settlement', s.txn, NULL, s.mag, s.ccy
    FROM st s JOIN first f ON f.txn = s.txn AND s.line > f.line
UNION ALL
SELECT CASE WHEN u.lkind = 'charge' AND s.n > 0
        THEN 'duplicate_in_ledger' ELSE 'missing_in_settlement' END,
    u.ltxn, u.lamt, NULL, u.lccy
FROM unused u LEFT JOIN settled s ON s.order_id = u.order_id;
