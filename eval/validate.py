"""Checks the evaluation gold set (eval/gold/*.jsonl) against the corpus it quotes.

Every answerable item must be provable from its source: each evidence string and each answer fact
has to occur in the raw file of the named document. Matching ignores the extraction artefacts of the
plan (sentences broken across blank lines, stray spaces such as ``775 个``) by NFKC-normalising and
deleting all whitespace on both sides, so a gold string never needs to copy those artefacts.

Usage: ``python -m eval.validate [GOLD_PATH] [--corpus DIR]``; exits 1 when any problem is found.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from indexer.errors import CorpusError
from indexer.manifest import read_manifest

from .split import TAGS

KEY_TYPES: dict[str, type] = {
    "id": str,
    "type": str,
    "question": str,
    "evidence": list,
    "doc_id": str,
    "section": str,
    "answer_facts": list,
    "reference_answer": str,
}
# Optional keys: tags mark the wording of a question across types (see eval/split.py).
OPTIONAL_KEY_TYPES: dict[str, type] = {"tags": list}
MIN_COUNTS: dict[str, int] = {
    "indicator": 15,
    "county": 20,
    "sector": 20,
    "deadline": 15,
    "achievement": 10,
    "paraphrase": 15,
    "law": 15,
    "unanswerable": 10,
}
TYPES = frozenset(MIN_COUNTS)
MIN_TOTAL = 120

_WS = re.compile(r"\s+")

Item = dict[str, Any]


def squash(text: str) -> str:
    """NFKC-normalise and drop all whitespace: the form in which gold strings are matched."""
    return _WS.sub("", unicodedata.normalize("NFKC", text))


def gold_files(path_or_dir: Path) -> list[Path]:
    path = Path(path_or_dir)
    return sorted(path.glob("*.jsonl")) if path.is_dir() else [path]


def parse_lines(name: str, lines: Iterable[str]) -> tuple[list[tuple[str, Item]], list[str]]:
    """Parse JSON Lines; each item is returned with a ``file:line`` label for messages."""
    items: list[tuple[str, Item]] = []
    problems: list[str] = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(value, dict):
            problems.append(f"{where}: a line must hold a JSON object, got {type(value).__name__}")
            continue
        items.append((where, value))
    return items, problems


def check_shape(where: str, item: Item) -> list[str]:
    """Keys exactly as specified, each of the right type; lists hold non-blank strings."""
    problems: list[str] = []
    missing = [k for k in KEY_TYPES if k not in item]
    extra = sorted(set(item) - set(KEY_TYPES) - set(OPTIONAL_KEY_TYPES))
    if missing:
        problems.append(f"{where}: missing keys {missing}")
    if extra:
        problems.append(f"{where}: unexpected keys {extra}")
    for key, expected in KEY_TYPES.items():
        if key in item and not isinstance(item[key], expected):
            problems.append(f"{where}: {key!r} must be {expected.__name__}, got {type(item[key]).__name__}")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t in TAGS for t in tags):
        problems.append(f"{where}: 'tags' must be a list drawn from {sorted(TAGS)}, got {tags!r}")
    for key in ("evidence", "answer_facts"):
        values = item.get(key)
        if isinstance(values, list):
            for value in values:
                # An empty string would "occur" in every document and prove nothing.
                if not isinstance(value, str) or not squash(value):
                    problems.append(f"{where}: {key!r} entries must be non-blank strings, got {value!r}")
    for key in ("id", "question", "reference_answer"):
        if isinstance(item.get(key), str) and not item[key].strip():
            problems.append(f"{where}: {key!r} is blank")
    return problems


def check_item(where: str, item: Item, docs: Mapping[str, str]) -> list[str]:
    """Type, document and verbatim checks for one well-shaped item; ``docs`` maps id → squashed text."""
    label = f"{where} [{item['id']}]"
    kind = item["type"]
    if kind not in TYPES:
        return [f"{label}: type {kind!r} is not one of {sorted(TYPES)}"]
    if kind == "unanswerable":
        problems = [
            f"{label}: an unanswerable item must have empty {key!r}"
            for key in ("evidence", "answer_facts", "doc_id", "section")
            if item[key]
        ]
        return problems
    problems = []
    if not item["evidence"]:
        problems.append(f"{label}: needs at least one evidence string")
    if not item["answer_facts"]:
        problems.append(f"{label}: needs at least one answer fact")
    if not item["section"].strip():
        problems.append(f"{label}: needs a section")
    doc_id = item["doc_id"]
    if doc_id not in docs:
        problems.append(f"{label}: doc_id {doc_id!r} is not in the manifest")
        return problems
    text = docs[doc_id]
    for key in ("evidence", "answer_facts"):
        for value in item[key]:
            if squash(value) not in text:
                problems.append(f"{label}: {key} {value!r} does not occur in {doc_id}")
    return problems


def check_counts(items: Iterable[Item]) -> list[str]:
    counts = Counter(item.get("type") for item in items)
    problems = [
        f"type {kind!r} has {counts[kind]} items; at least {minimum} required"
        for kind, minimum in MIN_COUNTS.items()
        if counts[kind] < minimum
    ]
    total = sum(counts.values())
    if total < MIN_TOTAL:
        problems.append(f"the gold set has {total} items; at least {MIN_TOTAL} required")
    return problems


def check_unique_ids(labelled: Iterable[tuple[str, Item]]) -> list[str]:
    first_seen: dict[str, str] = {}
    problems: list[str] = []
    for where, item in labelled:
        item_id = item.get("id")
        if not isinstance(item_id, str):
            continue
        if item_id in first_seen:
            problems.append(f"{where}: duplicate id {item_id!r} (first at {first_seen[item_id]})")
        else:
            first_seen[item_id] = where
    return problems


def check_sections(items: Iterable[Item], known_paths: set[str]) -> list[str]:
    """Flag answerable items whose section is not a known heading path (compared without whitespace).

    Both sides get the same normalisation as evidence, so a parser that emits half-width brackets
    still matches gold written with the full-width ones.
    """
    known = {squash(p) for p in known_paths}
    problems: list[str] = []
    for item in items:
        if item.get("type") == "unanswerable":
            continue
        section = item.get("section", "")
        if not isinstance(section, str) or squash(section) not in known:
            problems.append(f"[{item.get('id')}]: section {section!r} is not a known heading path")
    return problems


def load_corpus(corpus_dir: Path) -> dict[str, str]:
    """Map every manifest id to the squashed raw text of its file."""
    return {
        meta.id: squash((corpus_dir / meta.file).read_text(encoding="utf-8"))
        for meta in read_manifest(corpus_dir)
    }


def load_gold(path_or_dir: Path | str) -> list[Item]:
    """All parseable items of a gold file or directory, for callers such as the section check."""
    items: list[Item] = []
    for path in gold_files(Path(path_or_dir)):
        parsed, _ = parse_lines(path.name, path.read_text(encoding="utf-8").splitlines())
        items.extend(item for _, item in parsed)
    return items


def validate_gold(
    path_or_dir: Path | str, corpus_dir: Path | str, *, require_counts: bool | None = None
) -> list[str]:
    """Every problem found in a gold file or a directory of them; an empty list means valid.

    Ids must be unique over everything given. Per-type minimums describe the whole gold set, so by
    default they are enforced only when a directory is given (``require_counts`` overrides that).
    """
    path = Path(path_or_dir)
    if not path.exists():
        return [f"{path} does not exist"]
    files = gold_files(path)
    if not files:
        return [f"{path} holds no *.jsonl files"]
    try:
        docs = load_corpus(Path(corpus_dir))
    except CorpusError as exc:
        return [f"corpus: {exc}"]

    problems: list[str] = []
    labelled: list[tuple[str, Item]] = []
    for file in files:
        parsed, parse_problems = parse_lines(file.name, file.read_text(encoding="utf-8").splitlines())
        problems.extend(parse_problems)
        labelled.extend(parsed)
    for where, item in labelled:
        shape_problems = check_shape(where, item)
        problems.extend(shape_problems)
        if not shape_problems:
            problems.extend(check_item(where, item, docs))
    problems.extend(check_unique_ids(labelled))
    if require_counts if require_counts is not None else path.is_dir():
        problems.extend(check_counts(item for _, item in labelled))
    return problems


def main(argv: list[str] | None = None) -> int:
    repo_root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description="Validate the planqa evaluation gold set.")
    parser.add_argument("gold", nargs="?", type=Path, default=repo_root / "eval" / "gold")
    parser.add_argument("--corpus", type=Path, default=repo_root / "corpus")
    parser.add_argument(
        "--counts",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="enforce per-type minimums (default: only for a directory)",
    )
    args = parser.parse_args(argv)
    problems = validate_gold(args.gold, args.corpus, require_counts=args.counts)
    items = load_gold(args.gold) if args.gold.exists() else []
    counts = Counter(item.get("type") for item in items)
    summary = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items(), key=lambda kv: str(kv[0])))
    print(f"{len(items)} items ({summary})")
    for problem in problems:
        print(problem)
    print("valid" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
