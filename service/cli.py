"""The `planqa` command line."""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Annotated

import typer

from indexer import __version__
from indexer.errors import PlanqaError

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="planqa: cited answers over the Langfang plan"
)


@app.callback()
def _main() -> None:
    # Idle OpenMP workers must sleep, not spin, on a small machine; set before torch loads.
    from indexer.embed import prefer_passive_openmp

    prefer_passive_openmp()


def _fail(exc: Exception) -> None:
    allowed = getattr(exc, "allowed", None)
    hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
    typer.secho(f"error: {exc}{hint}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def build(force: bool = False, quiet: bool = False) -> dict[str, object]:
    """Builds a new index generation (or, unless forced, reuses a fresh and intact live one)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from indexer.corpus import load_corpus
    from indexer.docstore import corpus_source
    from indexer.embed import load_embedder
    from indexer.embed_pool import settings_loader
    from indexer.settings import get_settings
    from indexer.store import build_index

    settings = get_settings()
    corpus = load_corpus(corpus_source(settings))
    embedder = load_embedder(settings)

    def waiting(pid: int) -> None:
        typer.echo(f"waiting for the index build of process {pid} to finish", err=True)

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        disable=quiet,
        transient=True,
    ) as bar:
        task = bar.add_task("embedding passages", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return build_index(
            settings,
            embedder,
            corpus,
            progress,
            waiting,
            only_if_stale=not force,
            pool_loader=settings_loader(settings),
        )


@app.command()
def index(
    force: Annotated[bool, typer.Option(help="Rebuild even when the index is up to date")] = True,
) -> None:
    """Build a new index generation from corpus/ beside the live one, then switch to it.

    Embeddings of unchanged passages come from the cache, which is saved after every batch, so
    an interrupted build resumes. A running service picks the new generation up by itself.
    """
    try:
        t0 = time.perf_counter()
        manifest = build(force=force)
    except PlanqaError as exc:
        _fail(exc)
    from indexer.settings import get_settings

    typer.echo(
        f"index generation {manifest['generation']} ready at {get_settings().resolved_index_dir}: "
        f"{manifest['passages']} passages from {manifest['documents']} documents, model "
        f"{manifest['model_id']} ({manifest['dimension']}-d), "
        f"{manifest.get('embeddings_computed', 0) if not manifest.get('reused') else 0} embeddings "
        f"computed, {time.perf_counter() - t0:.1f}s"
    )


@app.command()
def search(
    query: str,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="How many passages")] = 5,
    mode: Annotated[str, typer.Option(help="hybrid | bm25 | dense")] = "hybrid",
    doc: Annotated[list[str] | None, typer.Option("--doc", help="Restrict to these doc ids")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
    repeat: Annotated[int, typer.Option(hidden=True, help="Benchmark: run the query N times")] = 1,
) -> None:
    """Search the index and print ranked passages."""
    from service.engine import load_engine

    try:
        engine = load_engine(build_if_missing=False)
        timings = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            hits = engine.search(query, k=k, doc_ids=doc, mode=mode)
            timings.append((time.perf_counter() - t0) * 1000)
    except PlanqaError as exc:
        _fail(exc)
    if repeat > 1:
        typer.echo(f"median {statistics.median(timings):.1f} ms over {repeat} runs", err=True)
    if as_json:
        results = [
            {
                "passage_id": h.passage.id,
                "doc_id": h.passage.doc_id,
                "doc_title": h.doc_title,
                "section": h.passage.section_path,
                "text": h.passage.text,
                "score": round(h.score, 6),
            }
            for h in hits
        ]
        json.dump({"results": results}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    for h in hits:
        typer.secho(f"[{h.rank}] {h.score:.4f}  《{h.doc_title}》 {h.passage.section_path}", bold=True)
        typer.echo(f"    {h.passage.text[:200]}")


@app.command()
def ask(
    question: str,
    top_k: Annotated[int, typer.Option("--k", min=1, max=20)] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Answer a question with citations."""
    from service.engine import load_engine

    try:
        payload = load_engine(build_if_missing=False).ask_payload(question, top_k=top_k)
    except PlanqaError as exc:
        _fail(exc)
    if as_json:
        json.dump(payload, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    typer.echo(payload["answer"])
    for c in payload["citations"]:
        typer.echo(f"[{c['n']}] 《{c['doc_title']}》 {c['section']}: {c['quote'] or c['text'][:80]}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes")] = 1,
    build: Annotated[
        bool, typer.Option("--build", help="Build the index in the background if missing or stale")
    ] = False,
    reload_interval: Annotated[
        float | None, typer.Option(min=0, help="Seconds between checks for a new index (0: off)")
    ] = None,
    shutdown_timeout: Annotated[
        float, typer.Option(min=0, help="On SIGTERM, seconds to let requests in flight finish")
    ] = 30.0,
) -> None:
    """Run the HTTP API and chat page; the port opens at once and /readyz tells when it is ready.

    The index is never built implicitly: a missing, stale or damaged one is reported by /readyz
    (and /api/* answers 503) until `planqa index` publishes a good one, unless --build is given.
    """
    import os

    import uvicorn

    from indexer.settings import get_settings
    from service.app import create_app
    from service.protocol import uvicorn_options

    # Worker processes read their configuration from the environment, so options go there.
    if build:
        os.environ["PLANQA_BUILD_ON_START"] = "1"
    if reload_interval is not None:
        os.environ["PLANQA_RELOAD_INTERVAL"] = str(reload_interval)
    if workers > 1 and not os.environ.get("PLANQA_EMBED_THREADS"):
        from indexer.embed import worker_embed_threads

        os.environ["PLANQA_EMBED_THREADS"] = str(worker_embed_threads(workers))
    get_settings.cache_clear()
    settings = get_settings()
    options: dict[str, object] = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": "info",
        "access_log": False,  # planqa writes its own JSON access log (service/middleware.py)
        "timeout_graceful_shutdown": shutdown_timeout,
        # The supervisor kills a worker that misses its ping; loading torch and the model can hold
        # the interpreter for longer than the 5 s default on a busy machine.
        "timeout_worker_healthcheck": 30,
        **uvicorn_options(settings),  # header deadline, keep-alive (PLANQA_HEADER_TIMEOUT_S, ...)
    }
    typer.echo(f"planqa {__version__} on http://{options['host']}:{options['port']}, {workers} worker(s)")
    if workers == 1:
        uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
    else:
        uvicorn.run("service.app:create_app", factory=True, workers=workers, **options)  # type: ignore[arg-type]


@app.command()
def version() -> None:
    """Print the planqa version."""
    typer.echo(f"planqa {__version__}")


def _register_eval() -> None:
    try:
        from eval.cli import eval_command
    except ImportError:  # the eval extras are optional for a service-only install
        return
    app.command("eval")(eval_command)


_register_eval()

from service.manage import register as _register_documents  # noqa: E402  (commands defined above first)

_register_documents(app)


if __name__ == "__main__":
    app()
