"""Show a GLB in a real browser viewer (three.js in headless Chromium) and save a picture:

    python tools/glb_viewer.py body.glb docs/export-rigged.png

The page (``glb_viewer.html``) and three.js (``node_modules``, from ``make setup``) are served
from this folder through playwright's request routing: no server, no network. Tests use
:func:`open_glb` to read back the vertices three.js poses.
"""

from __future__ import annotations

import mimetypes
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORIGIN = "http://semantify.invalid"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
        "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def open_glb(browser, glb: Path, size: int = 640):
    """A playwright page of ``browser`` showing ``glb``, its model loaded and drawn."""
    page = browser.new_page(viewport={"width": size, "height": size})

    def serve(route):
        path = route.request.url[len(ORIGIN) + 1:].split("?", 1)[0]
        file = Path(glb) if path == "model.glb" else (HERE / path).resolve()
        if file != Path(glb) and HERE not in file.parents:
            return route.fulfill(status=404)
        kind = "model/gltf-binary" if file.suffix == ".glb" else mimetypes.guess_type(file)[0]
        route.fulfill(status=200, body=file.read_bytes(),
                      content_type=kind or "application/octet-stream")

    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/glb_viewer.html?glb={ORIGIN}/model.glb&size={size}")
    page.wait_for_function("window.viewer && (window.viewer.ready || window.viewer.error)",
                           timeout=60_000)
    error = page.evaluate("window.viewer.error")
    if error:
        raise RuntimeError(f"three.js could not show {glb}: {error}")
    return page


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = open_glb(browser, Path(argv[0]))
        page.locator("canvas").screenshot(path=argv[1])
        browser.close()
    print(f"wrote {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
