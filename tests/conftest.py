"""Shared test set-up: the builders module (workbooks made in code) is importable from every folder."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def sample_year(tmp_path_factory):
    """A workspace with the whole shipped sample year ingested month by month (read-only: copy to change it)."""
    from pipeline.archive import Archive
    from pipeline.archive.ingest import ingest_inbox
    from pipeline.archive.workspace import Workspace
    from pipeline.config import load_config
    from pipeline.dev.demo import _deliver, _received_times

    root = Path(__file__).resolve().parents[1]
    samples = root / "input_samples"
    ws = Workspace(tmp_path_factory.mktemp("sample-year") / "ws")
    ws.init()
    config = load_config(ws.config_path)
    times = _received_times(samples)
    with Archive(ws.archive_path, journal=ws.journal) as archive:
        for month in sorted(p for p in samples.iterdir() if p.is_dir()):
            for source in sorted(month.iterdir()):
                _deliver(source, ws.inbox, times.get(str(source.relative_to(samples))))
            ingest_inbox(ws, archive, config)
    return ws


@pytest.fixture
def ws(tmp_path):
    """A new, empty workspace with the default crm.toml."""
    from pipeline.archive.workspace import Workspace
    space = Workspace(tmp_path / "ws")
    space.init()
    return space
