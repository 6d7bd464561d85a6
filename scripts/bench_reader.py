"""Reader-side benchmark: what a visitor's browser downloads and how Lighthouse scores it.

Method
  serve_gzip      The built site is served from a threaded loopback server (127.0.0.1, a free
                  port) that behaves like GitHub Pages in the ways that change the numbers: text
                  types are gzip-encoded when the client asks for it, every response carries
                  `Cache-Control: max-age=600` plus an ETag and Last-Modified (a matching
                  If-None-Match gets a 304), directories serve index.html (and `/dir` redirects to
                  `/dir/`), unknown paths get 404.html with status 404. gzip runs at level 6 with
                  a fixed mtime, so the bytes, and hence the byte counts, are deterministic. Real
                  Pages sits behind a CDN speaking HTTP/2; that changes latency, not bytes.
  lighthouse      The pinned Lighthouse in bench/lighthouse (npm ci there) runs with its DEFAULT
                  config, which is the mobile preset (Moto G Power-sized viewport, 4x CPU
                  slowdown) with *simulated* throttling (slow 4G, 150 ms RTT, 1.6 Mbit/s): the
                  page loads unthrottled over loopback and Lighthouse models the slow network.
                  Byte and request counts are exact and repeat; the performance score moves a few
                  points with machine load, because TBT and LCP are simulated from observed CPU
                  time (compare medians of several runs). Lighthouse 13 declares node >= 22.19 but
                  runs on node 20 here. Chromium is the system one (CHROME_PATH); nothing is
                  downloaded. Chromium still tries DNS look-ups of Google
                  service hosts despite --disable-background-networking, so both browsers also get
                  --host-resolver-rules mapping every host but 127.0.0.1 to NOTFOUND: nothing
                  leaves loopback. Bytes are the `total-byte-weight` audit
                  (transfer size, i.e. after gzip); requests and third-party requests come from
                  the `network-requests` audit (data: URLs are not requests and are not counted).
  next_page_bytes The site uses mkdocs-material without navigation.instant, so following a link is
                  a full page load whose CSS, JS and search index should come from the HTTP
                  cache. Playwright loads the first page, waits for network idle, clicks a visible
                  link to the next page (or navigates to it if there is none) and waits again.
                  Bytes are the sum of CDP Network.loadingFinished encodedDataLength (headers +
                  encoded body) over requests that were not served from cache; the first load is
                  measured the same way as a cross-check of Lighthouse's figure. Requests made
                  inside web workers are not visible to the page's CDP session.

Run: `python -m scripts.bench_reader [SITE_DIR]` (default: site/). Missing chromium, node or the
installed Lighthouse raises ReaderUnavailable(reason) so a caller can print "not measured".
"""
from __future__ import annotations

import email.utils
import gzip
import hashlib
import importlib.util
import json
import mimetypes
import os
import shutil
import subprocess
import sys
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Even with the flags above Chromium looks up accounts.google.com, update.googleapis.com,
# clients2.google.com and content-autofill.googleapis.com; this keeps those DNS queries on the box.
NO_DNS = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
           "cumulative-layout-shift", "speed-index")
GZIP_TYPES = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".csv", ".md"}
TYPES = {".md": "text/markdown", ".js": "text/javascript", ".json": "application/json",
         ".csv": "text/csv", ".svg": "image/svg+xml", ".webmanifest": "application/manifest+json"}


class ReaderUnavailable(RuntimeError):
    """A tool the reader benchmark needs is not installed; str(exc) is the reason."""


# --- serving ---------------------------------------------------------------------------------

@lru_cache(maxsize=512)
def _load(path: Path, mtime_ns: int, want_gzip: bool) -> tuple[bytes, str]:
    raw = path.read_bytes()
    etag = hashlib.sha1(raw).hexdigest()[:16]
    if want_gzip:
        return gzip.compress(raw, compresslevel=6, mtime=0), f'W/"{etag}-gz"'
    return raw, f'"{etag}"'


def _handler(root: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def do_HEAD(self) -> None:
            self.do_GET(body=False)

        def do_GET(self, body: bool = True) -> None:
            url_path = unquote(urlsplit(self.path).path)
            target = (root / url_path.lstrip("/")).resolve()
            status = 200
            if not target.is_relative_to(root):
                target = root / "__outside__"
            if target.is_dir():
                if not url_path.endswith("/"):
                    self.send_response(301)
                    self.send_header("Location", url_path + "/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                target = target / "index.html"
            if not target.is_file():
                status, target = 404, root / "404.html"
                if not target.is_file():
                    self.send_error(404)
                    return
            ext = target.suffix.lower()
            want_gzip = ext in GZIP_TYPES and "gzip" in self.headers.get("Accept-Encoding", "")
            stat = target.stat()
            data, etag = _load(target, stat.st_mtime_ns, want_gzip)
            if status == 200 and self.headers.get("If-None-Match") == etag:
                status, data = 304, b""
            ctype = TYPES.get(ext) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            if ctype.startswith("text/") or ctype.endswith(("json", "xml", "javascript")):
                ctype += "; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Cache-Control", "max-age=600")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
            self.send_header("Vary", "Accept-Encoding")
            if want_gzip:
                self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body and data:
                self.wfile.write(data)

    return Handler


def serve_gzip(site_dir: str | Path):
    """Serve site_dir on 127.0.0.1 like GitHub Pages; return (base_url, stop_fn)."""
    root = Path(site_dir).resolve()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(root))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join()

    return f"http://127.0.0.1:{server.server_address[1]}", stop


