"""Where a run's pipeline runs: this process (the default) or a Ray cluster.

An executor implements ``tqcheck.run.Executor``: it takes the run's segment stream and gives the
results back in input order, so that ``Checker.run`` keeps languages, resuming, sinks, the summary and
the signature in one place whatever the executor. Ray is imported only when a Ray executor runs::

    executor = make_executor("ray", jobs=4)            # a local Ray cluster started for the run
    executor = make_executor("ray://head:10001")       # an existing cluster (or RAY_ADDRESS)
    Checker(config).run(segments, sinks=[...], executor=executor)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tqcheck.errors import UsageError

if TYPE_CHECKING:
    from tqcheck.executors.ray_executor import RayExecutor

#: Workers of a Ray run when ``--jobs`` is not given.
DEFAULT_JOBS = 2


def make_executor(spec: str | None, *, jobs: int | None = None, block_size: int | None = None,
                  on_block_failed: Callable[[str], None] | None = None) -> RayExecutor | None:
    """The executor a ``--executor`` value names: None for ``local`` (this process's pipeline), a
    ``RayExecutor`` for ``ray`` (a local cluster of ``jobs`` workers, or the cluster at
    ``$RAY_ADDRESS``) and ``ray://HOST:PORT`` (that cluster)."""
    name = (spec or "local").strip()
    if name == "local":
        if jobs not in (None, 1):
            raise UsageError("--jobs needs a parallel executor", fix="add --executor ray")
        return None
    if name == "ray" or name.startswith("ray://"):
        from tqcheck.executors.ray_executor import RayExecutor

        return RayExecutor(address=None if name == "ray" else name, workers=jobs or DEFAULT_JOBS,
                           block_size=block_size, on_block_failed=on_block_failed)
    raise UsageError(f"unknown executor {spec!r}", fix="use local, ray, or ray://HOST:PORT")
