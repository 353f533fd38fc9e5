"""Builds the workbook's site: stages the repository's markdown into OUT/site-docs, then runs
MkDocs on site/mkdocs.yml with docs_dir OUT/site-docs and site_dir OUT/site.

The markdown in the repository stays the single source; staging only
  - follows links from the pages in the nav: every linked .md file is staged too, every linked
    image is copied, every other linked file (a .cpp, a .tsv, a .cmake) becomes a page that
    shows it as text, and the link is pointed at that page;
  - appends to each lab's page the lab's full output from the current build (build/bin/),
    folded in a <details> block;
  - copies the scripts the site serves itself: KaTeX (Debian's libjs-katex) and Mermaid (npm,
    build-site/npm/, installed by scripts/setup.sh).
Nothing is fetched: the build works offline once scripts/setup.sh has run.

Usage: build.py REPO OUT [--fixtures]   (--fixtures: site/fixtures/ into OUT/fixtures instead)
"""
import html
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KATEX = "/usr/share/javascript/katex"
IMAGE_EXT = {".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp"}
LANG = {".md": "markdown", ".cpp": "cpp", ".hpp": "cpp", ".h": "cpp", ".cc": "cpp", ".cmake": "cmake",
        ".sh": "bash", ".json": "json", ".py": "python", ".yml": "yaml", ".yaml": "yaml"}
# Markdown shown as text, not as a page: tools/handout/README.md becomes a handout's README.md,
# so its links are written for the handout's root and lead nowhere from tools/handout/.
AS_TEXT = {"tools/handout/README.md"}
# [text](target "title") and ![alt](target); not inside fenced code (see _segments).
LINK = re.compile(r'(!?\[(?:[^\]\[]|\[[^\]]*\])*\]\()(<[^>]*>|[^)\s]+)((?:\s+"[^"]*")?\))')
FENCE = re.compile(r"^\s*(`{3,}|~{3,})")


def die(msg):
    print(f"site: {msg}", file=sys.stderr)
    sys.exit(1)


def _segments(text):
    """Splits markdown into (is_code, text) pieces, fenced blocks being code, so an example
    link inside one is left alone. (Inline code is not set apart: a link's text is often code,
    [`src/minimodel/attention.cpp`](...).)"""
    out, buf, fence = [], [], None
    for line in text.splitlines(keepends=True):
        m = FENCE.match(line)
        if fence is None and m:
            out.append((False, "".join(buf)))
            buf, fence = [line], m.group(1)
        elif fence is not None:
            buf.append(line)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip()[len(m.group(1)):]:
                out.append((True, "".join(buf)))
                buf, fence = [], None
        else:
            buf.append(line)
    out.append((fence is not None, "".join(buf)))
    return out


class Stager:
    def __init__(self, repo, docs):
        self.repo, self.docs = repo, docs
        self.queue, self.staged, self.copied, self.sources = [], set(), set(), set()

    def add_page(self, rel):
        if rel not in self.staged:
            self.staged.add(rel)
            self.queue.append(rel)

    def run(self):
        while self.queue:
            rel = self.queue.pop(0)
            src = os.path.join(self.repo, rel)
            if not os.path.isfile(src):
                die(f"{rel} is in the nav but is not a file of the repository")
            with open(src, encoding="utf-8") as f:
                text = f.read()
            text = "".join(seg if code else LINK.sub(lambda m: self._link(rel, m), seg)
                           for code, seg in _segments(text))
            if re.fullmatch(r"labs/\d\d-[^/]+/README\.md", rel):
                text += lab_output(self.repo, rel.split("/")[1])
            self._write(rel, text)

    def _link(self, page, m):
        target = m.group(2).strip("<>")
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith(("#", "/")):
            return m.group(0)
        path, _, anchor = target.partition("#")
        resolved = os.path.normpath(os.path.join(os.path.dirname(page), path))
        full = os.path.join(self.repo, resolved)
        if resolved.startswith("..") or not os.path.exists(full):
            return m.group(0)  # left as written: the browser check reports it
        new = path
        if os.path.isdir(full):
            if not os.path.isfile(os.path.join(full, "README.md")):
                return m.group(0)
            new = path.rstrip("/") + "/README.md"
            resolved = os.path.join(resolved, "README.md")
        ext = os.path.splitext(resolved)[1].lower()
        if ext == ".md" and resolved not in AS_TEXT:
            self.add_page(resolved)
        elif ext in IMAGE_EXT:
            self._copy(resolved)
        else:
            self._source_page(resolved)
            new = path + ".md"
        return m.group(1) + new + ("#" + anchor if anchor else "") + m.group(3)

    def _copy(self, rel):
        if rel not in self.copied:
            self.copied.add(rel)
            dst = os.path.join(self.docs, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(self.repo, rel), dst)

    def _source_page(self, rel):
        """A linked file that is not markdown becomes a page showing it as text."""
        if rel in self.sources:
            return
        self.sources.add(rel)
        with open(os.path.join(self.repo, rel), encoding="utf-8", errors="replace") as f:
            body = f.read()
        fence = "`" * max(3, 1 + max((len(r) for r in re.findall(r"`+", body)), default=0))
        lang = LANG.get(os.path.splitext(rel)[1].lower(), "text")
        title = rel.replace("`", "")
        self._write(rel + ".md", f"# `{title}`\n\nThe file `{title}` of the workbook's repository, "
                    f"as it was when this site was built.\n\n{fence}{lang}\n{body.rstrip()}\n{fence}\n")

    def _write(self, rel, text):
        dst = os.path.join(self.docs, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "w", encoding="utf-8") as f:
            f.write(text)


