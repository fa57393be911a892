"""GET /healthz tells a load balancer whether this instance can reach its database."""

from ivr import create_app


def test_healthy_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_503_when_the_database_does_not_answer(app_config, tmp_path):
    app_config["DATABASE_URL"] = f"sqlite:///{tmp_path}/missing-folder/nothing.sqlite3"
    response = create_app(app_config).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
