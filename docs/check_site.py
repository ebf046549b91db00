#!/usr/bin/env python3
"""check_site.py: the docs site test (ctest `docs.site`, label docs).

Checks the generated Doxygen site the way a reader meets it:
  1. every HTML page parses and has a <title>;
  2. every internal href/src/data target exists (no broken link, no missing image), and every
     #fragment that points into one of our pages names an id/name present in that page;
  3. every page a writer wrote (the main page, each walkthrough chapter, format, architecture,
     API stages, results) exists, carries the site's stylesheet and embeds the figures it is
     supposed to;
  4. navigation: every page written under --docs-src (docs/*.md, docs/results/*.md) is reachable
     in the sidebar tree (navtreedata.js and the files it loads) and listed under "Related
     Pages"; the guide's pages stand in reading order; the walkthrough's children are its
     chapters step01..stepNN in order; every chapter's Previous / Next links lead to its
     neighbours in that order (the first back to the walkthrough, the last on to the page after
     the walkthrough in the tree);
  5. headless Chromium loads the main pages: the DOM dump is non-empty and carries the expected
     title; a screenshot of each is saved to --screenshots for a human to look at; and every text
     of every figure, measured in the browser with its real font, lies inside the figure's canvas.
Exit 0 = all good; 1 = a problem (each printed); 77 = Chromium missing (1-4 passed, 5 skipped).
"""
import argparse
import html
import html.parser
import json
import os
import re
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
    ("step10.html", "model speaks", []),
    ("format.html", "format", ["tile_hierarchy.svg", "lane_map.svg", "histogram_use-lite-en.svg"]),
    ("architecture.html", "Architecture", []),
    ("api_stages.html", "API", []),
    ("tensor_core_arithmetic.html", "Tensor-core arithmetic", ["tensor_core_alignment.svg"]),
    ("results.html", "results", []),
    ("modules.html", "Modules", []),  # Doxygen 1.9's list of the \defgroup stages
]
SCREENSHOTS = ["index.html", "step04.html", "step06.html", "format.html", "architecture.html", "pages.html"]
# The guide's pages in reading order: they must stand in the tree's top level in this order.
READING_ORDER = ["index.html", "format.html", "walkthrough.html", "architecture.html", "simulator.html",
                 "tensor_core_arithmetic.html", "results.html", "api_stages.html"]
STYLESHEET = "zipserv.css"


class PageParser(html.parser.HTMLParser):
    """Collects the link targets, anchors and title of one page, and for each <a href> the CSS
    classes of the <div>/<span> elements around it (Doxygen closes those reliably)."""

    def __init__(self):
        super().__init__()
        self.links, self.anchors, self.title, self._in_title = [], set(), "", False
        self.classed_links = []  # (href, set of classes of the enclosing div/span elements)
        self._boxes = []         # classes of the open div/span elements

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.anchors.add(a[key])
        for key in ("href", "src", "data"):
            if a.get(key) and not (tag == "a" and key == "data"):
                self.links.append((tag, key, a[key]))
        if tag in ("div", "span"):
            self._boxes.append(set((a.get("class") or "").split()))
        if tag == "a" and a.get("href"):
            self.classed_links.append((a["href"], set().union(*self._boxes) if self._boxes else set()))
        self._in_title = tag == "title"

    def handle_startendtag(self, tag, attrs):
        if tag in ("div", "span"):  # <div/>: opens and closes at once
            return
        self.handle_starttag(tag, attrs)
        self._in_title = False

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag in ("div", "span") and self._boxes:
            self._boxes.pop()

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
        return [f"{root}/index.html missing: was the docs target built?"], {}
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
        if STYLESHEET not in embedded:
            problems.append(f"{name}: does not load the site's stylesheet {STYLESHEET}")
    print(f"checked {len(pages)} pages, {links} internal links/images: {len(problems)} problems")
    return problems, pages


