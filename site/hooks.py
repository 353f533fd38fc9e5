"""MkDocs hooks for the workbook's site (site/mkdocs.yml, `hooks:`)."""
import re

# Each chapter opens with a blockquote "> 🇪🇸 **Resumen.** ...": mark it so site.css sets it
# apart, and so a screen reader knows it is Spanish.
_SUMMARY = re.compile(r"<blockquote>(\s*<p>\s*🇪🇸)")


def on_page_content(html, page, config, files):
    return _SUMMARY.sub(r'<blockquote class="resumen" lang="es">\1', html)
