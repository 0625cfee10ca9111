"""Writes tests/data/corpus_snapshot.json: every passage, heading and indicator of the shipped corpus.

The committed snapshot was written by the parsers that preceded the generic structure parser, so
tests/test_corpus_snapshot.py proves the shipped documents still come out exactly as they did.
Rewrite it only for a deliberate change of the parse: `python scripts/corpus_snapshot.py`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SNAPSHOT = ROOT / "tests" / "data" / "corpus_snapshot.json"


def snapshot(corpus: Any) -> dict[str, Any]:
    docs = []
    for d in corpus.documents:
        docs.append(
            {
                "id": d.meta.id,
                "text_sha256": hashlib.sha256(d.text.encode()).hexdigest(),
                "headings": [[h.level, h.title, h.start] for h in d.headings],
                "passages": [
                    [p.id, list(p.section), p.text, p.start, p.end, p.kind, p.topic] for p in d.passages
                ],
            }
        )
    return {"documents": docs, "indicators": [asdict(i) for i in corpus.indicators]}


def main() -> None:
    from indexer.corpus import load_corpus

    data = snapshot(load_corpus(ROOT / "corpus"))
    SNAPSHOT.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{SNAPSHOT}: {sum(len(d['passages']) for d in data['documents'])} passages")


if __name__ == "__main__":
    main()
