import pytest

from grassroots.core.testing import assert_problem, call


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_database_and_broker(client, settings):
    settings.MQTT_URL = "mqtt://127.0.0.1:1"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True and checks["broker"]["ok"] is False


@pytest.mark.django_db
def test_unknown_api_path_is_problem(client):
    assert_problem(client.get("/api/v1/khong-co"), 404)


@pytest.mark.django_db
def test_openapi_and_offline_docs(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/auth/token" in spec["paths"] and "/api/v1/units/{code}" in spec["paths"]
    docs = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()


@pytest.mark.django_db
def test_audit_api_filters_by_unit(client, users):
    call(
        client,
        "post",
        "/api/v1/users",
        user=users["admin"],
        body={
            "username": "nv.phohien",
            "password": "mat-khau-dai-123",
            "role": "viewer",
            "unit_code": "11953",
        },
    )
    rows = call(client, "get", "/api/v1/audit?unit=11953", user=users["admin"]).json()
    assert rows and all(r["unit_code"] == "11953" for r in rows)
    assert rows[0]["after"]["unit_id"]
    assert_problem(call(client, "get", "/api/v1/audit", user=users["editor"]), 403)


@pytest.mark.django_db
def test_request_id_is_echoed(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"


@pytest.mark.django_db
def test_console_in_vietnamese_by_default_and_english_on_request(client, users):
    page = client.get("/dang-nhap/").content.decode()
    assert "Đăng nhập" in page and 'lang="vi"' in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/dang-nhap/").content.decode()
    assert "Log in" in page and 'lang="en"' in page
    client.force_login(users["admin"])
    assert "Audit log" in client.get("/").content.decode()


@pytest.mark.django_db
def test_browser_language_does_not_switch_the_console(client):
    page = client.get("/dang-nhap/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert "Đăng nhập" in page and 'lang="vi"' in page
