"""The browser check of the workbook's site: every page opened in headless Chromium.

Usage: check.py OUT [--screenshots DIR]
  OUT is scripts/site.sh's build folder (build-site): OUT/site is the site, OUT/fixtures the
  negative controls (site/fixtures/, built by build.py --fixtures).

A page fails on
  javascript  an error in the console (an uncaught exception, a console.error);
  mermaid     a Mermaid block that did not render to a visible SVG;
  formula     a formula KaTeX did not render, or TeX left in the text ($$, \\( \\));
  image       an <img> that did not load;
  link        a link to this site that leads nowhere: the target does not exist, is not
              something a browser shows (a page, text, an image), or has no such anchor;
  outside     anything loaded from outside the site (a font, a script, a style sheet);
  timeout     the page's scripts never finished (site.js sets window.siteRendered).
Links to other sites are counted, not followed (CI has no network).

Every page of OUT/site must pass. Every fixture page named fail-<reason>.md must fail for
that reason and no other, and fixture pages not named so must pass; a fixture that fails
otherwise fails the check (a check that cannot fail proves nothing).
Prints one line per failure: page, element, reason; exits 1 if anything is wrong.
"""
import functools
import http.server
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

PAGE_TIMEOUT = 30  # seconds for a page's scripts to finish; a page takes well under 1 s

# Runs in the page once site.js is done; returns what the checks below judge.
REPORT_JS = r"""
const all = (sel, root) => Array.from((root || document).querySelectorAll(sel));
const content = document.querySelector("article") || document.body;
const short = (s) => s.replace(/\s+/g, " ").trim().slice(0, 70);
const report = {};
report.mermaid = all(".diagram-mermaid").map((el) => {
  const svg = el.querySelector(":scope > svg");
  const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
  // Mermaid draws some failures instead of throwing: an error picture, or a label it could
  // not parse written as "Unsupported markdown: ...".
  const text = svg ? svg.textContent : "";
  const drawnError = (text.match(/Unsupported markdown: (list|heading|code|table|\w+)|Syntax error in text/) || [""])[0];
  return { state: el.dataset.rendered || "never rendered", error: el.dataset.error || "", drawnError,
           width: box.width, height: box.height,
           nodes: svg ? svg.querySelectorAll("g.node").length : 0 };
});
report.formulas = all(".arithmatex").map((el) => {
  return { rendered: !!el.querySelector(".katex"), error: el.dataset.error || "",
           tex: short(el.textContent) };
});
// TeX that no renderer touched: text outside code and outside rendered formulas.
report.leftover = [];
const walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (n.parentElement.closest("pre, code, script, style, .arithmatex, .katex, .diagram-mermaid")) continue;
  const m = n.textContent.match(/\$\$|\\\(|\\\[/);
  if (m) report.leftover.push(short(n.textContent));
}
report.images = all("img").map((img) => ({ src: img.getAttribute("src"), alt: img.alt,
  loaded: img.complete && img.naturalWidth > 0 }));
report.links = all("a[href]").map((a) => ({ href: a.href, raw: a.getAttribute("href"),
  text: short(a.textContent) || a.title || "(no text)",
  inContent: content.contains(a) && !a.classList.contains("headerlink") }));
report.loaded = performance.getEntriesByType("resource").map((e) => e.name)
  .concat(all("script[src], link[href][rel~=stylesheet], link[href][rel~=preconnect], img[src], iframe[src]")
    .map((e) => e.src || e.href));
return report;
"""


