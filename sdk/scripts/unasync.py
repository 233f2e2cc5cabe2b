"""Generate the sync client from the async one (as httpcore does), so the two never drift apart.

python sdk/scripts/unasync.py          # rewrite src/crier_sdk/_sync_client.py
python sdk/scripts/unasync.py --check  # exit 1 when it is out of date (the SDK's tests do this too)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "crier_sdk"
SOURCE, TARGET = PACKAGE / "_async_client.py", PACKAGE / "_sync_client.py"

# Order matters: the longer spellings first.
REPLACEMENTS = [
    (
        (
            r'"""The async client\. `_sync_client\.py` is generated from this file by `sdk/scripts/unasync\.py`:\n'
            r'edit this one, then run `python sdk/scripts/unasync\.py` \(a test fails while the two disagree\)\.\n"""'
        ),
        (
            '"""The sync client. GENERATED from `_async_client.py` by `sdk/scripts/unasync.py`: do not edit."""\n'
            "# ruff: noqa: UP028  (a `for ... yield` mirrors the async source, which has no `yield from`)"
        ),
    ),
    (r"\basync def\b", "def"),
    (r"\basync for\b", "for"),
    (r"\basync with\b", "with"),
    (r"\bawait ", ""),
    (r"\bimport asyncio\b", "import time"),
    (r"\basyncio\.sleep\b", "time.sleep"),
    (r"\baclose\b", "close"),
    (r"__aenter__", "__enter__"),
    (r"__aexit__", "__exit__"),
    (r"\bAsyncIterator, Iterable\b", "Iterable, Iterator"),  # keeps the import block sorted
    (r"\bAsyncIterator\b", "Iterator"),
    (r"\bhttpx\.AsyncClient\b", "httpx.Client"),
    (r"\b_AsyncResource\b", "_Resource"),
    (r"\bAsync(?=[A-Z])", ""),
]


def generate(source: str) -> str:
    for pattern, replacement in REPLACEMENTS:
        source = re.sub(pattern, replacement, source)
    return source


def main(argv: list[str]) -> int:
    expected = generate(SOURCE.read_text())
    if "--check" in argv:
        if TARGET.read_text() != expected:
            print(f"{TARGET} is out of date: run python sdk/scripts/unasync.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(expected)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