def lab_output(repo, lab_dir):
    """The lab's full output from the current build, folded, for the end of its page."""
    binary = f"build/bin/lab{lab_dir}"
    exe = os.path.join(repo, binary)
    if not os.access(exe, os.X_OK):
        die(f"{binary} is missing: build the labs first (cmake --preset release && cmake --build --preset release -j2)")
    started = time.monotonic()
    run = subprocess.run([exe], cwd=repo, capture_output=True, text=True, errors="replace")
    lines = run.stdout.count("\n")
    print(f"site: ran {binary} ({lines} lines, exit {run.returncode}, {time.monotonic() - started:.1f} s)")
    verdict = "every check passed" if run.returncode == 0 else f"exit status {run.returncode}: some check failed"
    stderr = (f"\n<p>What it wrote to stderr:</p>\n<pre class=\"lab-output\"><code>{html.escape(run.stderr)}</code></pre>\n"
              if run.stderr.strip() else "")
    return (f"\n\n## The lab's output in this build\n\n"
            f"What `{binary}` printed when this site was built ({lines} lines; {verdict}). "
            f"Run it yourself and compare.\n\n"
            f"<details class=\"lab-output\">\n<summary>Show the full output of <code>{binary}</code></summary>\n"
            f"<pre class=\"lab-output\"><code>{html.escape(run.stdout)}</code></pre>{stderr}\n</details>\n")


def copy_assets(repo, docs, out):
    assets = os.path.join(docs, "assets")
    os.makedirs(assets, exist_ok=True)
    if not os.path.isfile(os.path.join(KATEX, "katex.min.js")):
        die(f"KaTeX is missing ({KATEX}): run scripts/setup.sh (package libjs-katex)")
    shutil.copytree(KATEX, os.path.join(assets, "katex"), dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.mjs", "*.ttf", "*.woff"))
    mermaid = os.path.join(out, "npm", "node_modules", "mermaid", "dist", "mermaid.min.js")
    if not os.path.isfile(mermaid):
        die("Mermaid is missing (build-site/npm/node_modules/mermaid): run scripts/setup.sh")
    shutil.copyfile(mermaid, os.path.join(assets, "mermaid.min.js"))
    for name in ("site.js", "site.css"):
        shutil.copyfile(os.path.join(HERE, "assets", name), os.path.join(assets, name))


def maintainer_pages(repo):
    """docs/*.md, README.md first, as a nav section; [] when there is no docs/ folder."""
    folder = os.path.join(repo, "docs")
    if not os.path.isdir(folder):
        return []
    names = sorted(n for n in os.listdir(folder) if n.endswith(".md"))
    names.sort(key=lambda n: n != "README.md")
    return [f"docs/{n}" for n in names]


def build(repo, out, fixtures=False):
    sys.path.insert(0, HERE)  # ghslug, named by the config's slugify
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    name = "fixtures" if fixtures else "site"
    docs, site = os.path.join(out, f"{name}-docs"), os.path.join(out, name)
    for d in (docs, site):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(docs)
    copy_assets(repo, docs, out)

    cfg = load_config(config_file=os.path.join(HERE, "mkdocs.yml"), docs_dir=docs, site_dir=site)
    if fixtures:
        # Pages that must fail the browser check, each for the reason its name says.
        shutil.copytree(os.path.join(HERE, "fixtures"), docs, dirs_exist_ok=True)
        nav = None
        cfg["site_name"] = "Browser check fixtures"
    else:
        stager = Stager(repo, docs)
        nav = cfg["nav"]
        if not any(isinstance(e, dict) and "For maintainers" in e for e in nav):
            extra = maintainer_pages(repo)
            if extra:
                nav = nav + [{"For maintainers": extra}]
        for rel in _nav_paths(nav):
            stager.add_page(rel)
        stager.run()
        print(f"site: staged {len(stager.staged)} markdown pages, {len(stager.sources)} source files "
              f"as pages, {len(stager.copied)} images")

    cfg["nav"] = nav
    mkdocs_build(cfg)
    print(f"site: built {site}")


def _nav_paths(nav):
    for entry in nav:
        if isinstance(entry, str):
            yield entry
        elif isinstance(entry, dict):
            for value in entry.values():
                if isinstance(value, str):
                    yield value
                else:
                    yield from _nav_paths(value)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        die("usage: build.py REPO OUT [--fixtures]")
    import logging
    # The fixtures' dead links are on purpose: MkDocs's warnings about them are not shown.
    logging.basicConfig(level=logging.ERROR if "--fixtures" in sys.argv else logging.WARNING,
                        format="site: mkdocs: %(levelname)s %(message)s")
    build(os.path.abspath(args[0]), os.path.abspath(args[1]), "--fixtures" in sys.argv)