# --- tools -----------------------------------------------------------------------------------

def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    raise ReaderUnavailable("chromium not found on PATH (apt-get install chromium)")


def _lighthouse_cli(node_dir: str | Path) -> list[str]:
    node = shutil.which("node")
    if not node:
        raise ReaderUnavailable("node not found on PATH")
    cli = Path(node_dir) / "node_modules" / "lighthouse" / "cli" / "index.js"
    if not cli.is_file():
        raise ReaderUnavailable(f"Lighthouse not installed ({cli} missing; run `npm ci` in {node_dir})")
    return [node, str(cli)]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def lighthouse(url: str, node_dir: str | Path) -> dict:
    """Run Lighthouse (default config: mobile, simulated throttling) on url; summarise the report."""
    cmd = [*_lighthouse_cli(node_dir), url, "--output=json", "--output-path=stdout", "--quiet",
           f"--chrome-flags={' '.join(CHROME_FLAGS)} --host-resolver-rules=\"{NO_DNS}\""]
    env = {**os.environ, "CHROME_PATH": _chromium()}
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired as exc:
        tail = (exc.stderr or b"")[-2000:].decode(errors="replace")
        raise RuntimeError(f"Lighthouse timed out after 300 s on {url}\n--- stderr tail ---\n{tail}") from None
    try:
        lhr = json.loads(proc.stdout) if proc.returncode == 0 else None
    except json.JSONDecodeError:
        lhr = None
    if lhr is None or lhr.get("runtimeError"):
        why = (lhr or {}).get("runtimeError", {}).get("message", f"exit code {proc.returncode}")
        raise RuntimeError(f"Lighthouse failed on {url}: {why}\n--- stderr tail ---\n{proc.stderr[-2000:]}")
    audits = lhr["audits"]
    items = audits["network-requests"]["details"]["items"]
    urls = [i["url"] for i in items if not i["url"].startswith("data:")]
    failing = []
    for cat in CATEGORIES:
        for ref in lhr["categories"][cat]["auditRefs"]:
            audit = audits[ref["id"]]
            if audit["score"] is not None and audit["score"] < 1 and audit["scoreDisplayMode"] not in (
                    "informative", "notApplicable", "manual", "error"):
                failing.append({"category": cat, "id": ref["id"], "title": audit["title"],
                                "score": audit["score"], "display": audit.get("displayValue", ""),
                                "weight": ref["weight"]})
    failing.sort(key=lambda f: (f["category"], -f["weight"], f["score"]))
    return {
        "scores": {c: float(lhr["categories"][c]["score"]) for c in CATEGORIES},
        "first_load_bytes": int(audits["total-byte-weight"]["numericValue"]),
        "requests": len(urls),
        "third_party_requests": sum(_origin(u) != _origin(url) for u in urls),
        "third_party_urls": sorted({u for u in urls if _origin(u) != _origin(url)}),
        "metrics": {m: audits[m]["numericValue"] for m in METRICS},
        "failed_audits": failing,
        "warnings": lhr.get("runWarnings", []),
    }


