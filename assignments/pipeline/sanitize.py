"""Student output is untrusted HTML: clean it before an instructor's browser renders it.

Everything a submission's kernel prints, and every markdown cell the student wrote, ends up in
the autograded notebook, which `nbgrader formgrader` renders inside the instructor's logged-in
Jupyter session, and in the feedback pages. A `<script>` there could use that session (write
files, start kernels). We keep only inert output types, pass HTML and markdown through
nbconvert's bleach-based sanitiser (no scripts, no event handlers, no iframes, no `javascript:`
links), and drop everything else (JavaScript, SVG, widget state). The rendered pages are
sanitised a second time by nbconvert (`HTMLExporter.sanitize_html`, set in gradebook.configure).
"""

from __future__ import annotations

from nbconvert.preprocessors.sanitize import SanitizeHTML

from . import restore

# bleach's defaults plus harmless structure (pandas tables, paragraphs); no img, no style
EXTRA_TAGS = ["p", "div", "span", "pre", "br", "hr", "h1", "h2", "h3", "h4", "table", "thead",
              "tbody", "tr", "th", "td", "sub", "sup", "details", "summary"]


def _sanitizer() -> SanitizeHTML:
    s = SanitizeHTML()
    s.tags = sorted(set(s.tags) | set(EXTRA_TAGS))
    return s


def written_by_student(cell) -> bool:
    """Answer cells and cells the student added; locked cells come from our source."""
    meta = restore.nbgrader_meta(cell)
    return bool(meta.get("solution")) or not meta


def sanitize(nb):
    """Clean `nb` in place: every output, and the markdown/raw cells the student wrote."""
    s = _sanitizer()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = s.sanitize_code_outputs(cell.get("outputs", []))
        elif written_by_student(cell):
            cell.source = s.sanitize_html_tags(cell.source)
    return nb
