"""Process-wide settings of the interpreter, for the long-running processes.

**The collector and what a process made at start.** A process imports a few hundred modules
and builds its schemas, catalogs, routers and metadata before it serves: about 200,000
objects that live as long as it does. CPython's oldest generation is collected whenever
enough survivors pile up, and each time it walks all of them: in the API under load that was
a 98-106 ms pause, three times in a 15-second run (measured with `gc.callbacks` while four
requests at a time went to it, as `bench/api_scale.py` sends them: every request in flight
waited, and those were the 4-concurrent p99); after the freeze the oldest generation took
2-3 ms. `gc.freeze()` moves what exists at that point into a
permanent generation the collector no longer walks; objects made later are collected as
before, and what was frozen is still freed by reference counting when the last reference
goes (only a cycle among frozen objects would stay: there are none to speak of in module
state).
"""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Call once the process is set up, just before it starts serving."""
    gc.collect()
    gc.freeze()
