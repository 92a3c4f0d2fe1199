"""The admin's documentation page shows its screenshots: every image it names is there, a PNG,
and small (committed images stay under 300 KB)."""

import re

from tests.support.docs_images import MAX_BYTES
from tests.support.live import ROOT

DOCS = ROOT / "mrblue" / "docs"


def test_every_screenshot_the_admin_docs_show_is_a_small_png():
    named = re.findall(r"!\[[^\]]+\]\((img/[^)]+)\)", (DOCS / "admin.md").read_text())
    assert len(named) >= 6
    for name in named:
        data = (DOCS / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert len(data) < MAX_BYTES, f"{name}: {len(data)} bytes"
    on_disk = {f"img/{path.name}" for path in (DOCS / "img").iterdir()}
    assert on_disk == set(named)  # no image left behind that the page does not show
