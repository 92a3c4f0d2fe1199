"""Make the admin documentation's screenshots (`mrblue/docs/img/`) from the browser tests'
(`test-artifacts/docs-*.png`, written by tests/assistant/test_admin_browser.py): each reduced to
256 colours, so it stays a small PNG (the docs keep each under 300 KB).

    .venv/bin/python -m pytest tests/assistant/test_admin_browser.py
    .venv/bin/python -m tests.support.docs_images
"""

from PIL import Image

from tests.support.live import ROOT

SOURCE = ROOT / "test-artifacts"
TARGET = ROOT / "mrblue" / "docs" / "img"
MAX_BYTES = 300 * 1024


def make_docs_images() -> list[tuple[str, int]]:
    """(file name, bytes) of each image written."""
    TARGET.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(SOURCE.glob("docs-*.png")):
        target = TARGET / source.name.removeprefix("docs-")
        image = Image.open(source).convert("RGB")
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
        size = target.stat().st_size
        if size > MAX_BYTES:
            raise SystemExit(f"{target.name} is {size} bytes, over {MAX_BYTES}")
        written.append((target.name, size))
    return written


if __name__ == "__main__":
    for name, size in make_docs_images():
        print(f"{name}: {size // 1024} KB")
