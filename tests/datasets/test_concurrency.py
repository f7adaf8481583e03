"""Four processes merging into one dataset at once: every merge lands as its own version,
nothing is lost, and every version stays readable as it was."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from otelfeedback.datasets import catalog
from otelfeedback.store import FileStore

MERGER = textwrap.dedent("""
    import sys
    from otelfeedback.datasets import catalog
    from otelfeedback.store import FileStore
    store = FileStore(sys.argv[1])
    worker = sys.argv[2]
    ds = catalog.get(store, "shared")
    for merge in range(2):
        ds.merge_records(
            [{"inputs": {"q": f"w{worker}-m{merge}-{i}"}} for i in range(50)]
            + [{"inputs": {"q": "common"}, "expectations": {f"w{worker}-m{merge}": True}}]
        )
        print(ds.version)
""")


def test_concurrent_merges_from_four_processes_all_land(tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    catalog.create(store, "shared")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MERGER, str(tmp_path), str(w)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(4)
    ]
    made = []
    for process in processes:
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
        made += [int(v) for v in out.split()]
    assert sorted(made) == list(range(1, 9))  # each merge made its own version
    ds = catalog.get(store, "shared")
    assert ds.version == 8 and ds.record_count == 4 * 2 * 50 + 1
    common = next(r for r in ds.records if r.inputs == {"q": "common"})
    assert common.expectations == {f"w{w}-m{m}": True for w in range(4) for m in range(2)}
    versions = ds.versions()
    assert [v.version for v in versions] == list(range(1, 9))
    assert [v.added for v in versions] == [51] + [50] * 7
    assert [v.record_count for v in versions] == [51 + 50 * n for n in range(8)]
    for version in versions:  # every version reads as it was made
        assert len(catalog.get(store, "shared", version.version).records) == version.record_count
