-- Mirrors one person's journey in the "viral" scenario, phase "burst": a claim on the shared coupon packet, which
-- for all but the first 100 is refused (the packet is finished: the key is claimed, the packet read, all rolled
-- back), then a help on a friend's assist packet (POST /assists/{id}/helps → 201).
--
-- mirrors: viral/burst · POST /assists/{id}/helps → 201 = 11
--
-- Left out, and so this ceiling is a little high: the 100 successful claims (2% of the journeys, 19 statements
-- each) and the extra statements of the help that opens a packet (one in four: the prize slot counter, the
-- pool's budget counter and the wallet credit); and the velocity checks, which go to Redis.
-- Variables (-D): run, customers, campaign (an active copy of the assist campaign), packet (the finished coupon
-- packet), assists_first, assists_count (assist packets needing more helps than the run gives), day, k=0.
\set k :k + 1
\set helper 1 + (:client_id * 7919 + :k) % :customers
\set assist :assists_first + random(0, :assists_count - 1)

-- POST /packets/{id}/claims → 409 packet_closed
BEGIN;
INSERT INTO idempotency_keys (merchant_id, principal, key, request_hash, created_at) VALUES (1, 'customer:' || :helper, 'pgb' || :run || '-' || :client_id || '-' || :k || 'c', md5(:k::text) || md5(:client_id::text), now()) ON CONFLICT DO NOTHING RETURNING id;
SELECT * FROM coupon_packets WHERE merchant_id = 1 AND id = :packet;
ROLLBACK;

-- POST /assists/{id}/helps → 201
BEGIN;
INSERT INTO idempotency_keys (merchant_id, principal, key, request_hash, created_at) VALUES (1, 'customer:' || :helper, 'pgb' || :run || '-' || :client_id || '-' || :k || 'a', md5(:k::text) || md5(:client_id::text), now()) ON CONFLICT DO NOTHING RETURNING id AS idem \gset
SELECT * FROM assist_packets WHERE merchant_id = 1 AND id = :assist;
SELECT * FROM campaigns WHERE merchant_id = 1 AND id = :campaign;
SELECT * FROM customers WHERE merchant_id = 1 AND id = :helper;
INSERT INTO helps (merchant_id, campaign_id, target_type, target_id, helper_id, seq, amount_fen, new_helper, device_id, ip_range, created_at) VALUES (1, :campaign, 'assist', :assist, :helper, 0, 0, true, 'dev-' || :helper, '10.0.0.0/24', now()) ON CONFLICT DO NOTHING RETURNING id AS help_id \gset
INSERT INTO counters (merchant_id, key, period, used) VALUES (1, 'helps:' || :campaign || ':' || :helper, :day, 1) ON CONFLICT (key, period, merchant_id) DO UPDATE SET used = counters.used + excluded.used WHERE counters.used + excluded.used <= 50 RETURNING used;
UPDATE assist_packets SET helps_done = helps_done + 1 WHERE id = :assist AND status = 'open' AND helps_done < helpers_needed AND expires_at > now() RETURNING *, helps_done AS seq \gset
UPDATE helps SET seq = :seq, amount_fen = 0 WHERE id = :help_id;
INSERT INTO events (merchant_id, kind, campaign_id, actor_id, inviter_id, depth, subject_type, subject_id, data, occurred_at) VALUES (1, 'help', :campaign, :helper, 1, 0, 'assist', :assist, '{"seq": 1, "reward_fen": 0}', now());
SELECT helps.*, customers.nickname, customers.avatar_url FROM helps JOIN customers ON customers.id = helps.helper_id WHERE helps.target_type = 'assist' AND helps.target_id IN (:assist) ORDER BY helps.target_id, helps.seq;
UPDATE idempotency_keys SET status_code = 201, response = '{"id": 1, "campaign_id": 1, "customer_id": 1, "status": "open", "helpers_needed": 4, "helps_done": 1, "helps_remaining": 3, "outcome": null, "prize_fen": 0, "expires_at": "2026-12-07T07:00:37Z", "seconds_left": 86399, "helpers": [{"seq": 1, "helper_id": 2, "nickname": "顾客2", "avatar_url": "", "amount_fen": 0, "new_helper": true, "created_at": "2026-12-06T07:00:37Z"}], "rules": ["4 位好友助力即可拆开红包", "奖池 ¥1000.00，共 200 个红包"]}'::jsonb WHERE id = :idem AND merchant_id = 1;
COMMIT;
