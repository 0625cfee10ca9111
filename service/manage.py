"""`planqa add | replace | remove | documents`: the document store from the command line.

Each write goes to the store first (validated completely, nothing half-written), then the index
is rebuilt with the ordinary build, whose embedding cache makes every unchanged passage free:
adding one document embeds only that document's passages.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from indexer.errors import DocumentRejected, DuplicateDocument, PlanqaError

if TYPE_CHECKING:
    from indexer.docstore import DocumentStore


def _fail(exc: Exception) -> None:
    from .cli import _fail as fail

    fail(exc)


def _store() -> DocumentStore:
    from indexer.docstore import open_store
    from indexer.settings import get_settings

    return open_store(get_settings())


def _rebuild(changed: list[str]) -> None:
    """Rebuilds the index and records the outcome on the changed documents' status."""
    from .cli import build

    store = _store()
    try:
        manifest = build(force=False)
    except PlanqaError as exc:
        store.set_status(changed, "failed", str(exc))
        _fail(exc)
    pending = [d.meta.id for d in store.documents() if d.status == "indexing"]
    store.set_status(pending, "ready")
    typer.echo(
        f"index rebuilt: {manifest['passages']} passages from {manifest['documents']} documents, "
        f"{manifest.get('embeddings_computed', 0)} embeddings computed"
    )


def _files(path: Path) -> list[Path]:
    from indexer.extract import FORMATS

    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)
    if not path.is_file():
        _fail(PlanqaError(f"no such file or directory: {path}"))
    return [path]


def add(
    path: Annotated[Path, typer.Argument(help="A .docx, .pdf, .md or .txt file, or a directory of them")],
    title: Annotated[str | None, typer.Option(help="Title (default: the file's first heading)")] = None,
    kind: Annotated[str | None, typer.Option(help="plan | law | regulation | measures | ...")] = None,
    issuer: Annotated[str | None, typer.Option(help="Issuing authority")] = None,
    version_date: Annotated[str | None, typer.Option(help="Date of this version, YYYY-MM-DD")] = None,
    tier: Annotated[
        str | None, typer.Option(help="core (ranked first) | reference (a library beside the core)")
    ] = None,
) -> None:
    """Add documents to the knowledge base and rebuild the index."""
    files = _files(path)
    if len(files) > 1 and title:
        _fail(PlanqaError("--title names one document; leave it out when adding a directory"))
    store = _store()
    added: list[str] = []
    for file in files:
        try:
            doc_id = store.add(file.name, file.read_bytes(), title, kind, issuer, version_date, tier)
        except (DocumentRejected, DuplicateDocument) as exc:
            if path.is_file():
                _fail(exc)
            typer.secho(f"skipped {file}: {exc}", fg=typer.colors.YELLOW, err=True)
            continue
        except PlanqaError as exc:
            _fail(exc)
        added.append(doc_id)
        typer.echo(f"added {doc_id} ({file.name})")
    # Documents still marked indexing were stored by an add that did not finish (killed during
    # its build): rerunning the same command skips them as duplicates and builds them now, with
    # every vector the killed build had embedded taken from the cache.
    pending = [d.meta.id for d in store.documents() if d.status == "indexing" and d.meta.id not in added]
    if pending:
        typer.echo(f"resuming: {len(pending)} documents stored earlier are still to be indexed")
    if added or pending:
        _rebuild(added + pending)


def replace(
    doc_id: Annotated[str, typer.Argument(help="The document to replace")],
    path: Annotated[Path, typer.Argument(help="Its new version")],
    title: Annotated[str | None, typer.Option(help="New title (default: keep)")] = None,
    kind: Annotated[str | None, typer.Option(help="New kind (default: keep)")] = None,
    tier: Annotated[str | None, typer.Option(help="New tier (default: keep)")] = None,
) -> None:
    """Replace a document with a new version and rebuild the index."""
    try:
        version = _store().replace(doc_id, path.name, _files(path)[0].read_bytes(), title, kind, tier)
    except PlanqaError as exc:
        _fail(exc)
    typer.echo(f"replaced {doc_id}: version {version}")
    _rebuild([doc_id])


def remove(doc_id: Annotated[str, typer.Argument(help="The document to remove")]) -> None:
    """Remove a document (its passages, vectors and terms leave the index) and rebuild."""
    try:
        _store().remove(doc_id)
    except PlanqaError as exc:
        _fail(exc)
    typer.echo(f"removed {doc_id}")
    _rebuild([])


def documents(as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
    """List the documents of the knowledge base with their status."""
    try:
        docs = _store().documents()
    except PlanqaError as exc:
        _fail(exc)
    if as_json:
        json.dump([d.as_dict() for d in docs], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    for d in docs:
        reason = f"  ({d.reason})" if d.reason else ""
        typer.echo(
            f"{d.meta.id}\t{d.status}\tv{d.version}\t{d.meta.format}\t{d.meta.kind}\t{d.meta.tier}\t{d.meta.title}{reason}"
        )


def register(app: typer.Typer) -> None:
    for command in (add, replace, remove, documents):
        app.command()(command)
