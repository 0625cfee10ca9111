"""Character n-gram tokens for a second BM25 channel.

jieba words fail when a question and the text share characters but not words: a place name
written inside a longer compound, a one-character verb against its two-character formal form.
CJK runs give their single characters and adjacent pairs; a Latin/digit run (PM2.5, VOCs, 2025)
stays one token, so ``2025`` never matches ``2020`` by its digits.
"""

from __future__ import annotations

import re

from .tokenize import normalise

# A CJK ideograph run, or a Latin/digit run that may carry inner dots/dashes (pm2.5, so2, 3-5).
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:[.\-][a-z0-9]+)*")


def char_tokens(text: str) -> list[str]:
    """CJK unigrams and bigrams plus whole Latin/digit runs, after NFKC and lower-casing.

    Punctuation and spaces end a run, so no bigram spans two clauses.
    """
    out: list[str] = []
    for m in _RUN.finditer(normalise(text)):
        run = m.group()
        if run[0].isascii():  # a Latin/digit run
            out.append(run)
            continue
        out.extend(run)
        out.extend(run[i : i + 2] for i in range(len(run) - 1))
    return out
