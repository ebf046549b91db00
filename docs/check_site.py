#!/usr/bin/env python3
"""check_site.py: the docs site test (ctest `docs.site`, label docs).

Checks the generated Doxygen site the way a reader meets it:
  1. every HTML page parses and has a <title>;
  2. every internal href/src/data target exists (no broken link, no missing image), and every
     #fragment that points into one of our pages names an id/name present in that page;
  3. every page a writer wrote (the main page, each walkthrough chapter, format, architecture,
     API stages, results) exists and embeds the figures it is supposed to;
  4. headless Chromium loads the main pages: the DOM dump is non-empty and carries the expected
     title; a screenshot of each is saved to --screenshots for a human to look at.
Exit 0 = all good; 1 = a problem (each printed); 77 = Chromium missing (1-3 passed, 4 skipped).
"""
import argparse
import html.parser
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

# (file, words its <title> must contain, figures it must embed). Labels are fixed by the
# {#label} of each docs/*.md page, so these file names are stable.
MAIN_PAGES = [
    ("index.html", "zipserv", []),
    ("walkthrough.html", "walkthrough", []),
    ("step01.html", "BF16 anatomy", []),
    ("step02.html", "exponent histogram", ["histogram_stories260K.svg"]),
    ("step03.html", "window", []),
    ("step04.html", "FragTile", ["fragtile_bits.svg"]),
    ("step05.html", "hierarchy", ["tile_hierarchy.svg"]),
    ("step06.html", "warp", ["lane_map.svg"]),
    ("step07.html", "mma", []),
    ("step08.html", "ZipGEMM", []),
    ("step09.html", "CUDA", []),
    ("format.html", "format", ["tile_hierarchy.svg", "lane_map.svg", "histogram_use-lite-en.svg"]),
    ("architecture.html", "Architecture", []),
    ("api_stages.html", "API", []),
    ("tensor_core_arithmetic.html", "Tensor-core arithmetic", ["tensor_core_alignment.svg"]),
    ("results.html", "results", []),
    ("modules.html", "Modules", []),  # Doxygen 1.9's list of the \defgroup stages
]
SCREENSHOTS = ["index.html", "step04.html", "step06.html", "format.html", "architecture.html"]


class PageParser(html.parser.HTMLParser):
    """Collects the link targets, anchors and title of one page."""

    def __init__(self):
        super().__init__()
        self.links, self.anchors, self.title, self._in_title = [], set(), "", False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.anchors.add(a[key])
        for key in ("href", "src", "data"):
            if a.get(key) and not (tag == "a" and key == "data"):
                self.links.append((tag, key, a[key]))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def is_external(url):
    scheme = urllib.parse.urlsplit(url).scheme
    return scheme in ("http", "https", "mailto", "javascript", "data", "ftp")


def check_files(root):
    """Steps 1-3; returns the list of problems."""
    problems, pages = [], {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith(".html"):
                path = os.path.join(dirpath, f)
                p = PageParser()
                with open(path, encoding="utf-8", errors="replace") as fh:
                    p.feed(fh.read())
                pages[os.path.relpath(path, root)] = p
                # search/*.html are fragments Doxygen's search box loads into a frame: no title.
                if not p.title.strip() and not os.path.relpath(path, root).startswith("search"):
                    problems.append(f"{path}: no <title>")
    if "index.html" not in pages:
        return [f"{root}/index.html missing: was the docs target built?"]
    links = 0
    for page, p in pages.items():
        base = os.path.dirname(os.path.join(root, page))
        for tag, key, url in p.links:
            if is_external(url) or url == "#":
                continue
            parts = urllib.parse.urlsplit(url)
            target = os.path.normpath(os.path.join(base, urllib.parse.unquote(parts.path))) if parts.path else \
                os.path.join(root, page)
            links += 1
            if not os.path.exists(target):
                problems.append(f"{page}: <{tag} {key}='{url}'> -> missing {os.path.relpath(target, root)}")
                continue
            rel = os.path.relpath(target, root)
            if parts.fragment and rel in pages and parts.fragment not in pages[rel].anchors:
                problems.append(f"{page}: <{tag} {key}='{url}'> -> no anchor #{parts.fragment} in {rel}")
    for name, words, figures in MAIN_PAGES:
        if name not in pages:
            problems.append(f"page {name} missing")
            continue
        if words.lower() not in pages[name].title.lower():
            problems.append(f"{name}: title '{pages[name].title.strip()}' lacks '{words}'")
        embedded = {os.path.basename(u) for _, _, u in pages[name].links}
        for fig in figures:
            if fig not in embedded:
                problems.append(f"{name}: does not embed {fig}")
    print(f"checked {len(pages)} pages, {links} internal links/images: {len(problems)} problems")
    return problems


def check_in_chromium(root, chromium, shots):
    """Step 4; returns the list of problems."""
    problems = []
    os.makedirs(shots, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="zipserv-docs-chromium-")
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--allow-file-access-from-files", f"--user-data-dir={profile}"]
    try:
        for name, words, _ in MAIN_PAGES:
            url = "file://" + os.path.abspath(os.path.join(root, name))
            r = subprocess.run(flags + ["--dump-dom", url], capture_output=True, text=True, timeout=120)
            dom = r.stdout
            if r.returncode != 0 or len(dom) < 2000:
                problems.append(f"chromium: {name} dumped {len(dom)} bytes (exit {r.returncode}): {r.stderr[-300:]}")
            elif words.lower() not in dom.lower() or "<title>" not in dom:
                problems.append(f"chromium: {name} DOM lacks its title words '{words}'")
            else:
                print(f"chromium: {name}: DOM {len(dom)} bytes, title ok")
        for name in SCREENSHOTS:
            png = os.path.join(shots, name.replace(".html", ".png"))
            url = "file://" + os.path.abspath(os.path.join(root, name))
            r = subprocess.run(flags + [f"--screenshot={png}", "--window-size=1280,900", "--hide-scrollbars", url],
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0 or not os.path.exists(png) or os.path.getsize(png) < 10000:
                problems.append(f"chromium: no usable screenshot of {name} (exit {r.returncode})")
            else:
                print(f"chromium: screenshot {png}")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", required=True, help="the generated html folder")
    ap.add_argument("--screenshots", required=True, help="where to save screenshots")
    ap.add_argument("--chromium", default="", help="Chromium binary (empty: skip step 4)")
    args = ap.parse_args()
    problems = check_files(args.html)
    chromium = args.chromium if args.chromium and not args.chromium.endswith("NOTFOUND") else ""
    if not problems and chromium:
        problems += check_in_chromium(args.html, chromium, args.screenshots)
    for p in problems:
        print("PROBLEM", p)
    if problems:
        return 1
    if not chromium:
        print("Chromium not found (apt-get install chromium): browser checks skipped")
        return 77
    print("site ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
