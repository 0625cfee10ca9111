"""Index generations on disk: built beside the live one, switched by one atomic rename.

Layout of the index directory::

    CURRENT                  the live generation's id (replaced atomically, never edited)
    generations/<id>/        one complete index: artefacts + manifest.json with sizes and hashes
    generations/.building-*  a build in progress (or one killed mid-way; removed by the next build)
    .build.lock              held (fcntl) by the one process building
    .read.lock               held shared while a generation is being loaded, so cleanup waits

A generation directory is never changed after it is published; a reader that saw CURRENT name
it can load it while a newer one is built. Cleanup keeps the live and the previous generation.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import BuildError, IndexError_

POINTER = "CURRENT"
GENERATIONS = "generations"
MANIFEST = "manifest.json"
STAGING_PREFIX = ".building-"
BUILD_LOCK = ".build.lock"
READ_LOCK = ".read.lock"
FIX = (
    "run `planqa index` (a running service picks the new index up by itself), "
    "or start the service with `planqa serve --build`"
)


def new_generation_id() -> str:
    # Sortable by time; the random tail keeps two builds in one second apart.
    return time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def generation_dir(root: Path, generation: str) -> Path:
    return root / GENERATIONS / generation


def read_pointer(root: Path) -> str | None:
    """The live generation's id, or None when no index has been published."""
    try:
        value = (root / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return value or None


def live_dir(root: Path) -> Path:
    """Directory of the live generation; IndexError_ naming what is missing and the fix."""
    generation = read_pointer(root)
    if generation is None:
        if (root / MANIFEST).is_file():
            raise IndexError_(f"index at {root} has the layout of an older planqa version: {FIX}")
        raise IndexError_(f"no index at {root} ({root / POINTER} does not exist): {FIX}")
    path = generation_dir(root, generation)
    if not path.is_dir():
        raise IndexError_(f"{root / POINTER} names generation {generation}, but {path} is missing: {FIX}")
    return path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_pointer(root: Path, generation: str) -> None:
    tmp = root / f".{POINTER}.{os.getpid()}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(generation + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, root / POINTER)
    _fsync(root)


# --------------------------------------------------------------------------- integrity


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_table(directory: Path) -> dict[str, dict[str, object]]:
    """Size and SHA-256 of every artefact in a generation, whatever writers put there."""
    return {
        p.relative_to(directory).as_posix(): {"size": p.stat().st_size, "sha256": _sha256(p)}
        for p in _files(directory)
    }


def verify(directory: Path, manifest: dict[str, object]) -> None:
    """Every file the manifest records is present with its size and hash, and nothing else."""
    recorded = manifest.get("files")
    if not isinstance(recorded, dict) or not recorded:
        raise IndexError_(f"index manifest {directory / MANIFEST} records no file checksums: {FIX}")
    for name, entry in sorted(recorded.items()):
        path = directory / name
        if not path.is_file():
            raise IndexError_(f"index file {path} is missing: the index is damaged; {FIX}")
        size, expected = path.stat().st_size, entry.get("size")
        if size != expected:
            raise IndexError_(
                f"index file {path} is damaged ({size} bytes, the manifest records {expected}): {FIX}"
            )
        if _sha256(path) != entry.get("sha256"):
            raise IndexError_(f"index file {path} is damaged (its checksum differs from the manifest): {FIX}")
    extra = sorted(set(p.relative_to(directory).as_posix() for p in _files(directory)) - set(recorded))
    if extra:
        raise IndexError_(f"index {directory} has files its manifest does not record ({extra[0]}): {FIX}")


# --------------------------------------------------------------------------- locks


def _lock_file(root: Path, name: str) -> int:
    root.mkdir(parents=True, exist_ok=True)
    return os.open(root / name, os.O_RDWR | os.O_CREAT, 0o644)


def build_in_progress(root: Path) -> int | None:
    """The pid holding the build lock, or None when no build is running."""
    if not (root / BUILD_LOCK).exists():
        return None
    fd = _lock_file(root, BUILD_LOCK)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raw = os.pread(fd, 32, 0).decode(errors="replace").strip()
        return int(raw) if raw.isdigit() else -1
    finally:
        os.close(fd)  # closing releases the probe's lock if it got one
    return None


@contextlib.contextmanager
def build_lock(root: Path, on_wait: Callable[[int], None] | None = None) -> Iterator[None]:
    """Exclusive right to build into ``root``; waits for (and tells about) another build."""
    fd = _lock_file(root, BUILD_LOCK)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait:
                raw = os.pread(fd, 32, 0).decode(errors="replace").strip()
                on_wait(int(raw) if raw.isdigit() else -1)
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


@contextlib.contextmanager
def reading(root: Path) -> Iterator[None]:
    """Held while loading a generation, so cleanup never deletes one being read."""
    fd = _lock_file(root, READ_LOCK) if root.is_dir() else None
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        if fd is not None:
            os.close(fd)


# --------------------------------------------------------------------------- building


def _no_space(exc: BaseException, directory: Path) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    if "no space left" in text or "disk is full" in text or "quota exceeded" in text:
        return True
    # Some writers (FAISS) report a short write without the cause; a full disk explains it.
    with contextlib.suppress(OSError):
        return shutil.disk_usage(directory).free < 1 << 20
    return False


def no_space_error(root: Path) -> BuildError:
    return BuildError(
        f"no space left on the device holding {root} while building the index; nothing was "
        f"published and the live index is unchanged: free some space and run `planqa index` again"
    )


@contextlib.contextmanager
def staging(root: Path) -> Iterator[tuple[str, Path]]:
    """A fresh generation id and an empty directory to build it in; removed if the build fails."""
    generation = new_generation_id()
    parent = root / GENERATIONS
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = parent / f"{STAGING_PREFIX}{generation}"
        tmp.mkdir()
    except OSError as exc:
        if _no_space(exc, root):
            raise no_space_error(root) from exc
        raise
    try:
        yield generation, tmp
    except BaseException as exc:
        full = _no_space(exc, tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        if full and isinstance(exc, Exception) and not isinstance(exc, BuildError):
            raise no_space_error(root) from exc
        raise


def publish(root: Path, generation: str, tmp: Path, manifest: dict[str, object]) -> dict[str, object]:
    """Records checksums, renames the staged directory into place and switches CURRENT to it."""
    manifest = {**manifest, "generation": generation, "files": file_table(tmp)}
    for path in _files(tmp):
        _fsync(path)
    # The manifest is written last: a directory without one is never a usable index.
    (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    _fsync(tmp / MANIFEST)
    previous = read_pointer(root)
    final = generation_dir(root, generation)
    os.rename(tmp, final)
    _fsync(final.parent)
    write_pointer(root, generation)
    collect_garbage(root, keep={generation, *([previous] if previous else [])})
    return manifest


def collect_garbage(root: Path, keep: set[str]) -> list[str]:
    """Removes generations other than ``keep`` and abandoned staging dirs (build lock held).

    Skipped entirely while any process is loading a generation (the read lock is shared);
    the next build tries again. Returns the names removed.
    """
    parent = root / GENERATIONS
    if not parent.is_dir():
        return []
    fd = _lock_file(root, READ_LOCK)
    removed: list[str] = []
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return []
        for path in sorted(parent.iterdir()):
            if path.name in keep or not path.is_dir():
                continue
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    finally:
        os.close(fd)
    return removed


def list_generations(root: Path) -> list[str]:
    parent = root / GENERATIONS
    if not parent.is_dir():
        return []
    return sorted(p.name for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))
