def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.text


def test_me(client, factory):
    user = factory.user()
    factory.commit()
    response = client.get("/api/v1/me", headers=factory.headers(user))
    assert response.status_code == 200, response.text
    assert response.json()["school"]["id"] == user.school_id
