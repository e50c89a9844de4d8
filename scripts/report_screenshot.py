#!/usr/bin/env python3
"""Open a Snakemake HTML report in headless Chromium, click through to a figure as a user
would, and save screenshots: proof that the report opens and shows its images.

Talks the Chrome DevTools protocol over a pipe (--remote-debugging-pipe), so it needs
nothing but the Python standard library and a `chromium` (Debian: apt-get install chromium).

  python scripts/report_screenshot.py results/report.html -o results/screenshots
  -> report_home.png, report_objects.png, report_summary.png; prints what each shows.

Exit status 0 only if the report rendered and every opened figure is a loaded image.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--hide-scrollbars", "--remote-debugging-pipe",
]  # fmt: skip

# Runs in the report page: open a category (and its first subcategory) from the menu, then
# click the first row's eye icon, and describe the image that is then shown.
OPEN_FIGURE_JS = r"""
(async (category) => {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const clickText = (text) => {
    const hits = [...document.querySelectorAll("#app *")].filter(
      (el) => el.children.length === 0 && el.textContent.trim() === text);
    if (!hits.length) throw new Error(`no element with text '${text}'`);
    hits[0].click();
  };
  app.setView({navbarMode: "menu"});  // what the navbar's home button does
  await sleep(300);
  clickText(category);
  await sleep(400);
  const subcategories = Object.keys(categories[category]).sort((a, b) => a.localeCompare(b));
  if (subcategories.length > 1) { clickText(subcategories[0]); await sleep(400); }
  const buttons = [...document.querySelectorAll("table tbody a[type=button]")];
  if (!buttons.length) throw new Error(`no result buttons in category '${category}'`);
  buttons[0].click();
  await sleep(800);
  const img = document.querySelector("img[src^='data:image/png']");  // the figure, not the SVG logo
  const frame = document.querySelector("iframe[src^='data:']");
  return JSON.stringify({
    category, subcategory: subcategories[0], results: buttons.length,
    image: img ? {width: img.naturalWidth, height: img.naturalHeight, complete: img.complete} : null,
    html: frame ? frame.src.slice(0, 30) : null,
  });
})
"""


class DevTools:
    """Minimal Chrome DevTools protocol client over --remote-debugging-pipe (fds 3 and 4)."""

    def __init__(self, chromium: str, width: int, height: int):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        self._profile = tempfile.mkdtemp(prefix="report-screenshot-")

        def child_fds():
            # Chromium reads commands on fd 3 and writes replies on fd 4. Park both ends
            # above 10 first so the two dup2 calls cannot clobber each other.
            r, w = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)  # dup2 clears close-on-exec: these two survive the exec
            os.dup2(w, 4)

        # close_fds=False: subprocess would otherwise close 3 and 4 after preexec_fn; every
        # other descriptor of ours is close-on-exec already (PEP 446).
        self.proc = subprocess.Popen(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}", f"--window-size={width},{height}"],
            preexec_fn=child_fds, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.session = None
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        self.call("Page.enable")

    def call(self, method: str, timeout: float = 60.0, **params) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        reply = self._wait(lambda m: m.get("id") == self._next_id, timeout)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def wait_event(self, method: str, timeout: float = 60.0) -> dict:
        return self._wait(lambda m: m.get("method") == method, timeout)

    def _wait(self, match, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if match(message):
                    return message
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium exited")
            self._buffer += chunk

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.call("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self._profile, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="the report (snakemake --report results/report.html)")
    parser.add_argument("-o", "--outdir", default="results/screenshots", help="folder for the PNGs")
    parser.add_argument("--categories", nargs="+", default=["Objects", "Summary"], help="categories to open")
    parser.add_argument("--size", default="1600x1000", help="window size WIDTHxHEIGHT")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
    args = parser.parse_args(argv)

    report = Path(args.report).resolve()
    if not report.is_file():
        print(f"report_screenshot: {args.report}: not found (run: snakemake --report {args.report})", file=sys.stderr)
        return 1
    if not shutil.which(args.chromium):
        print("report_screenshot: chromium not found (Debian/Ubuntu: apt-get install -y chromium)", file=sys.stderr)
        return 1
    outdir = Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    width, height = (int(v) for v in args.size.lower().split("x"))

    browser = DevTools(args.chromium, width, height)
    ok = True
    try:
        browser.call("Page.navigate", url=report.as_uri())
        browser.wait_event("Page.loadEventFired")
        time.sleep(1.0)  # React renders after the load event
        title = browser.call("Runtime.evaluate", expression="document.title")["result"].get("value")
        browser.screenshot(outdir / "report_home.png")
        print(f"{outdir / 'report_home.png'}: landing page ({title})")
        for category in args.categories:
            result = browser.call(
                "Runtime.evaluate", expression=f"{OPEN_FIGURE_JS}({json.dumps(category)})", awaitPromise=True, returnByValue=True
            )
            if "exceptionDetails" in result:
                print(f"report_screenshot: {category}: {result['exceptionDetails'].get('exception', {}).get('description', 'error')}", file=sys.stderr)
                ok = False
                continue
            shown = json.loads(result["result"]["value"])
            path = outdir / f"report_{category.lower()}.png"
            browser.screenshot(path)
            image = shown["image"]
            if image and image["complete"] and image["width"] > 0:
                what = f"image {image['width']}x{image['height']}"
            elif shown["html"]:
                what = "HTML page"
            else:
                what, ok = "NOTHING (no image loaded)", False
            print(f"{path}: {category} / {shown['subcategory']} ({shown['results']} results), first one shows {what}")
    finally:
        browser.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
