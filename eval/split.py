"""The fixed dev/test split of the gold set.

The rule depends only on a question's id, so it was fixed before any tuning and never moves when
questions are added: a question is held out for testing when the SHA-256 of its id is even. Rules,
vocabulary and fusion weights may be fitted on ``dev`` only; ``test`` is read as a score, never
question by question, and the CI floors apply to it.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Split = Literal["dev", "test"]
SPLITS: tuple[Split, ...] = ("dev", "test")
TAGS = frozenset({"colloquial", "multipart"})


def split_of(item_id: str) -> Split:
    digest = int(hashlib.sha256(item_id.encode("utf-8")).hexdigest(), 16)
    return "test" if digest % 2 == 0 else "dev"
