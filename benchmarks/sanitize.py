"""The scrubber's cost from 1 KB to 1 MB: linear with every pattern on, flat with the cap.

For each input shape (plain letters, a secret keyword repeated, ``scheme://``
repeated, words, a mix of near misses), times ``sanitize`` at 1 KiB, 16 KiB,
64 KiB, 256 KiB and 1 MiB, twice:

* ``full``: ``max_length`` as long as the text, so every pattern sees all of
  it (what linear patterns cost; the old ones were quadratic);
* ``capped``: the default ``max_length=500`` the engine uses, where only
  ``str.replace`` and one slice see the whole text.

Prints a Markdown table (best of 3 runs, milliseconds) and the ratio of the
1 MiB time to the 256 KiB time (4x input: ~4 is linear, ~16 quadratic).
Exits non-zero when a ``full`` ratio exceeds 8 or a capped 1 MiB call takes
more than 20 ms.

    .venv/bin/python benchmarks/sanitize.py
"""

from __future__ import annotations

import sys
import time

from healthprobe import sanitize

SHAPES = {
    "letters": "A",
    "keyword": "password",
    "pairs": "pwd: \"a' ",
    "urls": "a://x y",
    "words": "word ",
    "mix": 'Bearer  x@y://AuthenticationError: token= "',
}
SIZES = (1024, 16 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024)


def _best(text: str, max_length: int) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        sanitize(text, ["S3cret-value", "db"], max_length=max_length)
        best = min(best, time.perf_counter() - started)
    return best * 1000


def main() -> int:
    print(f"sanitize, Python {sys.version.split()[0]}; best of 3, ms")
    header = " | ".join(f"{size // 1024} KiB" for size in SIZES)
    print(f"| shape | mode | {header} | 1 MiB / 256 KiB |")
    print("|---|---|" + "---:|" * (len(SIZES) + 1))
    ok = True
    for shape, unit in SHAPES.items():
        for mode in ("full", "capped"):
            times = []
            for size in SIZES:
                text = (unit * (size // len(unit) + 1))[:size]
                times.append(_best(text, size if mode == "full" else 500))
            ratio = times[-1] / times[-2]
            cells = " | ".join(f"{t:.2f}" for t in times)
            print(f"| {shape} | {mode} | {cells} | {ratio:.1f} |")
            if (mode == "full" and ratio > 8) or (mode == "capped" and times[-1] > 20):
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
