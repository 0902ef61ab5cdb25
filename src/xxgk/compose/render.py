"""A cell map → a report in the standard national layout, as HTML, DOCX or PDF.

One document model (headings, paragraphs, tables of merged cells) is built from the format data
and written out three ways, so the three outputs cannot disagree about the layout.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from importlib import resources

import jinja2

from ..formats.national import OUTCOMES, REVIEW_GROUPS
from ..result import ParseResult
from .layout import STANDARD, Layout, active_groups, format_of, label_path, number, request_rows

LABEL_COLUMNS = 3
_APPLICANT_HEAD = ("商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他")


@dataclass
class Cell:
    text: str = ""
    rowspan: int = 1
    colspan: int = 1
    header: bool = False


@dataclass
class Grid:
    rows: list[list[Cell]] = field(default_factory=list)
    page_break_before: bool = False


@dataclass
class Block:
    kind: str  # "title", "heading", "paragraph", "table"
    text: str = ""
    grid: Grid | None = None


def document(result: ParseResult, layout: Layout = STANDARD) -> list[Block]:
    blocks = [Block("title", f"{result.agency or ''}{result.year or ''}年政府信息公开工作年度报告")]
    prose = result.sections
    blocks += [Block("heading", "一、总体情况"), *_paragraphs(prose.get("一"))]
    blocks += [Block("heading", "二、主动公开政府信息情况"), Block("table", grid=_active(result, layout))]
    blocks.append(Block("heading", "三、收到和处理政府信息公开申请情况"))
    blocks += [Block("table", grid=g) for g in _requests(result, layout)]
    blocks += [Block("heading", "四、政府信息公开行政复议、行政诉讼情况"), Block("table", grid=_review(result, layout))]
    blocks += [Block("heading", "五、存在的主要问题及改进情况"), *_paragraphs(prose.get("五"))]
    blocks += [Block("heading", "六、其他需要报告的事项"), *_paragraphs(prose.get("六"))]
    if result.published:
        parts = [int(x) for x in result.published.split("-")]
        date = f"{parts[0]}年{parts[1]}月" + (f"{parts[2]}日" if len(parts) > 2 else "")
        blocks += [Block("paragraph", result.agency or ""), Block("paragraph", date)]
    return blocks


def _paragraphs(text: str | None) -> list[Block]:
    lines = [x.strip() for x in (text or "").split("\n")]
    body = [x for x in lines[1:] if x] if lines and ("、" in lines[0][:3]) else [x for x in lines if x]
    return [Block("paragraph", x) for x in body] or [Block("paragraph", "无。")]


def _active(result: ParseResult, layout: Layout) -> Grid:
    fmt = format_of(result)
    width = max(len(r.cells) for _, _, rows in active_groups(fmt) for r in rows)
    grid = Grid()
    for group, labels, rows in active_groups(fmt):
        grid.rows.append([Cell(group, colspan=width + 1, header=True)])
        grid.rows.append(_padded([Cell("信息内容", header=True)] + [Cell(x, header=True) for x in labels], width + 1))
        for row in rows:
            grid.rows.append(_padded([Cell(row.label)] + [Cell(number(result.cells.get(k), layout)) for k in row.cells],
                                     width + 1))
    return grid


def _padded(cells: list[Cell], width: int) -> list[Cell]:
    missing = width - sum(c.colspan for c in cells)
    if missing > 0:
        cells[-1] = replace(cells[-1], colspan=cells[-1].colspan + missing)
    return cells


def _requests_header(layout: Layout) -> list[list[Cell]]:
    labels = LABEL_COLUMNS if layout.merged_labels else 1
    pad = [Cell("")] if layout.blank_column else []
    return [
        [Cell("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", rowspan=3, colspan=labels,
              header=True), *([Cell("", rowspan=3)] if pad else []), Cell("申请人情况", colspan=7, header=True),
         *([Cell("", rowspan=3)] if pad else [])],
        [Cell("自然人", rowspan=2, header=True), Cell("法人或其他组织", colspan=5, header=True),
         Cell("总计", rowspan=2, header=True)],
        [Cell(x, header=True) for x in _APPLICANT_HEAD],
    ]


def _requests(result: ParseResult, layout: Layout) -> list[Grid]:
    _, rows = request_rows(result)
    parts: list[list] = [[]]
    for row in rows:
        if layout.split_at and row.key == layout.split_at and parts[-1]:
            parts.append([])
        parts[-1].append(row)
    grids = []
    for i, part in enumerate(parts):
        grid = Grid(_requests_header(layout), page_break_before=i > 0)
        paths = [label_path(r) for r in part]
        for n, (row, path) in enumerate(zip(part, paths, strict=True)):
            cells: list[Cell] = []
            if layout.merged_labels:
                for depth, label in enumerate(path[:-1]):
                    if n > 0 and len(paths[n - 1]) > depth + 1 and paths[n - 1][: depth + 1] == path[: depth + 1]:
                        continue  # covered by the cell above
                    span = 1
                    while (n + span < len(part) and len(paths[n + span]) > depth + 1
                           and paths[n + span][: depth + 1] == path[: depth + 1]):
                        span += 1
                    cells.append(Cell(label, rowspan=span))
                cells.append(Cell(path[-1], colspan=LABEL_COLUMNS - len(path) + 1))
            else:
                cells.append(Cell(row.label))
            if layout.blank_column:
                cells.append(Cell(""))
            cells += [Cell(number(result.cells.get(k), layout)) for k in row.cells]
            if layout.blank_column:
                cells.append(Cell(""))
            grid.rows.append(cells)
            if layout.blank_rows and not layout.merged_labels and (n + 1) % layout.blank_rows == 0:
                grid.rows.append([Cell("") for _ in range(8 + (2 if layout.blank_column else 0))])
        grids.append(grid)
    return grids


def _review(result: ParseResult, layout: Layout) -> Grid:
    keys = [f"{g}.{o}" for g, _ in REVIEW_GROUPS for o, _ in OUTCOMES]
    return Grid([
        [Cell("行政复议", colspan=5, header=True), Cell("行政诉讼", colspan=10, header=True)],
        [*(Cell(label, rowspan=2, header=True) for _, label in OUTCOMES),
         Cell("未经复议直接起诉", colspan=5, header=True), Cell("复议后起诉", colspan=5, header=True)],
        [Cell(label, header=True) for _ in range(2) for _, label in OUTCOMES],
        [Cell(number(result.cells.get(k), layout)) for k in keys],
    ])


# ---------------------------------------------------------------- writers
def to_html(result: ParseResult, layout: Layout = STANDARD) -> str:
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             loader=jinja2.FunctionLoader(_template))
    return env.get_template("report.html.j2").render(blocks=document(result, layout), layout=layout)


def _template(name: str) -> str:
    return resources.files("xxgk.compose").joinpath("templates", name).read_text(encoding="utf-8")


def to_text(result: ParseResult, layout: Layout = STANDARD) -> str:
    """Plain text, one tab-separated line per table row (as copied out of a web page or Word)."""
    lines: list[str] = []
    for block in document(result, layout):
        if block.grid is None:
            lines.append(block.text)
            continue
        placed = _place(block.grid)
        width = max(c + cell.colspan for (_, c), cell in placed.items())
        for r in range(len(block.grid.rows)):
            lines.append("\t".join(placed[(r, c)].text if (r, c) in placed else "" for c in range(width)))
    return "\n".join(lines) + "\n"


def to_pdf(result: ParseResult, layout: Layout = STANDARD) -> bytes:
    return html_to_pdf(to_html(result, layout))


def html_to_pdf(html: str) -> bytes:
    import logging

    import weasyprint
    from PIL import ImageFile

    # WeasyPrint lets Pillow fill a truncated picture with grey, for the whole process: a truncated
    # scan read after a PDF was made here would then pass for a page, not be refused.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint.HTML(string=html).write_pdf()


def to_docx(result: ParseResult, layout: Layout = STANDARD) -> bytes:
    import docx
    from docx.enum.text import WD_BREAK

    doc = docx.Document()
    for block in document(result, layout):
        if block.kind == "title":
            doc.add_heading(block.text, level=1)
        elif block.kind == "heading":
            doc.add_heading(block.text, level=2)
        elif block.kind == "paragraph":
            doc.add_paragraph(block.text)
        elif block.grid is not None:
            if block.grid.page_break_before:
                doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            _docx_table(doc, block.grid, layout)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _docx_table(doc, grid: Grid, layout: Layout) -> None:  # type: ignore[no-untyped-def]
    placed = _place(grid)
    height = len(grid.rows)
    width = max((c + cell.colspan for (r, c), cell in placed.items()), default=1)
    table = doc.add_table(rows=height, cols=width)
    if layout.borders:
        table.style = "Table Grid"
    for (r, c), cell in placed.items():
        target = table.cell(r, c)
        if cell.rowspan > 1 or cell.colspan > 1:
            target = target.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
        target.text = cell.text


def _place(grid: Grid) -> dict[tuple[int, int], Cell]:
    """Each cell at its (row, column) in the expanded grid."""
    taken: set[tuple[int, int]] = set()
    placed: dict[tuple[int, int], Cell] = {}
    for r, row in enumerate(grid.rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed[(r, c)] = cell
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
    return placed
