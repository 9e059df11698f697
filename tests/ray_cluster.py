"""A small local Ray cluster for the Ray tests and benchmark (kept light: 2 CPUs)."""

from __future__ import annotations

import time

#: Ray's object store for these runs (its documented minimum is 75 MB).
OBJECT_STORE_BYTES = 100 * 1024 * 1024


def start_cluster(attempts: int = 3) -> float:
    """Start a local cluster (2 CPUs, no dashboard); return how long it took, in seconds.

    Ray waits a fixed 30 s for its raylet to register; on a heavily loaded machine that
    can run out, so the start is tried again (after a clean shutdown) up to ``attempts``
    times. Progress bars and execution banners of Ray Data are turned off.
    """
    import ray

    for attempt in range(attempts):
        began = time.perf_counter()
        try:
            ray.init(
                num_cpus=2,
                object_store_memory=OBJECT_STORE_BYTES,
                include_dashboard=False,
                log_to_driver=False,
                _node_ip_address="127.0.0.1",
            )
        except Exception as error:
            ray.shutdown()
            if attempt == attempts - 1 or "timed out during startup" not in str(error):
                raise
            continue
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        return time.perf_counter() - began
    raise AssertionError("unreachable")
