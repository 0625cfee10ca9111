"""The feedback store (SQLite) and the /api/feedback endpoints; fast, everything under tmp_path."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from indexer.settings import Settings
from service.app import create_app
from service.feedback import FILE_NAME, SCHEMA_VERSION, FeedbackStore, FeedbackStoreError


class _NoEngine:
    """Feedback never touches the engine; any attribute access would be a bug."""

    def __init__(self) -> None:
        self.manifest: dict[str, object] = {}


ADMIN = {"Authorization": "Bearer adm-1"}


def _client(tmp_path: Path, api_keys: str = "", admin_keys: str = "adm-1") -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", api_keys=api_keys, admin_keys=admin_keys)
    return TestClient(create_app(settings, engine=_NoEngine()))


# ---------------------------------------------------------------- store


def test_store_creates_file_and_versioned_schema(tmp_path: Path) -> None:
    store = FeedbackStore.in_data_dir(tmp_path / "nested" / "data")
    assert not store.path.exists()
    saved = store.add("三河市要完成哪些目标任务？", "答案[1]", "up", "很有用", ["langfang-eco-plan:0012"])
    assert store.path == tmp_path / "nested" / "data" / FILE_NAME
    assert store.path.is_file()
    assert store.schema_version() == SCHEMA_VERSION >= 1
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    items, total = store.recent()
    assert total == 1
    assert items[0] == saved
    assert items[0].passage_ids == ("langfang-eco-plan:0012",)
    assert items[0].comment == "很有用"


def test_store_lists_newest_first_with_limit_and_offset(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FILE_NAME)
    ids = [store.add(f"问题{i}", f"答案{i}", "up" if i % 2 else "down").id for i in range(7)]
    assert ids == sorted(ids) and len(set(ids)) == 7
    page, total = store.recent(limit=3)
    assert total == 7
    assert [f.question for f in page] == ["问题6", "问题5", "问题4"]
    page, _ = store.recent(limit=3, offset=5)
    assert [f.question for f in page] == ["问题1", "问题0"]
    assert store.recent(limit=3, offset=10)[0] == []


def test_store_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    FeedbackStore(path).add("q", "a", "down", "数字不对")
    again = FeedbackStore(path)
    items, total = again.recent()
    assert total == 1 and items[0].rating == "down" and items[0].comment == "数字不对"
    assert again.schema_version() == SCHEMA_VERSION


def test_store_rejects_bad_rating_and_long_comment(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / FILE_NAME)
    with pytest.raises(ValueError, match="rating"):
        store.add("q", "a", "meh")
    with pytest.raises(ValueError, match="2000"):
        store.add("q", "a", "up", "长" * 2001)
    assert store.recent()[1] == 0


def test_store_refuses_a_file_from_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(FeedbackStoreError, match="schema version"):
        FeedbackStore(path).add("q", "a", "up")


def test_store_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        # Each thread has its own store object: several app workers share one file the same way.
        store = FeedbackStore(path)
        try:
            for i in range(20):
                store.add(f"w{w}-{i}", "a", "up", passage_ids=[f"p{w}", f"p{i}"])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    items, total = FeedbackStore(path).recent(limit=500)
    assert total == 160
    assert len({f.id for f in items}) == 160
    assert {f.question for f in items} == {f"w{w}-{i}" for w in range(8) for i in range(20)}


# ---------------------------------------------------------------- HTTP


def test_post_and_list_feedback_over_http(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        body: dict[str, object] = {"question": "涂装企业有哪些要求？", "answer": "应当[1]", "rating": "up"}
        body["passage_ids"] = ["a:1"]
        first = client.post("/api/feedback", json=body)
        assert first.status_code == 201, first.text
        body = {"question": "q2", "answer": "a2", "rating": "down", "comment": "  引用不准  "}
        second = client.post("/api/feedback", json=body)
        assert second.status_code == 201
        assert second.json()["id"] > first.json()["id"]
        listing = client.get("/api/feedback", headers=ADMIN).json()
        assert listing["total"] == 2
        assert [i["question"] for i in listing["items"]] == ["q2", "涂装企业有哪些要求？"]
        assert listing["items"][0]["comment"] == "引用不准"
        assert listing["items"][1]["passage_ids"] == ["a:1"]
        paged = client.get("/api/feedback", params={"limit": 1, "offset": 1}, headers=ADMIN).json()
        assert [i["id"] for i in paged["items"]] == [first.json()["id"]]
    assert (tmp_path / "data" / FILE_NAME).is_file()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"question": "q", "answer": "a", "rating": "meh"}, "rating"),
        ({"question": "q", "answer": "a", "rating": "up", "comment": "x" * 2001}, "comment"),
        ({"question": "   ", "answer": "a", "rating": "up"}, "question"),
        ({"answer": "a", "rating": "up"}, "question"),
        ({"question": "q", "answer": "a", "rating": "up", "passage_ids": "a:1"}, "passage_ids"),
        ({"question": "q", "answer": "a", "rating": "up", "passage_ids": [""]}, "passage_ids"),
    ],
)
def test_bad_feedback_is_422_with_words(tmp_path: Path, body: dict[str, object], words: str) -> None:
    with _client(tmp_path) as client:
        res = client.post("/api/feedback", json=body)
        assert res.status_code == 422
        assert words in res.json()["detail"]
        assert client.get("/api/feedback", headers=ADMIN).json()["total"] == 0


def test_feedback_listing_bounds(tmp_path: Path) -> None:
    with _client(tmp_path) as client:
        assert client.get("/api/feedback", params={"limit": 0}, headers=ADMIN).status_code == 422
        assert client.get("/api/feedback", params={"offset": -1}, headers=ADMIN).status_code == 422
        # SQLite's OFFSET overflows at 2**63; the bound answers long before that.
        huge = client.get("/api/feedback", params={"offset": 10**20}, headers=ADMIN)
        assert huge.status_code == 422 and "offset" in huge.json()["detail"]
        past_end = client.get("/api/feedback", params={"offset": 10**9}, headers=ADMIN)
        assert past_end.status_code == 200 and past_end.json()["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"question": "\ud800abc", "answer": "a", "rating": "up"},
        {"question": "q", "answer": "a\udfff", "rating": "up"},
        {"question": "q", "answer": "a", "rating": "up", "comment": "x\ud83d"},
        {"question": "q", "answer": "a", "rating": "up", "passage_ids": ["a:\udc00"]},
    ],
)
def test_lone_surrogates_are_422_not_500(tmp_path: Path, body: dict[str, object]) -> None:
    # json.dumps writes the surrogate as the escape "\\ud800", as a careless client would.
    raw = json.dumps(body).encode()
    with _client(tmp_path) as client:
        res = client.post("/api/feedback", content=raw, headers={"Content-Type": "application/json"})
        assert res.status_code == 422, res.text
        detail = res.json()["detail"]
        # pydantic itself refuses some fields ("unable to parse ... unicode"), planqa the rest.
        assert "surrogate" in detail or "unicode" in detail, detail
        assert client.get("/api/feedback", headers=ADMIN).json()["total"] == 0


def test_feedback_listing_needs_an_admin_key(tmp_path: Path) -> None:
    with _client(tmp_path, api_keys="read-1") as client:
        body = {"question": "q", "answer": "a", "rating": "up"}
        assert (
            client.post("/api/feedback", json=body, headers={"Authorization": "Bearer read-1"}).status_code
            == 201
        )
        # A read key posts feedback but cannot read what others wrote.
        assert client.get("/api/feedback", headers={"Authorization": "Bearer read-1"}).status_code == 401
        assert client.get("/api/feedback").status_code == 401
        assert client.get("/api/feedback", headers=ADMIN).json()["total"] == 1
    with _client(tmp_path, admin_keys="") as client:
        refused = client.get("/api/feedback")
        assert refused.status_code == 403 and "PLANQA_ADMIN_KEYS" in refused.json()["detail"]


def test_feedback_needs_the_key_when_keys_are_configured(tmp_path: Path) -> None:
    with _client(tmp_path, api_keys="k1,k2") as client:
        body = {"question": "q", "answer": "a", "rating": "up"}
        assert client.post("/api/feedback", json=body).status_code == 401
        assert client.get("/api/feedback").status_code == 401
        assert client.get("/api/feedback", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = client.post("/api/feedback", json=body, headers={"Authorization": "Bearer k2"})
        assert ok.status_code == 201
        listing = client.get("/api/feedback", headers=ADMIN)
        assert listing.status_code == 200 and listing.json()["total"] == 1
