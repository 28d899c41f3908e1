"""What every benchmark here does around its measurement: run it on a fresh loop (uvloop,
as on the box, unless plain asyncio is asked for) and take the median of several runs."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

Results = dict[str, float]


def run(factory: Callable[[], Coroutine[Any, Any, Results]], plain_asyncio: bool) -> Results:
    if not plain_asyncio:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(factory())
    return asyncio.run(factory())


def median(results: Sequence[Results], key: str) -> float:
    return statistics.median(r[key] for r in results)
