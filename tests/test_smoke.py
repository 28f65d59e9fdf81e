async def test_products_listed_without_login(client, mall):
    response = await client.get("/products", params={"merchant": "acme"})
    assert response.status_code == 200
    assert [p["title"] for p in response.json()["items"]] == ["Tea"]


async def test_order_paid_through_sandbox(client, mall):
    alice = await mall.shopper("alice")
    order = await mall.order(alice)
    assert order["status"] == "pending_payment"
    paid = await mall.pay(alice, order["id"])
    assert paid["status"] == "to_ship"
    assert paid["paid_fen"] == 1000