class Failure:
    def __init__(self, page, reason, element, detail):
        self.page, self.reason, self.element, self.detail = page, reason, element, detail

    def __str__(self):
        detail = self.detail if len(self.detail) <= 200 else self.detail[:197] + "..."
        return f"{self.page}: {self.reason}: {self.element}: {detail}"


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k == "id" or (tag == "a" and k == "name"):
                self.ids.add(v)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(root):
    handler = functools.partial(_Quiet, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--hide-scrollbars", "--lang=en-GB",
                # Nothing from outside: a request off 127.0.0.1 fails at once instead of hanging.
                "--proxy-server=http://0.0.0.0:9", "--proxy-bypass-list=127.0.0.1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


class Checker:
    def __init__(self, driver, base):
        self.driver, self.base = driver, base
        self.origin = base.rstrip("/")
        self.targets = {}  # url without fragment -> (ok, why, ids)
        self.counts = dict(pages=0, mermaid=0, formulas=0, images=0, links=0, content_links=0,
                           anchors=0, content_anchors=0, external=0)
        self.targets_checked = set()

    def page(self, rel):
        """Opens one page; returns its failures."""
        fails = []
        url = self.base + rel
        self.driver.get_log("browser")  # drop what an earlier page left
        self.driver.get(url)
        try:
            WebDriverWait(self.driver, PAGE_TIMEOUT).until(
                lambda d: d.execute_script("return window.siteRendered === true"))
        except TimeoutException:
            fails.append(Failure(rel, "timeout", "page", f"site.js did not finish in {PAGE_TIMEOUT} s"))
        r = self.driver.execute_script(REPORT_JS)
        self.counts["pages"] += 1

        for entry in self.driver.get_log("browser"):
            # A resource that failed to load is reported by the image, link or outside checks.
            if entry["level"] == "SEVERE" and entry.get("source") != "network":
                fails.append(Failure(rel, "javascript", "console", entry["message"][:300]))

        for i, d in enumerate(r["mermaid"], 1):
            self.counts["mermaid"] += 1
            if d["state"] != "ok":
                fails.append(Failure(rel, "mermaid", f"Mermaid diagram {i}",
                                     f"{d['state']}: {d['error'] or 'no SVG'}"))
            elif d["drawnError"]:
                fails.append(Failure(rel, "mermaid", f"Mermaid diagram {i}",
                                     f"drew an error instead of a label: \"{d['drawnError']}\""))
            elif d["width"] < 10 or d["height"] < 10 or d["nodes"] == 0:
                fails.append(Failure(rel, "mermaid", f"Mermaid diagram {i}",
                                     f"SVG is empty ({d['width']:.0f}x{d['height']:.0f} px, {d['nodes']} nodes)"))
        for i, f in enumerate(r["formulas"], 1):
            self.counts["formulas"] += 1
            if not f["rendered"] or f["error"]:
                fails.append(Failure(rel, "formula", f"formula {i} ({f['tex']})",
                                     f["error"] or "not rendered by KaTeX"))
        for text in r["leftover"]:
            fails.append(Failure(rel, "formula", f"text \"{text}\"", "TeX left unrendered"))
        for img in r["images"]:
            self.counts["images"] += 1
            if not img["loaded"]:
                fails.append(Failure(rel, "image", f"<img src=\"{img['src']}\" alt=\"{img['alt']}\">",
                                     "did not load"))
        for src in set(r["loaded"]):
            if src and not src.startswith((self.origin + "/", "data:", "blob:")):
                fails.append(Failure(rel, "outside", src, "loaded from outside the site"))

        for link in r["links"]:
            href = link["href"]
            if not href.startswith(self.origin + "/"):
                if link["inContent"]:
                    self.counts["external"] += 1
                continue
            self.counts["links"] += 1
            self.counts["content_links"] += link["inContent"]
            target, _, fragment = href.partition("#")
            ok, why, ids = self.target(target)
            element = f"link \"{link['text']}\" -> {link['raw']}"
            if not ok:
                fails.append(Failure(rel, "link", element, why))
            elif fragment:
                self.counts["anchors"] += 1
                self.counts["content_anchors"] += link["inContent"]
                anchor = urllib.parse.unquote(fragment)
                if ids is None:
                    fails.append(Failure(rel, "link", element, "anchor on something that is not a page"))
                elif anchor not in ids:
                    fails.append(Failure(rel, "link", element, f"no element with id \"{anchor}\" there"))
        return fails

    def target(self, url):
        if url not in self.targets:
            try:
                with urllib.request.urlopen(url, timeout=10) as resp:
                    kind = resp.headers.get_content_type()
                    body = resp.read()
                if kind == "text/html":
                    parser = _Ids()
                    parser.feed(body.decode("utf-8", "replace"))
                    self.targets[url] = (True, "", parser.ids)
                elif kind.startswith(("text/", "image/")):
                    self.targets[url] = (True, "", None)
                else:
                    self.targets[url] = (False, f"leads to a {kind} file a browser downloads, not shows", None)
            except urllib.error.HTTPError as e:
                self.targets[url] = (False, f"leads nowhere (HTTP {e.code})", None)
        return self.targets[url]


def pages_of(folder):
    out = []
    for d, _, files in os.walk(folder):
        for f in files:
            if f.endswith(".html") and f != "404.html":
                out.append(os.path.relpath(os.path.join(d, f), folder).replace(os.sep, "/"))
    return sorted(out)


def screenshots(driver, base, folder):
    os.makedirs(folder, exist_ok=True)
    driver.set_window_size(1280, 1000)
    driver.get(base + "site/labs/00-block-by-hand/index.html")
    WebDriverWait(driver, PAGE_TIMEOUT).until(lambda d: d.execute_script("return window.siteRendered === true"))
    driver.save_screenshot(os.path.join(folder, "lab00-top.png"))
    driver.execute_script("const d = document.querySelector('details.lab-output'); d.open = true;"
                          "d.scrollIntoView();")
    time.sleep(0.2)
    driver.save_screenshot(os.path.join(folder, "lab00-output.png"))
    driver.set_window_size(1280, 2000)
    driver.get(base + "site/theory/01-transformer-block.html")
    WebDriverWait(driver, PAGE_TIMEOUT).until(lambda d: d.execute_script("return window.siteRendered === true"))
    diagram = driver.find_element("css selector", ".diagram-mermaid")
    # The theme's sticky header would cover the diagram's top in a picture of the diagram alone.
    driver.execute_script("document.querySelector('.md-header').style.visibility = 'hidden';"
                          "arguments[0].scrollIntoView()", diagram)
    diagram.screenshot(os.path.join(folder, "theory01-block.png"))
    driver.set_window_size(1280, 1000)
    print(f"site check: screenshots in {folder}/ (lab00-top, lab00-output, theory01-block)")


def main():
    args = sys.argv[1:]
    shots = None
    if "--screenshots" in args:
        i = args.index("--screenshots")
        shots = args[i + 1]
        del args[i:i + 2]
    if len(args) != 1:
        print("usage: check.py OUT [--screenshots DIR]", file=sys.stderr)
        return 2
    out = os.path.abspath(args[0])
    site, fixtures = os.path.join(out, "site"), os.path.join(out, "fixtures")
    for folder in (site, fixtures):
        if not os.path.isfile(os.path.join(folder, "index.html")):
            print(f"site check: {folder}/index.html is missing: build the site first (scripts/site.sh)",
                  file=sys.stderr)
            return 1

    started = time.monotonic()
    server, base = serve(out)
    try:
        driver = browser()
    except WebDriverException as e:
        print(f"site check: cannot start headless Chromium: {e.msg}", file=sys.stderr)
        return 1
    bad = []
    try:
        check = Checker(driver, base + "site/")
        for rel in pages_of(site):
            bad += check.page(rel)
        counts = dict(check.counts)
        targets = len(check.targets)

        fixture_check = Checker(driver, base + "fixtures/")
        controls = []
        for rel in pages_of(fixtures):
            fails = fixture_check.page(rel)
            m = re.match(r"fail-([a-z]+)\.html$", os.path.basename(rel))
            reasons = {f.reason for f in fails}
            if m and reasons == {m.group(1)}:
                controls.append(f"site check: negative control {rel} fails, for its reason only: {fails[0]}")
            elif m:
                bad.append(Failure(f"fixtures/{rel}", "negative control", "page",
                                   f"should fail for \"{m.group(1)}\" only, failed for {sorted(reasons) or 'nothing'}"))
                bad += fails
            elif fails:
                bad.append(Failure(f"fixtures/{rel}", "negative control", "page", "should pass, failed"))
                bad += fails
        if shots and not bad:
            screenshots(driver, base, shots)
    finally:
        driver.quit()
        server.shutdown()

    for line in controls:
        print(line)
    if bad:
        for f in bad:
            print(f"site check: FAIL {f}")
        print(f"site check: {len(bad)} failure(s), listed above", file=sys.stderr)
        return 1
    pages = pages_of(site)
    sources = sum(1 for p in pages if re.search(r"\.[A-Za-z0-9]+\.html$", p))
    print(f"site check: {counts['pages']} pages opened in headless Chromium ({counts['pages'] - sources} "
          f"from the markdown, {sources} source files shown as text), all clean:\n"
          f"  {counts['mermaid']} Mermaid diagrams drawn as SVG, {counts['formulas']} formulas rendered "
          f"by KaTeX, {counts['images']} images loaded;\n"
          f"  {counts['links']} links into the site followed, {counts['anchors']} of them to an anchor "
          f"({counts['content_links']} written in the pages' text, {counts['content_anchors']} of those to an "
          f"anchor; the rest the theme's navigation; "
          f"{targets} distinct targets);\n"
          f"  {counts['external']} link(s) to other sites counted, not followed; no console error; "
          f"nothing loaded from outside the site.\n"
          f"site check: {len(controls)} negative controls failed, each for its own reason "
          f"({time.monotonic() - started:.0f} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