def next_page_bytes(base_url: str, first_path: str, next_path: str) -> dict:
    """Bytes over the network for first_path, then for following a link to next_path."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise ReaderUnavailable(f"playwright (python) not installed: {exc}") from None
    chromium = _chromium()
    phase = {"now": "first"}
    started: dict[str, str] = {}
    cached: set[str] = set()
    urls: dict[str, str] = {}
    done: list[tuple[str, float]] = []

    def sent(ev: dict) -> None:
        if not ev["request"]["url"].startswith("data:"):
            started.setdefault(ev["requestId"], phase["now"])
            urls.setdefault(ev["requestId"], ev["request"]["url"])

    def received(ev: dict) -> None:
        resp = ev["response"]
        if resp.get("fromDiskCache") or resp.get("fromPrefetchCache") or resp.get("fromServiceWorker"):
            cached.add(ev["requestId"])

    with sync_playwright() as pw:
        flags = [*CHROME_FLAGS[1:], f"--host-resolver-rules={NO_DNS}"]  # playwright adds --headless
        browser = pw.chromium.launch(executable_path=chromium, args=flags)
        try:
            page = browser.new_context().new_page()
            cdp = page.context.new_cdp_session(page)
            cdp.on("Network.requestWillBeSent", sent)
            cdp.on("Network.requestServedFromCache", lambda ev: cached.add(ev["requestId"]))
            cdp.on("Network.responseReceived", received)
            cdp.on("Network.loadingFinished", lambda ev: done.append((ev["requestId"], ev["encodedDataLength"])))
            cdp.send("Network.enable")
            page.goto(base_url + first_path, wait_until="networkidle")
            phase["now"] = "next"
            hits = page.locator("a[href]").evaluate_all(
                """(as, want) => as.map((a, i) => [i, new URL(a.href).pathname === want
                    && !new URL(a.href).hash && a.getClientRects().length > 0])
                    .filter(([, ok]) => ok).map(([i]) => i)""", next_path)
            if hits:
                with page.expect_navigation(wait_until="networkidle"):
                    page.locator("a[href]").nth(hits[0]).click()
            else:
                page.goto(base_url + next_path, wait_until="networkidle")
            landed = urlsplit(page.url).path
        finally:
            browser.close()
    fetched = {"first": [], "next": []}
    for rid, size in done:
        if rid in started and rid not in cached:
            fetched[started[rid]].append((urlsplit(urls[rid]).path, int(size)))
    return {"next_page_bytes": sum(n for _, n in fetched["next"]), "next_page_requests": len(fetched["next"]),
            "next_page_fetched": fetched["next"], "via": "click" if hits else "goto", "landed": landed,
            "cdp_first_load_bytes": sum(n for _, n in fetched["first"]),
            "cdp_first_load_requests": len(fetched["first"])}


def run(site_dir: str | Path, node_dir: str | Path, pages: dict[str, str], runs: int = 3) -> list[dict]:
    """Lighthouse on each page plus next-page bytes from home (home itself: home -> next page).

    The performance score moves with machine load (see the module docstring), so Lighthouse runs
    `runs` times per page and the run with the median performance score is reported, with
    every run's score in `performance_runs`; bytes and requests are the same in every run."""
    if "home" not in pages or len(pages) < 2:
        raise ValueError("pages needs a 'home' entry and at least one other page")
    if not (Path(site_dir) / "index.html").is_file():
        raise ReaderUnavailable(f"no built site at {site_dir}")
    _chromium()
    _lighthouse_cli(node_dir)
    if importlib.util.find_spec("playwright") is None:
        raise ReaderUnavailable("playwright (python) not installed")
    for path in pages.values():
        if not (Path(site_dir) / path.lstrip("/") / "index.html").is_file():
            raise ReaderUnavailable(f"{site_dir} has no page {path} (stale build?)")
    home = pages["home"]
    other = next(path for label, path in pages.items() if label != "home")
    base, stop = serve_gzip(site_dir)
    rows = []
    try:
        for label, path in pages.items():
            t = time.perf_counter()
            reports = sorted((lighthouse(base + path, node_dir) for _ in range(runs)), key=lambda r: r["scores"]["performance"])
            lh = {**reports[len(reports) // 2], "performance_runs": [r["scores"]["performance"] for r in reports]}
            nav = next_page_bytes(base, home, other if path == home else path)
            rows.append({"label": label, "path": path, **lh, **nav, "seconds": time.perf_counter() - t})
    finally:
        stop()
    return rows


def main() -> None:
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "site"
    from scripts.bench import READER_PAGES as pages

    t = time.perf_counter()
    try:
        rows = run(site, ROOT / "bench" / "lighthouse", pages)
    except ReaderUnavailable as exc:
        print(f"not measured: {exc}")
        return
    kib = 1024
    head = ("page", "perf", "a11y", "b-p", "seo", "first KiB", "req", "3rd", "next KiB", "next req",
            "home KiB (cdp)")
    print(("{:<8}" + "{:>6}" * 4 + "{:>10}{:>5}{:>5}{:>10}{:>9}{:>16}").format(*head))
    for r in rows:
        s = r["scores"]
        print(("{:<8}" + "{:>6.2f}" * 4 + "{:>10.1f}{:>5}{:>5}{:>10.1f}{:>9}{:>16.1f}").format(
            r["label"], *(s[c] for c in CATEGORIES), r["first_load_bytes"] / kib, r["requests"],
            r["third_party_requests"], r["next_page_bytes"] / kib, r["next_page_requests"],
            r["cdp_first_load_bytes"] / kib))
    for r in rows:
        m = r["metrics"]
        print(f"\n{r['label']} {r['path']}: FCP {m['first-contentful-paint'] / 1000:.1f} s, "
              f"LCP {m['largest-contentful-paint'] / 1000:.1f} s, TBT {m['total-blocking-time']:.0f} ms, "
              f"CLS {m['cumulative-layout-shift']:.3f}, SI {m['speed-index'] / 1000:.1f} s; "
              f"next page via {r['via']} -> {r['landed']}")
        print("  next page fetched: " + ", ".join(f"{u} {n / kib:.1f}" for u, n in r["next_page_fetched"]))
        for f in r["failed_audits"]:
            print(f"  {f['category']} w{f['weight']}: {f['id']} ({f['score']}) {f['title']} {f['display']}")
        for u in r["third_party_urls"]:
            print(f"  third-party: {u}")
        for w in r["warnings"]:
            print(f"  warning: {w}")
    print(f"\n{len(rows)} pages in {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
