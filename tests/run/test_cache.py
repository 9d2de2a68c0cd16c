"""The one cache: content keys, atomic entries (a killed writer leaves none), corrupt entries are errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from splkit.config import PROJECT_ROOT
from splkit.run import cache as run_cache
from splkit.run.cache import CacheError, ContentCache, atomic_write_text, content_key


@pytest.mark.parametrize("fmt", ["json", "joblib"])
def test_put_get_round_trip_and_layout(tmp_path, fmt):
    cache = ContentCache(tmp_path / "stage", format=fmt)
    key = content_key("image bytes", {"binWidth": 5})
    assert cache.get(key) is None
    value = {"values": {"a": 1.5}} if fmt == "json" else {"array": np.arange(3.0)}
    cache.put(key, value)
    assert cache.path(key) == tmp_path / "stage" / key[:2] / f"{key}.{fmt}"
    got = cache.get(key)
    assert got.keys() == value.keys()
    assert cache.get_or_compute(key, lambda: pytest.fail("recomputed a cached value")) is not None


def test_content_key_depends_on_content_not_identity():
    assert content_key(np.arange(3.0), "x") == content_key(np.arange(3.0), "x")
    assert content_key(np.arange(3.0), "x") != content_key(np.arange(3.0) + 1e-12, "x")


def test_relative_stage_lives_under_the_project_cache():
    assert ContentCache("radiomics").root == PROJECT_ROOT / ".cache" / "radiomics"


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "ab" / "abcdef.json"

    def broken_fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(run_cache.os, "fsync", broken_fsync)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, '{"values": {"a": 1.0}}')
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_killed_write_leaves_no_cache_entry(tmp_path):
    """A process killed (SIGKILL) in the middle of a cache write leaves no entry at the final path."""
    root = tmp_path / "stage"
    script = textwrap.dedent(f"""
        import os, time
        from splkit.run.cache import ContentCache
        os.fsync = lambda fd: (print("writing", flush=True), time.sleep(60))
        ContentCache({str(root)!r}, format="json").put("abcdef", {{"values": {{"a": 1.0}}}})
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.kill()
        proc.wait()
    cache = ContentCache(root, format="json")
    assert not cache.path("abcdef").exists()
    assert cache.get("abcdef") is None
    assert [p.suffix for p in cache.path("abcdef").parent.iterdir()] == [
        ".tmp"
    ]  # only the orphaned temp file


def test_corrupt_entry_is_an_error(tmp_path):
    cache = ContentCache(tmp_path, format="json")
    cache.path("abcd").parent.mkdir(parents=True)
    cache.path("abcd").write_text('{"values": ')
    with pytest.raises(CacheError, match="corrupt"):
        cache.get("abcd")
