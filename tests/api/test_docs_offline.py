"""``/docs`` and ``/redoc`` use only files the service itself serves (an offline machine
renders them): no CDN URL in the pages, and every script and stylesheet they load answers."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from heldout.api.app import create_app
from heldout.config import Settings


def test_docs_and_redoc_load_only_local_assets(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data", environment="test"))
    with TestClient(app) as client:
        for page in ("/docs", "/redoc"):
            html = client.get(page).text
            assets = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', html)
            assert assets, page
            assert not [a for a in assets if a.startswith(("http:", "https:", "//"))], page
            for asset in assets:
                answer = client.get(asset)
                assert answer.status_code == 200, asset
                if asset.endswith(".js"):
                    assert len(answer.content) > 100_000, asset
        assert "openapi.json" in client.get("/docs").text
