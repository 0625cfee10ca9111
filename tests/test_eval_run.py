"""The evaluation harness end to end: gold in, report files out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from eval.cli import eval_command
from eval.report import write_report
from eval.runner import ALL_MODES, GoldItem, run
from indexer.settings import Settings

GOLD = [
    GoldItem(
        "q1",
        "law",
        "排污许可证有效期几年？",
        evidence=("排污许可证有效期为5年。",),
        section="第二章 申请与审批 > 第十四条",
        answer_facts=("5年",),
    ),
    GoldItem(
        "q2", "indicator", "PM2.5 目标？", evidence=("PM2.5浓度\t42\t35",), answer_facts=("35", "约束性")
    ),
    GoldItem("q3", "unanswerable", "廊坊明天下雨吗？"),
]


class FakeBackend:
    """Puts each question's evidence at rank 2 and answers with its first key fact only."""

    def __init__(self, items: list[GoldItem]) -> None:
        self.by_question = {i.question: i for i in items}

    def _passages(self, question: str) -> list[dict[str, Any]]:
        item = self.by_question[question]
        hit = item.evidence[0] if item.evidence else "无关"
        return [
            {"text": "无关的段落", "section": "第一章 总则 > 第一条", "doc_id": "x", "quote": "无关"},
            {"text": f"前文{hit}后文", "section": item.section, "doc_id": "x", "quote": hit},
        ]

    def search(self, query: str, top_k: int, mode: str) -> list[dict[str, Any]]:
        return self._passages(query)[:top_k]

    def ask(self, question: str, top_k: int) -> dict[str, Any]:
        item = self.by_question[question]
        if item.type == "unanswerable":
            return {"answer": "无法回答", "abstained": True, "citations": [], "took_ms": 1.0}
        return {
            "answer": f"答案是{item.answer_facts[0]}[2]",
            "abstained": False,
            "citations": self._passages(question),
            "took_ms": 1.0,
        }


def _numbers_in_unit_interval(agg: dict[str, Any]) -> None:
    for key, value in agg.items():
        if key in {"n", "n_retrieval", "n_facts", "errors"} or key.startswith("latency") or value is None:
            continue
        values = value if isinstance(value, list) else [value]
        assert all(v is None or 0.0 <= v <= 1.0 for v in values), (key, value)


def test_run_scores_a_backend_and_writes_all_files(tmp_path: Path) -> None:
    report = run(GOLD, ["hybrid", "answer"], Settings(), backend=FakeBackend(GOLD))
    hybrid = report["aggregates"]["hybrid"]["overall"]
    assert (hybrid["hit@1"], hybrid["hit@5"], hybrid["mrr"]) == (0.0, 1.0, 0.5)
    assert hybrid["n_retrieval"] == 2 and hybrid["keyfact_acc"] == 0.0
    answer = report["aggregates"]["answer"]["overall"]
    assert answer["quote_acc"] == 1.0
    assert answer["section_acc"] == 1.0  # only q1 has a gold section
    assert answer["keyfact_acc"] == 0.5 and answer["fact_recall"] == pytest.approx(0.75)
    assert (answer["abstain_precision"], answer["abstain_recall"]) == (1.0, 1.0)
    assert report["aggregates"]["answer"]["by_type"]["indicator"]["keyfact_acc"] == 0.0

    paths = write_report(report, tmp_path / "out", violations=[])
    assert [p.name for p in paths] == ["report.json", "report.md", "chart.png"]
    assert json.loads(paths[0].read_text(encoding="utf-8"))["meta"]["n_questions"] == 3
    md = paths[1].read_text(encoding="utf-8")
    assert "## Overall" in md and "| hybrid |" in md and "10 worst" in md
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]


def test_a_failing_call_is_recorded_and_scored_as_a_miss() -> None:
    class Broken(FakeBackend):
        def search(self, query: str, top_k: int, mode: str) -> list[dict[str, Any]]:
            raise RuntimeError("index gone")

    report = run(GOLD, ["bm25"], Settings(), backend=Broken(GOLD))
    overall = report["aggregates"]["bm25"]["overall"]
    assert overall["errors"] == 3 and overall["hit@5"] == 0.0
    assert "index gone" in report["questions"][0]["results"]["bm25"]["error"]


@pytest.fixture()
def session_index_env(index_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The eval command reads its settings from the environment: point it at the session index
    (the service no longer builds one on start-up); caches stay in the default data dir."""
    from indexer.settings import get_settings

    monkeypatch.setenv("PLANQA_INDEX_DIR", str(index_settings.resolved_index_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.slow
def test_eval_command_in_process_end_to_end(tmp_path: Path, session_index_env: None) -> None:
    app = typer.Typer()
    app.command()(eval_command)
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["--limit", "8", "--out", str(out), "--modes", ",".join(ALL_MODES)])
    assert result.exit_code == 0, result.output + repr(result.exception)

    for name in ("report.json", "report.md", "chart.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["meta"]["n_questions"] == 8 and report["meta"]["modes"] == list(ALL_MODES)
    assert len({q["type"] for q in report["questions"]}) == 8  # the limit is spread over the types
    for mode in ALL_MODES:
        overall = report["aggregates"][mode]["overall"]
        assert overall["errors"] == 0, mode
        assert overall["hit@5"] is not None and overall["keyfact_acc"] is not None
        _numbers_in_unit_interval(overall)
        for by_type in report["aggregates"][mode]["by_type"].values():
            _numbers_in_unit_interval(by_type)
    assert report["aggregates"]["answer"]["overall"]["abstain_recall"] is not None
    assert report["aggregates"]["answer"]["overall"]["latency_p95_ms"] > 0


@pytest.fixture()
def live_server(index_settings: Settings) -> Any:
    """planqa served by uvicorn on a free local port, requiring an API key."""
    import socket
    import threading
    import time

    import uvicorn

    from service.app import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = create_app(index_settings.model_copy(update={"api_keys": "eval-key"}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 300
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.started, "server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.mark.slow
def test_eval_command_over_http_with_api_key(tmp_path: Path, live_server: str) -> None:
    app = typer.Typer()
    app.command()(eval_command)
    args = ["--url", live_server, "--modes", "hybrid,answer", "--limit", "4", "--out", str(tmp_path)]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 0  # every call fails with 401, and the run says so
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["aggregates"]["hybrid"]["overall"]["errors"] == 4
    assert "401" in report["questions"][0]["results"]["hybrid"]["error"]

    accepted = CliRunner().invoke(app, [*args, "--api-key", "eval-key"])
    assert accepted.exit_code == 0, accepted.output + repr(accepted.exception)
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["meta"]["target"] == live_server
    for mode in ("hybrid", "answer"):
        overall = report["aggregates"][mode]["overall"]
        assert overall["errors"] == 0 and overall["n"] == 4
        _numbers_in_unit_interval(overall)


def test_the_worst_questions_list_never_shows_a_test_question() -> None:
    from eval.report import worst_questions

    def q(qid: str, keyfact: float) -> dict:  # type: ignore[type-arg]
        row = {"scored_retrieval": True, "rank": None, "keyfact": keyfact, "type": "law"}
        return {"id": qid, "results": {"answer": row}}

    # q-1 is held out (test), q-2 and q-3 are dev; the test question is the worst of the three.
    report = {"meta": {"modes": ["answer"]}, "questions": [q("q-1", 0.0), q("q-2", 0.5), q("q-3", 1.0)]}
    assert [x["id"] for x in worst_questions(report)] == ["q-2", "q-3"]
