import pytest

from apps.core import health
from config.celery import app as celery_app


@pytest.mark.django_db
def test_healthz_is_200_when_database_redis_and_a_worker_are_up(client, celery_worker):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True}
    assert body["redis"] == {"ok": True}
    assert body["celery"]["ok"] is True and body["celery"]["workers"] >= 1


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == {"ok": True}
    assert body["redis"] == {"ok": False, "error": "redis unreachable"}
    assert body["celery"]["ok"] is False


def test_celery_check_reports_no_worker_on_a_queue_nobody_serves(settings):
    # A broker database no worker listens on: the broker answers, nobody replies to the ping.
    url = settings.REDIS_URL.rsplit("/", 1)[0] + "/15"
    result = health.check_celery(celery_app, url, timeout=0.5)
    assert result == {"ok": False, "workers": 0, "error": "no worker answered"}
