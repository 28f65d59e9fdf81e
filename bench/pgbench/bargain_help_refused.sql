-- Mirrors the friend too many in the "bargain" scenario, phase "helps" (POST /bargains/{id}/helps → 409
-- bargain_complete): the key is claimed, the bargain read, and everything rolled back. Weight 1 beside
-- bargain_help.sql's 5.
--
-- mirrors: bargain/helps · POST /bargains/{id}/helps → 409 bargain_complete = 2
\set k :k + 1
\set helper 1 + (:client_id * 7919 + :k) % :customers
\set bargain :bargains_first + random(0, :bargains_count - 1)
BEGIN;
INSERT INTO idempotency_keys (principal, key, request_hash, created_at) VALUES ('customer:' || :helper, 'pgb' || :run || '-' || :client_id || '-' || :k || 'r', md5(:k::text) || md5(:client_id::text), now()) ON CONFLICT DO NOTHING RETURNING id;
SELECT * FROM bargains WHERE merchant_id = 1 AND id = :bargain;
ROLLBACK;
