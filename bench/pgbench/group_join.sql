-- Mirrors one member's journey in the "group" scenario, phase "join + pay": three HTTP requests, three transactions,
-- the same statements in the same order as the capture (bench/out/statements/group.sql) shows the app sending them:
-- the guarded updates of the hot rows (SKU stock, campaign units, the customer's allowance) last, in one statement,
-- before COMMIT.
-- ORM reads select every column (`*` here); parameters become pgbench variables.
--
-- mirrors: group/join + pay · POST /orders → 201 = 14
-- mirrors: group/join + pay · POST /orders/{id}/pay → 200 = 6
-- mirrors: group/join + pay · POST /payments/notify → 200 = 15
--
-- Variables (-D): run (a number unique to the run), customers, campaign (an active copy of the scenario's campaign),
-- sku, price (the group price), groups_first, groups_count (open groups with room to spare), k=0 (a per-client
-- counter, so that every journey is a new customer, as in the load).
-- Not mirrored: the Redis round trips (none on this path).
\set k :k + 1
\set customer 1 + (:client_id * 7919 + :k) % :customers
\set grp :groups_first + random(0, :groups_count - 1)

-- POST /orders {campaign: {kind: group, campaign_id, target_id}}
BEGIN;
INSERT INTO idempotency_keys (merchant_id, principal, key, request_hash, created_at) VALUES (1, 'customer:' || :customer, 'pgb' || :run || '-' || :client_id || '-' || :k || 'o', md5(:k::text) || md5(:client_id::text), now()) ON CONFLICT DO NOTHING RETURNING id AS idem \gset
SELECT * FROM merchants WHERE id = 1;
SELECT skus.*, products.title, products.category_id FROM skus JOIN products ON products.id = skus.product_id WHERE skus.merchant_id = 1 AND skus.id IN (:sku) AND skus.active AND products.status = 'on_sale';
SELECT * FROM customers WHERE merchant_id = 1 AND id = :customer;
SELECT * FROM campaigns WHERE merchant_id = 1 AND id = :campaign;
SELECT * FROM buying_groups WHERE merchant_id = 1 AND id = :grp;
SELECT * FROM level_plans WHERE merchant_id = 1;
INSERT INTO orders (merchant_id, store_id, customer_id, order_no, kind, campaign_id, status, items_fen, total_fen, deposit_fen, paid_fen, refund_reserved_fen, refunded_fen, address, note, inviter_id, share_id, due_at, created_at) VALUES (1, NULL, :customer, 'P' || :run || '-' || :client_id || '-' || :k, 'group', :campaign, 'pending_payment', :price + 1000, :price, NULL, 0, 0, 0, '{"name": "压测用户", "phone": "13800000000", "region": "上海市", "detail": "南京西路 1 号"}', '', NULL, NULL, now() + interval '30 minutes', now()) RETURNING id AS order_id, order_no \gset
INSERT INTO order_items (merchant_id, order_id, product_id, sku_id, title, unit_price_fen, quantity) VALUES (1, :order_id, 1, :sku, '压测商品 1 · 规格 1', :price + 1000, 1) RETURNING id;
INSERT INTO order_adjustments (merchant_id, order_id, kind, name, amount_fen, source_id) VALUES (1, :order_id, 'group_price', '拼团价', -1000, :campaign) RETURNING id;
INSERT INTO group_orders (order_id, merchant_id, campaign_id, group_id, customer_id, is_leader, unit_price_fen, quantity, seat_no, active) VALUES (:order_id, 1, :campaign, :grp, :customer, false, :price, 1, NULL, true);
INSERT INTO events (merchant_id, kind, campaign_id, actor_id, inviter_id, depth, subject_type, subject_id, data, occurred_at) VALUES (1, 'order', :campaign, :customer, NULL, 0, 'order', :order_id, '{"total_fen": 3490}', now()) RETURNING id;
UPDATE idempotency_keys SET status_code = 201, response = '{"id": 1, "order_no": "2612060700354259558421", "kind": "group", "campaign_id": 1, "status": "pending_payment", "customer_id": 1, "store_id": null, "items_fen": 4490, "total_fen": 3490, "deposit_fen": null, "paid_fen": 0, "refunded_fen": 0, "items": [{"sku_id": 1, "product_id": 1, "title": "压测商品 1 · 规格 1", "unit_price_fen": 4490, "quantity": 1}], "adjustments": [{"kind": "group_price", "name": "拼团价", "amount_fen": -1000}], "refunds": [], "address": {"name": "压测用户", "phone": "13800000000", "region": "上海市", "detail": "南京西路 1 号"}, "note": "", "carrier": null, "tracking_no": null, "created_at": "2026-12-06T07:00:35.274981Z", "pay_before": "2026-12-06T07:30:35.274981Z", "paid_at": null, "shipped_at": null, "received_at": null, "closed_at": null}'::jsonb WHERE id = :idem AND merchant_id = 1;
WITH hot0 AS (UPDATE skus SET stock = stock - 1 WHERE id = :sku AND stock >= 1 RETURNING stock), hot1 AS (UPDATE campaigns SET sold = sold + 1 WHERE id = :campaign AND status = 'active' AND starts_at <= now() AND ends_at > now() AND (stock_cap IS NULL OR sold + 1 <= stock_cap) AND (SELECT count(*) FROM hot0) > 0 RETURNING stock_cap - sold AS units_left), hot2 AS (INSERT INTO campaign_quotas (merchant_id, campaign_id, customer_id, used) SELECT 1, :campaign, :customer, 1 WHERE (SELECT count(*) FROM hot1) > 0 ON CONFLICT (campaign_id, customer_id, merchant_id) DO UPDATE SET used = campaign_quotas.used + 1 WHERE campaign_quotas.used < 1 RETURNING id) SELECT (SELECT count(*) FROM hot0) AS stocked, (SELECT stock FROM hot0 LIMIT 1) AS stock_left, (SELECT count(*) FROM hot1) AS won, (SELECT units_left FROM hot1 LIMIT 1) AS units_left, (SELECT count(*) FROM hot2) AS allowed, (SELECT id FROM hot2 LIMIT 1) AS quota_id;
COMMIT;

-- POST /orders/{id}/pay
BEGIN;
INSERT INTO idempotency_keys (merchant_id, principal, key, request_hash, created_at) VALUES (1, 'customer:' || :customer, 'pgb' || :run || '-' || :client_id || '-' || :k || 'p', md5(:k::text) || md5(:client_id::text), now()) ON CONFLICT DO NOTHING RETURNING id AS idem \gset
SELECT * FROM orders WHERE merchant_id = 1 AND id = :order_id AND customer_id = :customer;
UPDATE orders SET payment_started_at = now() WHERE id = :order_id AND status = 'pending_payment' RETURNING *;
INSERT INTO payments (merchant_id, order_id, stage, provider, out_trade_no, amount_fen, status, created_at) VALUES (1, :order_id, 'full', 'sandbox', :order_no, :price, 'pending', now()) ON CONFLICT DO NOTHING RETURNING *;
SELECT * FROM customers WHERE merchant_id = 1 AND id = :customer;
UPDATE idempotency_keys SET status_code = 200, response = '{"payment_id": 1, "provider": "sandbox", "stage": "full", "amount_fen": 3490, "params": {"sandbox": true, "out_trade_no": "2612060700354259558421", "amount_fen": 3490}}'::jsonb WHERE id = :idem AND merchant_id = 1;
COMMIT;

-- POST /payments/notify/sandbox (the provider's signed notification)
BEGIN;
INSERT INTO payment_notifications (merchant_id, provider, event_id, kind, reference, received_at) SELECT merchant_id, 'sandbox', 'pay-' || :order_no, 'payment', :order_no, now() FROM payments WHERE out_trade_no = :order_no ON CONFLICT DO NOTHING RETURNING merchant_id;
UPDATE payments SET status = 'succeeded', transaction_id = 'sbx-' || :order_no, paid_at = now() WHERE merchant_id = 1 AND out_trade_no = :order_no AND status = 'pending' AND amount_fen = :price RETURNING order_id, stage;
UPDATE orders SET status = 'paid', paid_fen = :price, due_at = NULL, paid_at = now() WHERE id = :order_id AND status = 'pending_payment' RETURNING *;
UPDATE coupons SET status = 'used', used_at = now() WHERE order_id = :order_id AND status = 'locked';
UPDATE vouchers SET status = 'redeemed', redeemed_at = now() WHERE redeemed_order_id = :order_id AND status = 'locked';
UPDATE customers SET first_paid_at = now() WHERE id = :customer AND first_paid_at IS NULL RETURNING inviter_id;
INSERT INTO events (merchant_id, kind, campaign_id, actor_id, inviter_id, depth, subject_type, subject_id, data, occurred_at) VALUES (1, 'first_purchase', NULL, :customer, NULL, 0, 'order', :order_id, '{}', now()) RETURNING id;
SELECT id FROM loyalty_tasks WHERE merchant_id = 1 AND active LIMIT 1;
INSERT INTO events (merchant_id, kind, campaign_id, actor_id, inviter_id, depth, subject_type, subject_id, data, occurred_at) VALUES (1, 'pay', NULL, :customer, NULL, 0, 'order', :order_id, '{"amount_fen": 3490, "stage": "full"}', now()) RETURNING id;
SELECT enabled FROM distribution_configs WHERE merchant_id = 1;
SELECT id FROM campaigns WHERE merchant_id = 1 AND kind IN ('share_coupon', 'credit') AND status = 'active' LIMIT 1;
SELECT * FROM group_orders WHERE order_id = :order_id;
UPDATE buying_groups SET paid_count = paid_count + 1 WHERE id = :grp AND status = 'open' AND paid_count < size AND expires_at > now() RETURNING paid_count AS seat, size \gset
UPDATE group_orders SET seat_no = :seat WHERE order_id = :order_id;
INSERT INTO events (merchant_id, kind, campaign_id, actor_id, inviter_id, depth, subject_type, subject_id, data, occurred_at) VALUES (1, 'group_join', :campaign, :customer, NULL, 0, 'group', :grp, '{"order_id": 1, "seat": 2}', now()) RETURNING id;
COMMIT;
