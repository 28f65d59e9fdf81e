-- Mirrors one newcomer's journey in the "order" scenario, phase "first orders": five HTTP requests, five
-- transactions, the same statements in the same order as the capture (bench/out/statements/order.sql) shows the app
-- sending them. ORM reads select every column (`*` here); parameters become pgbench variables.
--
-- mirrors: order/first orders · POST /auth/dev-login → 200 = 4
-- mirrors: order/first orders · POST /coupon-templates/{id}/claim → 201 = 6
-- mirrors: order/first orders · POST /orders → 201 = 13
-- mirrors: order/first orders · POST /orders/{id}/pay → 200 = 6
-- mirrors: order/first orders · POST /payments/notify → 200 = 11
--
-- Variables (-D): run (a number unique to the run), template (the scenario's 10% coupon template, no stock limit),
-- product, sku, price, adjustment (the coupon's, negative), total, k=0 (a per-client counter: every journey is a new customer, as in the load).
-- Not mirrored: the Redis round trips (none on this path).
\set k :k + 1

-- POST /auth/dev-login (a new customer)
BEGIN;
SELECT * FROM merchants WHERE slug = 'bench';
INSERT INTO customers (merchant_id, openid, unionid, nickname, avatar_url, inviter_id, acquired_by_share_id, depth, signup_device_id, signup_ip, created_at) VALUES (1, 'pgb' || :run || '-' || :client_id || '-' || :k, NULL, 'pgb', '', NULL, NULL, 0, 'dev-pgb', '10.0.0.1', now()) ON CONFLICT DO NOTHING RETURNING id AS customer \gset
INSERT INTO events (merchant_id, kind, campaign_id, actor_id, inviter_id, depth, subject_type, subject_id, data, occurred_at) VALUES (1, 'register', NULL, :customer, NULL, 0, 'customer', :customer, '{}', now()) RETURNING id;
SELECT id FROM loyalty_tasks WHERE merchant_id = 1 AND active LIMIT 1;
COMMIT;

-- POST /coupon-templates/{id}/claim
BEGIN;
INSERT INTO idempotency_keys (merchant_id, principal, key, request_hash, created_at) VALUES (1, 'customer:' || :customer, 'pgb' || :run || '-' || :client_id || '-' || :k || 'c', md5(:k::text) || md5(:client_id::text), now()) ON CONFLICT DO NOTHING RETURNING id AS idem \gset
SELECT * FROM coupon_templates WHERE merchant_id = 1 AND id = :template;
UPDATE coupon_templates SET issued = issued + 1 WHERE id = :template AND status = 'active' AND (stock IS NULL OR issued + 1 <= stock) RETURNING id;
INSERT INTO counters (merchant_id, key, period, used) VALUES (1, 'coupon:' || :template || ':' || :customer, 'all', 1) ON CONFLICT (key, period, merchant_id) DO UPDATE SET used = counters.used + excluded.used WHERE counters.used + excluded.used <= 1 RETURNING used;
INSERT INTO coupons (merchant_id, template_id, customer_id, name, kind, amount_fen, percent_off, threshold_fen, stackable, status, source_type, source_id, valid_from, valid_until, claimed_at) VALUES (1, :template, :customer, '新人九折', 'percent', 0, 10, 0, false, 'available', 'claim', :template, now(), now() + interval '7 days', now()) RETURNING id AS coupon \gset
UPDATE idempotency_keys SET status_code = 201, response = '{"id": 1, "template_id": 1, "name": "新人九折", "kind": "percent", "amount_fen": 0, "percent_off": 10, "cap_fen": null, "threshold_fen": 0, "stackable": false, "status": "available", "order_id": null, "source_type": "claim", "valid_from": "2026-12-07T20:56:36.968299Z", "valid_until": "2026-12-14T20:56:36.968299Z", "claimed_at": "2026-12-07T20:56:36.968299Z"}'::jsonb WHERE id = :idem AND merchant_id = 1;
COMMIT;

-- POST /orders {items, address, coupon_ids}
BEGIN;
INSERT INTO idempotency_keys (merchant_id, principal, key, request_hash, created_at) VALUES (1, 'customer:' || :customer, 'pgb' || :run || '-' || :client_id || '-' || :k || 'o', md5(:k::text) || md5(:client_id::text), now()) ON CONFLICT DO NOTHING RETURNING id AS idem \gset
SELECT * FROM merchants WHERE id = 1;
SELECT skus.*, products.title, products.category_id FROM skus JOIN products ON products.id = skus.product_id WHERE skus.merchant_id = 1 AND skus.id IN (:sku) AND skus.active AND products.status = 'on_sale';
SELECT * FROM customers WHERE merchant_id = 1 AND id = :customer;
SELECT * FROM level_plans WHERE merchant_id = 1;
SELECT coupons.*, coupon_templates.* FROM coupons JOIN coupon_templates ON coupon_templates.id = coupons.template_id WHERE coupons.customer_id = :customer AND coupons.status = 'available' AND coupons.valid_from <= now() AND coupons.valid_until > now() AND coupons.id IN (:coupon) ORDER BY coupons.valid_until, coupons.id;
INSERT INTO orders (merchant_id, store_id, customer_id, order_no, kind, campaign_id, status, items_fen, total_fen, deposit_fen, paid_fen, refund_reserved_fen, refunded_fen, address, note, inviter_id, share_id, due_at, created_at) VALUES (1, NULL, :customer, 'O' || :run || '-' || :client_id || '-' || :k, 'normal', NULL, 'pending_payment', :price, :total, NULL, 0, 0, 0, '{"name": "压测用户", "phone": "13800000000", "region": "上海市", "detail": "南京西路 1 号"}', '', NULL, NULL, now() + interval '30 minutes', now()) RETURNING id AS order_id, order_no \gset
INSERT INTO order_items (merchant_id, order_id, product_id, sku_id, title, unit_price_fen, quantity) VALUES (1, :order_id, :product, :sku, '压测商品 · 规格 1', :price, 1);
INSERT INTO order_adjustments (merchant_id, order_id, kind, name, amount_fen, source_id, line_shares) VALUES (1, :order_id, 'coupon', '新人九折', :adjustment, :coupon, '[-949]'::jsonb);
UPDATE coupons SET status = 'locked', order_id = :order_id WHERE id IN (:coupon) AND customer_id = :customer AND status = 'available' AND valid_until > now();
INSERT INTO events (merchant_id, kind, campaign_id, actor_id, inviter_id, depth, subject_type, subject_id, data, occurred_at) VALUES (1, 'order', NULL, :customer, NULL, 0, 'order', :order_id, '{"total_fen": 8541}', now()) RETURNING id;
UPDATE skus SET stock = stock - 1 WHERE id = :sku AND stock >= 1 RETURNING stock;
UPDATE idempotency_keys SET status_code = 201, response = '{"id": 1, "order_no": "2612072056367684869117", "kind": "normal", "campaign_id": null, "status": "pending_payment", "customer_id": 20001, "store_id": null, "items_fen": 9490, "total_fen": 8541, "deposit_fen": null, "paid_fen": 0, "refunded_fen": 0, "items": [{"sku_id": 11, "product_id": 6, "title": "压测商品 6 · 规格 1", "unit_price_fen": 9490, "quantity": 1}], "adjustments": [{"kind": "coupon", "name": "新人九折", "amount_fen": -949}], "refunds": [], "address": {"name": "压测用户", "phone": "13800000000", "region": "上海市", "detail": "南京西路 1 号"}, "note": "", "carrier": null, "tracking_no": null, "created_at": "2026-12-07T20:56:36.989116Z", "pay_before": "2026-12-07T21:26:36.989116Z", "paid_at": null, "shipped_at": null, "received_at": null, "closed_at": null}'::jsonb WHERE id = :idem AND merchant_id = 1;
COMMIT;

-- POST /orders/{id}/pay
BEGIN;
INSERT INTO idempotency_keys (merchant_id, principal, key, request_hash, created_at) VALUES (1, 'customer:' || :customer, 'pgb' || :run || '-' || :client_id || '-' || :k || 'p', md5(:k::text) || md5(:client_id::text), now()) ON CONFLICT DO NOTHING RETURNING id AS idem \gset
SELECT * FROM orders WHERE merchant_id = 1 AND id = :order_id AND customer_id = :customer;
UPDATE orders SET payment_started_at = now() WHERE id = :order_id AND status = 'pending_payment' RETURNING *;
INSERT INTO payments (merchant_id, order_id, stage, provider, out_trade_no, amount_fen, status, created_at) VALUES (1, :order_id, 'full', 'sandbox', :order_no, :total, 'pending', now()) ON CONFLICT DO NOTHING RETURNING *;
SELECT * FROM customers WHERE merchant_id = 1 AND id = :customer;
UPDATE idempotency_keys SET status_code = 200, response = '{"payment_id": 1, "provider": "sandbox", "stage": "full", "amount_fen": 8541, "params": {"sandbox": true, "out_trade_no": "2612072056367684869117", "amount_fen": 8541}}'::jsonb WHERE id = :idem AND merchant_id = 1;
COMMIT;

-- POST /payments/notify/sandbox (the provider's signed notification)
BEGIN;
INSERT INTO payment_notifications (merchant_id, provider, event_id, kind, reference, received_at) SELECT merchant_id, 'sandbox', 'pay-' || :order_no, 'payment', :order_no, now() FROM payments WHERE out_trade_no = :order_no ON CONFLICT DO NOTHING RETURNING merchant_id;
UPDATE payments SET status = 'succeeded', transaction_id = 'sbx-' || :order_no, paid_at = now() WHERE merchant_id = 1 AND out_trade_no = :order_no AND status = 'pending' AND amount_fen = :total RETURNING order_id, stage;
UPDATE orders SET status = CASE WHEN kind = 'normal' THEN 'to_ship' ELSE 'paid' END, paid_fen = :total, due_at = NULL, paid_at = now() WHERE id = :order_id AND status = 'pending_payment' RETURNING *;
UPDATE coupons SET status = 'used', used_at = now() WHERE order_id = :order_id AND status = 'locked';
UPDATE vouchers SET status = 'redeemed', redeemed_at = now() WHERE redeemed_order_id = :order_id AND status = 'locked';
UPDATE customers SET first_paid_at = now() WHERE id = :customer AND first_paid_at IS NULL RETURNING inviter_id;
INSERT INTO events (merchant_id, kind, campaign_id, actor_id, inviter_id, depth, subject_type, subject_id, data, occurred_at) VALUES (1, 'first_purchase', NULL, :customer, NULL, 0, 'order', :order_id, '{}', now()) RETURNING id;
SELECT id FROM loyalty_tasks WHERE merchant_id = 1 AND active LIMIT 1;
INSERT INTO events (merchant_id, kind, campaign_id, actor_id, inviter_id, depth, subject_type, subject_id, data, occurred_at) VALUES (1, 'pay', NULL, :customer, NULL, 0, 'order', :order_id, '{"amount_fen": 8541, "stage": "full"}', now()) RETURNING id;
SELECT enabled FROM distribution_configs WHERE merchant_id = 1;
SELECT id FROM campaigns WHERE merchant_id = 1 AND (kind = 'share_coupon' OR kind = 'credit') AND status = 'active' LIMIT 1;
COMMIT;
