"""A folder per cache key: the study's data and upstream checkpoint are built once per design.

A key is a digest of what decides the content (the design's fields, the seeds, the config as
trained, the code that builds it, the package versions), so a changed design, config or
generator never reuses a stale entry. An entry is complete only when its ``done.json`` exists (written last, after the content
was moved into place), so an interrupted build is rebuilt, never reused.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
from typing import Any, Iterable, Optional

DONE = 'done.json'


def digest(value: Any, files: Iterable[str] = ()) -> str:
    """A short hex digest of a JSON-serialisable ``value`` and the bytes of ``files``."""
    h = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode())
    for path in sorted(files):
        with open(path, 'rb') as f:
            h.update(osp.basename(path).encode())
            h.update(f.read())
    return h.hexdigest()[:12]


def source_files(package_dir: str) -> list:
    """The ``.py`` files of a package folder (the code whose output is cached)."""
    return [osp.join(package_dir, n) for n in os.listdir(package_dir) if n.endswith('.py')]


def entry(root: str, kind: str, key: str) -> str:
    """The folder of cache entry ``kind-key`` under ``root``."""
    return osp.join(root, f'{kind}-{key}')


def complete(path: str) -> Optional[dict]:
    """The ``done.json`` of a complete entry, None when the entry is missing or unfinished."""
    done = osp.join(path, DONE)
    if not osp.isfile(done):
        return None
    with open(done) as f:
        return json.load(f)


def finish(path: str, info: dict) -> None:
    """Mark an entry complete, recording what it was built from."""
    with open(osp.join(path, DONE), 'w') as f:
        json.dump(info, f, indent=1, sort_keys=True)


def clear(path: str) -> None:
    """Remove an entry (``--fresh``, or an unfinished build)."""
    shutil.rmtree(path, ignore_errors=True)
