"""Rendering generated images in several processes, with results in input order."""
import multiprocessing
from typing import Callable, List, Sequence, TypeVar

T = TypeVar('T')
R = TypeVar('R')


def parallel_map(func: Callable[[T], R], jobs: Sequence[T], workers: int = 1) -> List[R]:
    """``[func(j) for j in jobs]``, computed by ``workers`` forked processes when > 1.

    Every job seeds its own random generator, so the results do not depend on ``workers``.
    ``fork`` is used where it exists (the workers only run numpy and PIL code that is already
    imported), ``spawn`` elsewhere.
    """
    if workers < 1:
        raise ValueError(f'workers must be >= 1, got {workers}')
    if workers == 1 or len(jobs) < 2:
        return [func(j) for j in jobs]
    method = 'fork' if 'fork' in multiprocessing.get_all_start_methods() else 'spawn'
    with multiprocessing.get_context(method).Pool(workers) as pool:
        return pool.map(func, jobs, chunksize=max(1, len(jobs) // (8 * workers)))