def written_pages(docs_src):
    """The HTML file of every page written under docs_src: its {#label} where the title line has
    one, else Doxygen's name for a Markdown file (md_ + its path from the repository root)."""
    repo = os.path.dirname(os.path.abspath(docs_src))
    found = {}
    for sub in ("", "results"):
        folder = os.path.join(docs_src, sub)
        for f in sorted(os.listdir(folder)):
            if not f.endswith(".md"):
                continue
            path = os.path.join(folder, f)
            with open(path, encoding="utf-8") as fh:
                first = fh.readline()
            m = re.search(r"\{#([A-Za-z0-9_]+)\}", first)
            if f == "index.md" and not sub:
                name = "index"
            elif m:
                name = m.group(1)
            else:
                name = "md_" + re.sub(r"[/.]", "_", os.path.relpath(path, repo)[:-3])
            found[os.path.relpath(path, docs_src)] = name + ".html"
    return found


def load_tree(root):
    """The sidebar tree: a list of (title, href, children) from navtreedata.js and the per-node
    .js files it names; children is a list of the same."""
    def load(js_file, var):
        with open(os.path.join(root, js_file), encoding="utf-8") as fh:
            text = fh.read()
        m = re.search(r"var " + re.escape(var) + r"\s*=\s*(\[.*?\]);\s*(?:var |$)", text, re.S)
        if not m:
            raise ValueError(f"{js_file}: no array {var}")
        return json.loads(m.group(1))

    def build(nodes):
        out = []
        for node in nodes:
            title, href, children = node[0], node[1], node[2]
            if isinstance(children, str):
                children = load(children + ".js", children)
            out.append((title, href or "", build(children) if children else []))
        return out

    return build(load("navtreedata.js", "NAVTREE"))


def page_of(href):
    return urllib.parse.urlsplit(href).path


def check_navigation(root, pages, docs_src):
    """Step 4; returns the list of problems."""
    problems = []
    try:
        tree = load_tree(root)
    except (OSError, ValueError) as e:
        return [f"navigation tree unreadable: {e}"]
    in_tree = set()

    def walk(nodes):
        for _, href, children in nodes:
            in_tree.add(page_of(href))
            walk(children)
    walk(tree)
    expected = written_pages(docs_src)
    for src, html_name in expected.items():
        if html_name not in pages:
            problems.append(f"docs/{src}: no page {html_name} in the site")
        elif html_name not in in_tree:
            problems.append(f"docs/{src}: page {html_name} is not reachable from the navigation tree")

    related = {page_of(h) for h, classes in pages.get("pages.html", PageParser()).classed_links
               if "directory" in classes}
    if not related:
        problems.append("pages.html ('Related Pages') lists no page")
    for src, html_name in expected.items():
        if html_name != "index.html" and related and html_name not in related:
            problems.append(f"docs/{src}: page {html_name} is not listed in 'Related Pages' (pages.html)")

    # The top level of the tree (under the project's root node) holds the guide in reading order.
    top = tree[0][2] if len(tree) == 1 else tree
    top_pages = [page_of(href) for _, href, _ in top]
    positions = []
    for name in READING_ORDER:
        if name not in top_pages:
            problems.append(f"navigation tree: {name} is not at the top level of the tree")
        else:
            positions.append((top_pages.index(name), name))
    if [n for _, n in sorted(positions)] != [n for _, n in positions]:
        problems.append(f"navigation tree: top-level order {[n for _, n in sorted(positions)]}, "
                        f"expected {READING_ORDER}")

    # The walkthrough's chapters: its children, in order, every docs/stepNN.md.
    chapters_src = sorted(n for n in expected if re.fullmatch(r"step\d\d\.md", n))
    want = [expected[n] for n in chapters_src]
    walk_node = next((n for n in top if page_of(n[1]) == "walkthrough.html"), None)
    # (Other pages may sit under the walkthrough too, e.g. experiments; only chapters are compared.)
    got = [page_of(h) for _, h, _ in walk_node[2] if re.fullmatch(r"step\d\d\.html", h)] if walk_node else []
    if got != want:
        problems.append(f"navigation tree: the walkthrough's chapters are {got}, expected {want}")
    results_node = next((n for n in top if page_of(n[1]) == "results.html"), None)
    results_children = {page_of(h) for _, h, _ in results_node[2]} if results_node else set()
    for src, html_name in expected.items():
        if src.startswith("results" + os.sep) and html_name not in results_children:
            problems.append(f"navigation tree: docs/{src} ({html_name}) is not under 'Measured results'")

    # Previous / Next of every chapter, against the order of the tree.
    after = top_pages[top_pages.index("walkthrough.html") + 1] if "walkthrough.html" in top_pages[:-1] else None
    for i, chapter in enumerate(want):
        if chapter not in pages:
            continue
        prev = want[i - 1] if i > 0 else "walkthrough.html"
        nxt = want[i + 1] if i + 1 < len(want) else after
        for kind, target in (("prev", prev), ("next", nxt)):
            hrefs = [page_of(h) for h, classes in pages[chapter].classed_links if f"chapter-nav-{kind}" in classes]
            label = "Previous" if kind == "prev" else "Next"
            if not hrefs:
                problems.append(f"{chapter}: no {label} link (class chapter-nav-{kind})")
            elif any(h != target for h in hrefs):
                problems.append(f"{chapter}: {label} leads to {sorted(set(hrefs))}, expected {target}")
    print(f"navigation: {len(in_tree)} tree entries, {len(expected)} written pages, {len(want)} chapters, "
          f"{len(related)} related pages")
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
        problems += check_figures_in_chromium(root, flags, profile)
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


