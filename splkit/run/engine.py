"""The compute engine: the one place that decides where splkit's parallel work runs.

Radiomics extraction (one task per image), deep embeddings (one task per batch of images) and SHAP (one
task per block of patients) are handed to an :class:`Engine` as a function and a list of work items;
:meth:`Engine.map` yields ``(index, result)`` pairs as the tasks complete.  The profile's ``compute``
section chooses the engine:

- ``engine: local`` (the default): ``n_jobs`` spawn-started processes on this machine (kept for the
  engine's ``with`` block; not joblib's shared loky pool, which scikit-learn's ``n_jobs`` uses), or this
  process alone when ``n_jobs`` is 1 or when the caller asks for it, as the embeddings do (torch already
  parallelises inside a batch).
- ``engine: dask``: a Dask cluster.  With ``scheduler: null`` a ``LocalCluster`` of ``workers`` processes
  (one thread each) is started and closed with the engine; with ``scheduler: tcp://host:8786`` the
  engine connects to that cluster (``distributed.Client(address)``) and leaves it running.

Every worker runs one task at a time with one BLAS/OpenMP/ITK/torch thread (:func:`single_threaded`):
the processes, not the threads, use the cores.  Inputs are read on the worker from their paths, so Dask
workers must see the cohort at the same paths as the client (:func:`require_readable` fails with the
file's name otherwise); results are the same numbers whichever engine computes them, because the work
items and their seeds do not depend on the engine.  A worker that dies mid-task is replaced and its
task rerun by Dask; cache entries are written atomically (:mod:`splkit.run.cache`), so a killed task
leaves no half entry.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENGINES = ("local", "dask")
#: Environment of every worker process: one thread per BLAS/OpenMP/ITK pool (read when they load).
THREAD_ENV = {
    name: "1"
    for name in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS",
    )
}

_CAPPED = False


class InputNotReadableError(RuntimeError):
    """A worker cannot read an input file (on a cluster: the worker does not see the client's files)."""


def single_threaded() -> None:
    """Cap this process to one thread per pool: BLAS/OpenMP (threadpoolctl), ITK and torch (if loaded).

    The worker initialiser of the local pool, and run once per Dask worker process before its first task.
    """
    global _CAPPED
    os.environ.update(THREAD_ENV)
    import sys

    import SimpleITK as sitk
    from threadpoolctl import threadpool_limits

    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    threadpool_limits(1)
    if "torch" in sys.modules:  # else OMP_NUM_THREADS=1 above sets torch's default when it loads
        sys.modules["torch"].set_num_threads(1)
    _CAPPED = True


def require_readable(path: str | Path, what: str, patient: str) -> Path:
    """``path`` when it is a readable file, else :class:`InputNotReadableError` naming it and the host.

    Never a silent skip: on a Dask cluster an unreadable input means the worker does not see the
    cohort folder at the client's path.
    """
    path = Path(path)
    if path.is_file() and os.access(path, os.R_OK):
        return path
    raise InputNotReadableError(
        f"patient {patient}: {what} file {path} cannot be read on {socket.gethostname()} (pid {os.getpid()}). "
        "Workers read inputs from their paths: every Dask worker must see the cohort folder (and the "
        "cache folder) at the same path as the machine that started the run."
    )


def _call(fn: Callable, item: Any, *shared: Any) -> Any:
    """Run one task on a Dask worker with one thread per pool (torch too, once an argument loaded it)."""
    import sys

    if not _CAPPED:
        single_threaded()
    if "torch" in sys.modules and sys.modules["torch"].get_num_threads() != 1:
        sys.modules["torch"].set_num_threads(1)
    return fn(item, *shared)


class Engine:
    """Where parallel work runs: a local process pool or a Dask cluster.

    Parameters
    ----------
    kind
        ``"local"`` or ``"dask"``.
    workers
        ``local``: worker processes (1: this process); ``dask`` without a scheduler: ``LocalCluster``
        worker processes (one thread each).
    scheduler
        ``dask`` only: the address of a running scheduler (``tcp://host:8786``); ``None`` starts a
        ``LocalCluster``.

    Use it as a context manager: a cluster the engine started is closed on exit; one it connected to
    is left running.
    """

    def __init__(self, kind: str = "local", workers: int = 1, scheduler: str | None = None):
        if kind not in ENGINES:
            raise ValueError(f"compute.engine must be one of {', '.join(ENGINES)}, not {kind!r}")
        if scheduler is not None and kind != "dask":
            raise ValueError("compute.scheduler needs compute.engine: dask")
        self.kind, self.workers, self.scheduler = kind, max(int(workers), 1), scheduler
        self.client: Any = None
        self._cluster: Any = None
        self._pool: Any = None  # the local process pool, kept while the engine is entered
        self._entered = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], n_jobs: int | None = None) -> Engine:
        """The engine of a profile: its ``compute`` section, and ``n_jobs`` processes for ``local``.

        Settings without a ``compute`` section (runs made before it existed) get the local engine.
        """
        compute = settings.get("compute") or {}
        kind = compute.get("engine", "local")
        if kind == "local":
            return cls("local", workers=n_jobs if n_jobs is not None else int(settings.get("n_jobs", 1)))
        return cls("dask", workers=int(compute.get("workers", 2)), scheduler=compute.get("scheduler"))

    def __repr__(self) -> str:
        where = f", scheduler={self.scheduler!r}" if self.scheduler else ""
        return f"Engine({self.kind!r}, workers={self.workers}{where})"

    @property
    def distributed(self) -> bool:
        """Whether tasks run on a Dask cluster."""
        return self.kind == "dask"

    # --- lifetime ----------------------------------------------------------------------------------

    def __enter__(self) -> Engine:
        self._entered = True
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def start(self) -> Any:
        """The Dask client, starting the ``LocalCluster`` or connecting to the scheduler on first use."""
        if not self.distributed or self.client is not None:
            return self.client
        from distributed import Client, LocalCluster

        if self.scheduler is None:
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address="127.0.0.1:0",
                env=THREAD_ENV,
            )
            self.client = Client(self._cluster)
        else:
            self.client = Client(self.scheduler)
        if self.dashboard_link:
            print(f"Dask dashboard: {self.dashboard_link}", flush=True)
        return self.client

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's address, when the cluster serves one (it needs ``bokeh``)."""
        if self.client is None:
            return None
        services = self.client.scheduler_info().get("services", {})
        return self.client.dashboard_link if "dashboard" in services else None

    def close(self) -> None:
        """Disconnect; close the ``LocalCluster`` if this engine started it."""
        if self.client is not None:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        self.client = self._cluster = self._pool = None
        self._entered = False

    # --- dispatch ----------------------------------------------------------------------------------

    def map(
        self,
        fn: Callable,
        items: Sequence[Any],
        *shared: Any,
        progress: Any = None,
        size: Callable[[Any], int] | None = None,
        in_process: bool = False,
    ) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(items[index], *shared))`` for every item, as the tasks complete.

        Parameters
        ----------
        fn
            A module-level function (it is pickled to the workers).
        items
            One work item per task.
        shared
            Arguments common to every task (a preset, a network, a fitted model): sent to each worker
            once (scattered on Dask).
        progress
            A progress bar (:func:`splkit.run.progress.progress_bar`) advanced as tasks complete.
        size
            How much of ``progress`` one item is (default 1; e.g. the images in a batch).
        in_process
            ``local`` engine only: run the tasks in this process, in order (for work already
            parallel inside, like a torch forward pass).

        Raises
        ------
        Exception
            The first task's error; the tasks not yet started are cancelled.
        """
        if not items:
            return
        advance = (lambda item: progress.update(size(item) if size else 1)) if progress is not None else None
        if self.distributed:
            results = self._map_dask(fn, items, shared)
        elif in_process or self.workers <= 1 or len(items) <= 1:
            results = ((i, fn(item, *shared)) for i, item in enumerate(items))
        else:
            results = self._map_pool(fn, items, shared)
        for index, result in results:
            if advance is not None:
                advance(items[index])
            yield index, result

    def _map_pool(self, fn: Callable, items: Sequence[Any], shared: tuple) -> Iterator[tuple[int, Any]]:
        """A spawn-started process pool of its own (never joblib's shared loky pool, whose executor
        other steps' ``joblib.Parallel`` expects to own), kept for the engine's ``with`` block, with a
        bounded window of submitted tasks so that a failure stops the run early."""
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        pool = self._pool or ProcessPoolExecutor(
            max_workers=self.workers, mp_context=get_context("spawn"), initializer=single_threaded
        )
        if self._entered:
            self._pool = pool
        running: dict[Any, int] = {}
        try:
            for index, item in enumerate(items):
                running[pool.submit(fn, item, *shared)] = index
                while len(running) >= 4 * self.workers:
                    yield from _collect(running)
            while running:
                yield from _collect(running)
        finally:
            for future in running:
                future.cancel()
            wait(running)  # no task of this step keeps running after it ends
            if not self._entered:
                pool.shutdown()

    def _map_dask(self, fn: Callable, items: Sequence[Any], shared: tuple) -> Iterator[tuple[int, Any]]:
        """Submit every task (shared arguments scattered once), then yield them as they complete."""
        from distributed import as_completed

        client = self.start()
        scattered = [client.scatter(value, broadcast=True, hash=False) for value in shared]
        futures = {
            client.submit(
                _call, fn, item, *scattered, pure=False, key=f"{fn.__name__}-{index}-{os.urandom(4).hex()}"
            ): index
            for index, item in enumerate(items)
        }
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        finally:
            client.cancel([f for f in futures if not f.done()] + scattered)

    @contextmanager
    def joblib_backend(self) -> Iterator[None]:
        """``with engine.joblib_backend(): …``: joblib's ``Parallel`` (scikit-learn's ``n_jobs``) runs on
        the Dask cluster; the local engine changes nothing."""
        if not self.distributed:
            yield
            return
        import joblib

        self.start()
        with joblib.parallel_config(backend="dask"):
            yield


def _collect(running: dict[Any, int]) -> Iterator[tuple[int, Any]]:
    """Wait for at least one of ``running`` (future -> index) and yield the finished ones."""
    done, _ = wait(running, return_when=FIRST_COMPLETED)
    for future in done:
        index = running.pop(future)
        yield index, future.result()
