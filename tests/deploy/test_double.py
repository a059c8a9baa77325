"""The Grafana double behaves as Grafana's HTTP API documentation says, through plain
httpx (not perfdash's client), so the plan/apply tests stand on a faithful server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from testing.doubles.grafana import GrafanaDouble
from testing.doubles.server import Fault


@pytest.fixture
def api(grafana_double: GrafanaDouble) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=grafana_double.url,
        headers={"Authorization": f"Bearer {grafana_double.token}"},
        timeout=5,
    ) as client:
        yield client


def board(uid: str, title: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"uid": uid, "title": title or f"board {uid}", "tags": ["perfdash"], **extra}


def save(api: httpx.Client, dashboard: dict[str, Any], **body: Any) -> httpx.Response:
    return api.post("/api/dashboards/db", json={"dashboard": dashboard, **body})


def test_every_save_bumps_the_version_even_with_identical_content(api: httpx.Client) -> None:
    first = save(api, board("a"), folderUid="", overwrite=False)
    assert first.status_code == 200
    assert first.json() | {"id": 0} == {
        "id": 0,
        "uid": "a",
        "url": "/d/a/board-a",
        "status": "success",
        "version": 1,
        "slug": "board-a",
        "folderUid": "",
    }
    again = save(api, board("a", version=1), folderUid="", overwrite=False)
    assert again.json()["version"] == 2
    stored = api.get("/api/dashboards/uid/a").json()
    assert stored["dashboard"]["version"] == 2
    assert stored["meta"]["version"] == 2
    assert isinstance(stored["dashboard"]["id"], int)


def test_a_stale_or_missing_version_is_412_version_mismatch_unless_overwrite(
    api: httpx.Client,
) -> None:
    save(api, board("a"))
    save(api, board("a", version=1))
    for sent in (board("a"), board("a", version=1)):
        refused = save(api, sent, overwrite=False)
        assert refused.status_code == 412
        assert refused.json() == {
            "message": "The dashboard has been changed by someone else",
            "status": "version-mismatch",
        }
    assert save(api, board("a", version=1), overwrite=True).json()["version"] == 3


def test_a_second_dashboard_with_the_same_title_in_a_folder_is_412_name_exists(
    api: httpx.Client,
) -> None:
    save(api, board("a", "Same"))
    refused = save(api, board("b", "Same"))
    assert refused.status_code == 412
    assert refused.json()["status"] == "name-exists"


@pytest.mark.parametrize("status", [400, 404])
def test_an_unknown_folder_is_400_or_404_depending_on_the_version(status: int) -> None:
    with GrafanaDouble(missing_folder_status=status) as double:
        answer = httpx.post(
            f"{double.url}/api/dashboards/db",
            json={"dashboard": board("a"), "folderUid": "nope"},
            headers={"Authorization": f"Bearer {double.token}"},
        )
    assert answer.status_code == status
    assert answer.json() == {"message": "folder not found"}


def test_leaving_out_folder_uid_moves_a_dashboard_to_the_root_folder(
    api: httpx.Client, grafana_double: GrafanaDouble
) -> None:
    grafana_double.add_folder("f1", "Team")
    save(api, board("a"), folderUid="f1")
    assert api.get("/api/dashboards/uid/a").json()["meta"]["folderUid"] == "f1"
    save(api, board("a", version=1))
    meta = api.get("/api/dashboards/uid/a").json()["meta"]
    assert (meta["folderUid"], meta["folderTitle"]) == ("", "General")


def test_provisioned_dashboards_refuse_saves_and_deletes(
    api: httpx.Client, grafana_double: GrafanaDouble
) -> None:
    grafana_double.put(board("p"), provisioned=True)
    assert api.get("/api/dashboards/uid/p").json()["meta"]["provisioned"] is True
    saved = save(api, board("p", version=1), overwrite=True)
    assert (saved.status_code, saved.json()) == (
        400,
        {"message": "Cannot save provisioned dashboard"},
    )
    deleted = api.delete("/api/dashboards/uid/p")
    assert deleted.status_code == 400
    assert "provisioned" in deleted.json()["message"]


def test_delete_then_get_is_404(api: httpx.Client) -> None:
    save(api, board("a", "A"))
    assert api.delete("/api/dashboards/uid/a").json()["message"] == "Dashboard A deleted"
    assert api.get("/api/dashboards/uid/a").status_code == 404
    assert api.delete("/api/dashboards/uid/a").status_code == 404


def test_versions_are_listed_newest_first_with_their_messages(api: httpx.Client) -> None:
    save(api, board("a"), message="first")
    save(api, board("a", version=1), message="second")
    versions = api.get("/api/dashboards/uid/a/versions").json()
    assert [(v["version"], v["message"]) for v in versions] == [(2, "second"), (1, "first")]
    assert [v["version"] for v in api.get("/api/dashboards/uid/a/versions?limit=1").json()] == [2]


def test_grafana_11_wraps_versions_in_an_object() -> None:
    with GrafanaDouble(versions_wrapped=True) as double:
        double.put(board("a"))
        answer = httpx.get(
            f"{double.url}/api/dashboards/uid/a/versions",
            headers={"Authorization": f"Bearer {double.token}"},
        ).json()
    assert answer["continueToken"] == ""
    assert [v["version"] for v in answer["versions"]] == [1]


def test_search_filters_by_type_every_tag_folder_and_uid(
    api: httpx.Client, grafana_double: GrafanaDouble
) -> None:
    grafana_double.add_folder("f1", "Team")
    grafana_double.put(board("a", tags=["perfdash", "team:x"]), folder_uid="f1")
    grafana_double.put(board("b", tags=["perfdash"]))
    grafana_double.put(board("c", tags=["other"]), folder_uid="f1")

    def uids(**params: Any) -> list[str]:
        return [h["uid"] for h in api.get("/api/search", params=params).json()]

    assert uids(type="dash-db", tag="perfdash") == ["a", "b"]
    assert uids(type="dash-db", tag=["perfdash", "team:x"]) == ["a"]
    assert uids(type="dash-db", folderUIDs="f1") == ["a", "c"]
    assert uids(dashboardUIDs=["b", "c"]) == ["b", "c"]
    assert uids(type="dash-folder") == ["f1"]
    hit = api.get("/api/search", params={"dashboardUIDs": "a"}).json()[0]
    assert (hit["folderUid"], hit["folderTitle"], hit["type"]) == ("f1", "Team", "dash-db")
    assert "folderUid" not in api.get("/api/search", params={"dashboardUIDs": "b"}).json()[0]


def test_search_pages_with_limit_and_page_and_caps_limit_at_5000(
    api: httpx.Client, grafana_double: GrafanaDouble
) -> None:
    for index in range(5003):
        grafana_double.put({"uid": f"d{index:05d}", "title": f"d{index:05d}", "tags": ["perfdash"]})
    first = api.get("/api/search", params={"tag": "perfdash", "limit": 10000, "page": 1}).json()
    second = api.get("/api/search", params={"tag": "perfdash", "limit": 10000, "page": 2}).json()
    assert (len(first), len(second)) == (5000, 3)
    assert len(api.get("/api/search", params={"tag": "perfdash"}).json()) == 1000
    small = api.get("/api/search", params={"tag": "perfdash", "limit": 2, "page": 3}).json()
    assert [h["uid"] for h in small] == ["d00004", "d00005"]


def test_folders_page_and_refuse_duplicates(api: httpx.Client) -> None:
    assert api.post("/api/folders", json={"uid": "f1", "title": "One"}).status_code == 200
    assert api.post("/api/folders", json={"uid": "f2", "title": "Two"}).status_code == 200
    assert api.post("/api/folders", json={"uid": "f1", "title": "Other"}).status_code == 409
    assert api.post("/api/folders", json={"uid": "f3", "title": "one"}).status_code == 409
    assert [f["uid"] for f in api.get("/api/folders", params={"limit": 1, "page": 2}).json()] == [
        "f2"
    ]
    assert api.get("/api/folders/f1").json()["title"] == "One"
    assert api.get("/api/folders/nope").status_code == 404


def test_missing_or_wrong_credentials_get_grafanas_401_envelopes(
    grafana_double: GrafanaDouble,
) -> None:
    url = f"{grafana_double.url}/api/search"
    anonymous = httpx.get(url)
    assert anonymous.status_code == 401
    assert anonymous.json()["messageId"] == "auth.unauthorized"
    wrong = httpx.get(url, headers={"Authorization": "Bearer nope"})
    assert (wrong.status_code, wrong.json()["message"]) == (401, "invalid API key")
    assert httpx.get(url, auth=("admin", "admin-password")).status_code == 200
    assert httpx.get(url, auth=("admin", "wrong")).status_code == 401
    assert httpx.get(f"{grafana_double.url}/api/health").status_code == 200


def test_a_missing_permission_gets_a_403_naming_it() -> None:
    with GrafanaDouble(permissions={"dashboards:read", "folders:read"}) as double:
        answer = httpx.post(
            f"{double.url}/api/dashboards/db",
            json={"dashboard": board("a")},
            headers={"Authorization": f"Bearer {double.token}"},
        )
    assert answer.status_code == 403
    body = answer.json()
    assert body["title"] == "Access denied"
    assert body["message"].endswith("Permissions needed: dashboards:create, dashboards:write")


def test_faults_answer_with_a_status_and_retry_after_then_stop(
    api: httpx.Client, grafana_double: GrafanaDouble
) -> None:
    grafana_double.inject(Fault(method="GET", path="/api/search", status=429, retry_after="2"))
    limited = api.get("/api/search")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    assert api.get("/api/search").status_code == 200


def test_a_dropped_connection_sends_no_response(
    api: httpx.Client, grafana_double: GrafanaDouble
) -> None:
    grafana_double.inject(Fault(path="/api/search", drop=True))
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/api/search")
    assert api.get("/api/search").status_code == 200


def test_a_fault_after_the_write_lets_the_write_land(
    api: httpx.Client, grafana_double: GrafanaDouble
) -> None:
    grafana_double.inject(Fault(method="POST", status=503, after=True))
    assert save(api, board("a")).status_code == 503
    assert grafana_double.dashboard("a")["version"] == 1


def test_slow_answers_and_latency(grafana_double: GrafanaDouble) -> None:
    grafana_double.server.latency = 0.05
    grafana_double.inject(Fault(path="/api/search", delay=0.3))
    headers = {"Authorization": f"Bearer {grafana_double.token}"}
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{grafana_double.url}/api/search", headers=headers, timeout=0.2)
    started = time.monotonic()
    httpx.get(f"{grafana_double.url}/api/search", headers=headers)
    assert time.monotonic() - started >= 0.05


def test_uids_in_paths_are_percent_decoded(api: httpx.Client) -> None:
    assert save(api, board("a b")).status_code == 200
    assert api.get("/api/dashboards/uid/a%20b").json()["dashboard"]["uid"] == "a b"
    assert api.get("/api/dashboards/uid/a%20b/versions").status_code == 200