# Run in the browser on a page holding one figure inline: every <text> whose rendered box leaves
# the figure's viewBox (by more than half a pixel) is reported in the body's data-clipped.
MEASURE_SCRIPT = """
<script>
var svg = document.querySelector('svg'), vb = svg.viewBox.baseVal, out = [];
svg.querySelectorAll('text').forEach(function (t) {
  var b = t.getBBox();
  if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 ||
      b.y + b.height > vb.y + vb.height + 0.5)
    out.push(t.textContent + ' [' + Math.round(b.x) + '..' + Math.round(b.x + b.width) + ' x ' +
             Math.round(b.y) + '..' + Math.round(b.y + b.height) + ']');
});
document.body.setAttribute('data-clipped', JSON.stringify(out));
document.body.setAttribute('data-texts', String(svg.querySelectorAll('text').length));
</script>
"""


def check_figures_in_chromium(root, flags, workdir):
    """No figure clips its own text: each figure's texts, measured with the browser's real fonts,
    lie inside its canvas. Returns the list of problems."""
    problems = []
    figures = sorted({f for _, _, figs in MAIN_PAGES for f in figs})
    for fig in figures:
        with open(os.path.join(root, fig), encoding="utf-8") as fh:
            svg = fh.read()
        page = os.path.join(workdir, "measure_" + fig + ".html")
        with open(page, "w", encoding="utf-8") as fh:
            fh.write("<!DOCTYPE html><html><head><title>measure</title></head><body>" + svg + MEASURE_SCRIPT +
                     "</body></html>")
        r = subprocess.run(flags + ["--dump-dom", "file://" + page], capture_output=True, text=True, timeout=120)
        m = re.search(r"data-clipped=\"([^\"]*)\"", r.stdout)
        texts = re.search(r"data-texts=\"(\d+)\"", r.stdout)
        if not m or not texts:
            problems.append(f"chromium: could not measure the texts of {fig} (exit {r.returncode})")
            continue
        clipped = json.loads(html.unescape(m.group(1)))
        for c in clipped:
            problems.append(f"{fig}: text outside the figure's canvas: {c}")
        print(f"chromium: {fig}: {texts.group(1)} texts measured, {len(clipped)} outside the canvas")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--html", required=True, help="the generated html folder")
    ap.add_argument("--screenshots", required=True, help="where to save screenshots")
    ap.add_argument("--docs-src", required=True, help="the docs/ source folder (its pages must all be in the tree)")
    ap.add_argument("--chromium", default="", help="Chromium binary (empty: skip step 5)")
    args = ap.parse_args()
    problems, pages = check_files(args.html)
    if pages:
        problems += check_navigation(args.html, pages, args.docs_src)
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
