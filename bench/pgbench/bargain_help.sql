-- Mirrors a friend's help in the "bargain" scenario, phase "helps": one transaction per request. As in the load,
-- five in six are cuts (POST /bargains/{id}/helps → 201) and one in six is the friend too many (→ 409
-- bargain_complete: the key is claimed, the bargain read, everything rolled back).
-- (Never write a colon before a name inside a literal here: pgbench takes it for a variable.)
-- The helper reward claims the campaign's budget counter (one row for the whole campaign) before crediting the wallet.
-- Counters and the wallet are one upsert each; the answer is built from the bargain row the price update returned.
--
-- mirrors: bargain/helps · POST /bargains/{id}/helps → 201 = 16
-- mirrors: bargain/helps · POST /bargains/{id}/helps → 409 bargain_complete = 2
--
-- Variables (-D): run, customers, campaign (an active copy of the scenario's campaign), bargains_first,
-- bargains_count (bargains with cuts to spare), day (the business day, as counters key it), k=0.
-- Not mirrored: the three velocity checks, which go to Redis (one EVALSHA each) before the transaction's writes.
\set k :k + 1
\set helper 1 + (:client_id * 7919 + :k) % :customers
\set bargain :bargains_first + random(0, :bargains_count - 1)
\if :k % 6 = 0
BEGIN;
INSERT INTO idempotency_keys (merchant_id, principal, key, request_hash, created_at) VALUES (1, 'customer:' || :helper, 'pgb' || :run || '-' || :client_id || '-' || :k || 'r', md5(:k::text) || md5(:client_id::text), now()) ON CONFLICT DO NOTHING RETURNING id;
SELECT * FROM bargains WHERE merchant_id = 1 AND id = :bargain;
ROLLBACK;
\else
BEGIN;
INSERT INTO idempotency_keys (merchant_id, principal, key, request_hash, created_at) VALUES (1, 'customer:' || :helper, 'pgb' || :run || '-' || :client_id || '-' || :k || 'h', md5(:k::text) || md5(:client_id::text), now()) ON CONFLICT DO NOTHING RETURNING id AS idem \gset
SELECT * FROM bargains WHERE merchant_id = 1 AND id = :bargain;
SELECT * FROM campaigns WHERE merchant_id = 1 AND id = :campaign;
SELECT * FROM customers WHERE merchant_id = 1 AND id = :helper;
INSERT INTO helps (merchant_id, campaign_id, target_type, target_id, helper_id, seq, amount_fen, new_helper, device_id, ip_range, created_at) VALUES (1, :campaign, 'bargain', :bargain, :helper, 0, 0, true, 'dev-' || :helper, '10.0.0.0/24', now()) ON CONFLICT DO NOTHING RETURNING id AS help_id \gset
INSERT INTO counters (merchant_id, key, period, used) VALUES (1, 'helps:' || :campaign || ':' || :helper, :day, 1) ON CONFLICT (key, period, merchant_id) DO UPDATE SET used = counters.used + excluded.used WHERE counters.used + excluded.used <= 50 RETURNING used;
UPDATE bargains SET helps_done = helps_done + 1 WHERE id = :bargain AND status = 'ongoing' AND helps_done < helps_needed AND expires_at > now() AND order_id IS NULL RETURNING helps_done, price_fen, floor_price_fen, schedule;
UPDATE bargains SET price_fen = greatest(floor_price_fen, price_fen - 1), status = 'ongoing' WHERE id = :bargain RETURNING *;
UPDATE helps SET seq = 1, amount_fen = 1 WHERE id = :help_id;
SELECT * FROM merchants WHERE id = 1;
INSERT INTO counters (merchant_id, key, period, used) VALUES (1, 'budget:' || :campaign || ':' || 'helper_reward', 'all', 10) ON CONFLICT (key, period, merchant_id) DO UPDATE SET used = counters.used + excluded.used WHERE counters.used + excluded.used <= 10000000 RETURNING used;
INSERT INTO wallet_entries (merchant_id, customer_id, amount_fen, kind, source_type, source_id, campaign_id, created_at) VALUES (1, :helper, 10, 'helper_reward', 'help', :help_id, :campaign, now()) ON CONFLICT DO NOTHING RETURNING id;
INSERT INTO wallets (merchant_id, customer_id, balance_fen) VALUES (1, :helper, 10) ON CONFLICT (customer_id, merchant_id) DO UPDATE SET balance_fen = wallets.balance_fen + excluded.balance_fen RETURNING id;
INSERT INTO events (merchant_id, kind, campaign_id, actor_id, inviter_id, depth, subject_type, subject_id, data, occurred_at) VALUES (1, 'help', :campaign, :helper, 1, 0, 'bargain', :bargain, '{"seq": 1, "cut_fen": 1, "bonus_fen": 0, "reward_fen": 10}', now());
SELECT helps.*, customers.nickname, customers.avatar_url FROM helps JOIN customers ON customers.id = helps.helper_id WHERE helps.target_type = 'bargain' AND helps.target_id IN (:bargain) ORDER BY helps.target_id, helps.seq;
UPDATE idempotency_keys SET status_code = 201, response = '{"id": 1, "campaign_id": 1, "customer_id": 1, "sku_id": 5, "status": "ongoing", "start_price_fen": 6490, "floor_price_fen": 990, "self_cut_fen": 550, "price_fen": 3913, "helps_needed": 5, "helps_done": 1, "helps_remaining": 4, "progress_percent": 46, "can_buy": true, "expires_at": "2026-12-07T07:00:35Z", "seconds_left": 86399, "cuts": [{"seq": 1, "helper_id": 2, "nickname": "顾客2", "avatar_url": "", "amount_fen": 2027, "new_helper": true, "created_at": "2026-12-06T07:00:35Z"}], "schedule_hash": "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "schedule": null, "salt": null, "rules": ["5 位好友帮砍即可到底价 ¥9.90", "每位好友只能帮砍一次", "24 小时内有效"]}'::jsonb WHERE id = :idem AND merchant_id = 1;
COMMIT;
\endif
