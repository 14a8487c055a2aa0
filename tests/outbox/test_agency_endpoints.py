"""The webhook endpoint of an agency and its deliveries, over the API (DESIGN §7)."""

import pytest
from sqlalchemy import text
from standardwebhooks.webhooks import Webhook

from tests.outbox.conftest import drain, report_and_route, set_webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes, base64


def test_secret_is_generated_shown_once_and_stored_encrypted(client, admin, connection):
    answer = set_webhook(client, admin, "DINSOS", "https://dinsos.example.go.id/hooks")
    secret = answer["webhook_secret"]
    assert secret.startswith("whsec_") and answer["webhook_url"].endswith("/hooks")
    Webhook(secret)  # a key the library takes
    # changing the URL keeps the secret, and does not show it again
    again = set_webhook(client, admin, "DINSOS", "https://dinsos.example.go.id/v2/hooks")
    assert "webhook_secret" not in again
    assert secret not in client.get("/api/v1/agencies/DINSOS", headers=admin.headers).text
    stored = connection.execute(text("SELECT webhook_secret FROM agencies "
                                     "WHERE code = 'DINSOS'")).scalar_one()
    assert stored != secret and "whsec_" not in stored


def test_secret_given_is_kept_and_never_echoed(client, admin):
    answer = set_webhook(client, admin, "DINKES", "https://dinkes.example.go.id/h",
                         webhook_secret=SECRET)
    assert "webhook_secret" not in answer


@pytest.mark.parametrize("body", [
    {"webhook_url": "ftp://dinsos.example.go.id/"},
    {"webhook_url": "https://dinsos.example.go.id/", "webhook_secret": "plain-password"},
    {"webhook_url": "https://dinsos.example.go.id/", "webhook_secret": "whsec_c2hvcnQ="},
    {"webhook_url": "https://dinsos.example.go.id/", "webhook_token": "x"},
    {"webhook_secret": SECRET},  # no endpoint to sign for
])
def test_bad_webhook_settings_are_refused_and_nothing_stored(client, admin, body, connection):
    response = client.patch("/api/v1/agencies/DINSOS", json=body, headers=admin.headers)
    assert response.status_code == 422, response.json
    assert response.content_type == "application/problem+json"
    assert connection.execute(text("SELECT webhook_url FROM agencies WHERE code = 'DINSOS'")
                              ).scalar_one() is None


def test_removing_the_endpoint_stops_deliveries(client, session, admin, caseworker):
    from sqlalchemy import func, select

    from api.outbox.models import Delivery

    set_webhook(client, admin, "DINSOS", "https://dinsos.example.go.id/hooks")
    assert client.patch("/api/v1/agencies/DINSOS", json={"webhook_url": None},
                        headers=admin.headers).json["webhook_url"] is None
    report_and_route(client, caseworker)
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_agency_sees_its_own_deliveries_only(client, admin, caseworker, dinsos, make_user,
                                            receiver, make_worker):
    dinkes = make_user("agency_system", agency="DINKES")
    set_webhook(client, admin, "DINSOS", receiver.url)
    set_webhook(client, admin, "DINKES", receiver.url)
    report_and_route(client, caseworker)
    drain(make_worker())
    own = client.get("/api/v1/agencies/DINSOS/deliveries", headers=dinsos.headers)
    assert own.status_code == 200
    [delivery] = own.json
    assert delivery["event_type"] == "referral.created" and delivery["status"] == "delivered"
    assert delivery["attempts"][0]["status_code"] == 200
    assert client.get("/api/v1/agencies/DINKES/deliveries",
                      headers=dinsos.headers).status_code == 404
    assert client.get("/api/v1/agencies/DINSOS/deliveries",
                      headers=dinkes.headers).status_code == 404
    assert len(client.get("/api/v1/agencies/DINKES/deliveries",
                          headers=admin.headers).json) == 1
    retry = f"/api/v1/agencies/DINSOS/deliveries/{delivery['id']}/retry"
    assert client.post(retry, headers=dinkes.headers).status_code == 404
    assert client.post(retry, headers=dinsos.headers).status_code == 409  # delivered
    assert client.post(f"/api/v1/agencies/DINKES/deliveries/{delivery['id']}/retry",
                       headers=admin.headers).status_code == 404  # not DINKES's


@pytest.mark.parametrize("role", ["caseworker", "supervisor", "analyst", "rt_head"])
def test_other_roles_are_refused_the_deliveries(client, make_user, role):
    caller = make_user(role, ["6471"] if role != "analyst" else [])
    for method, url in (("get", "/api/v1/agencies/DINSOS/deliveries"),
                        ("post", "/api/v1/agencies/DINSOS/deliveries/1/retry"),
                        ("post", "/api/v1/agencies/DINSOS/webhook-test")):
        assert getattr(client, method)(url, headers=caller.headers).status_code == 403
        assert getattr(client, method)(url).status_code == 401


def test_agency_officer_cannot_set_its_own_endpoint(client, dinsos):
    response = client.patch("/api/v1/agencies/DINSOS", json={"webhook_url": "https://x.id/"},
                            headers=dinsos.headers)
    assert response.status_code == 403


def test_webhook_test_event_is_signed_and_delivered(client, admin, dinsos, receiver,
                                                   make_worker):
    assert client.post("/api/v1/agencies/DINSOS/webhook-test",
                       headers=dinsos.headers).status_code == 409  # no endpoint yet
    secret = set_webhook(client, admin, "DINSOS", receiver.url)["webhook_secret"]
    response = client.post("/api/v1/agencies/DINSOS/webhook-test", headers=dinsos.headers)
    assert response.status_code == 202 and response.json["status"] == "pending"
    drain(make_worker())
    [receipt] = receiver.delivered()
    assert Webhook(secret).verify(receipt.body, receipt.headers)["type"] == "webhook.test"
    assert receipt.headers["webhook-id"] == response.json["webhook_id"]
