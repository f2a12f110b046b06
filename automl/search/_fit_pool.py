"""Fits run side by side, one thread each, on tables small enough that one fit gets one thread.

Below :data:`automl.algorithms.SMALL_ROWS` rows a fit runs on one thread (more cost more than they
give), which left the machine's other cores idle for the whole search and the final refits. A
trial's folds are independent, as are an ensemble's members, so they run in a pool of threads, one
per core; the learners release the GIL while they fit. Trials still run one after another, so TPE
sees the same history and a seed gives the same search. Results come back in order, so the pruner
sees the folds as before.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from typing import Any, TypeVar

T = TypeVar("T")
WORKERS_ENV = "AUTOML_FIT_WORKERS"  # fits at once; 1 turns the pool off (to measure what it gives)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def fit_workers(fits: int) -> int:
    """How many fits run at once: one per core, at most ``fits``; :data:`WORKERS_ENV` overrides."""
    wanted = int(os.environ.get(WORKERS_ENV) or available_cores())
    return max(1, min(wanted, fits))


class FitPool:
    """Runs ``fit(*job)`` for each job (a fold, a member), ``width`` at a time, yielding ``(k, result)`` in order.

    ``before_each()`` runs before a job starts (the clock check) and may raise to start no more:
    the jobs already running are still waited for and yielded, then its exception is raised. Closing
    the iteration early (a pruned trial) cancels the jobs not started and waits for the running ones,
    so the next trial never shares the cores with a leftover fit.
    """

    def __init__(self, width: int) -> None:
        self.width = width

    def run(self, jobs: Sequence[tuple[Any, ...]], before_each: Callable[[], None],
            fit: Callable[..., T]) -> Iterator[tuple[int, T]]:
        with ExitStack() as stack:
            executor = None
            if self.width > 1:
                from threadpoolctl import threadpool_limits

                # BLAS's thread count is one per process: held at 1 here for all the fits (each thread sets
                # its own OpenMP count, see automl.algorithms.limited_threads)
                stack.enter_context(threadpool_limits(limits=1, user_api="blas"))
                executor = stack.enter_context(ThreadPoolExecutor(self.width, thread_name_prefix="fit"))
            pending: deque[tuple[int, Future]] = deque()
            stopped: BaseException | None = None
            started = 0
            try:
                while True:
                    while stopped is None and started < len(jobs) and len(pending) < self.width:
                        try:
                            before_each()
                        except BaseException as err:  # noqa: BLE001 (re-raised once the running jobs are in)
                            stopped = err
                            break
                        pending.append((started, _start(executor, fit, jobs[started])))
                        started += 1
                    if not pending:
                        break
                    k, future = pending.popleft()
                    yield k, future.result()
                if stopped is not None:
                    raise stopped
            finally:
                for _, future in pending:
                    future.cancel()
                wait([future for _, future in pending])


def _start(executor: ThreadPoolExecutor | None, fit: Callable[..., T], job: tuple[Any, ...]) -> Future:
    if executor is not None:
        return executor.submit(fit, *job)
    future: Future = Future()  # one at a time: run here, in this thread, as before the pool existed
    try:
        future.set_result(fit(*job))
    except BaseException as err:  # noqa: BLE001 (raised by result(), in order)
        future.set_exception(err)
    return future
