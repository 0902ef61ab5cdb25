"""A cell map → a report in the standard national layout, as HTML, DOCX or PDF.

One document model (headings, paragraphs, tables of merged cells) is built from the format data
and written out three ways, so the three outputs cannot disagree about the layout.
"""

from __future__ import annotations

import functools
import io
import re
import subprocess
from dataclasses import dataclass, field, replace
from importlib import resources

import jinja2
from markupsafe import Markup, escape

from ..formats.national import OUTCOMES, REVIEW_GROUPS
from ..result import ParseResult
from .inputs import PLACEHOLDER, PROSE_NEEDS
from .layout import STANDARD, Layout, active_groups, format_of, label_path, number, request_rows

LABEL_COLUMNS = 3
TO_FILL = "待填"  # a cell of 二 or 四 no input gave, in the official look (highlighted)
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
    head: int = 0  # header rows, repeated on each page the table runs onto


@dataclass
class Block:
    kind: str  # "title", "heading", "paragraph", "table", "signature" (落款, right-aligned)
    text: str = ""
    grid: Grid | None = None


def document(result: ParseResult, layout: Layout = STANDARD) -> list[Block]:
    blocks = [Block("title", f"{result.agency or ''}{result.year or ''}年政府信息公开工作年度报告")]
    prose = result.sections
    blocks += [Block("heading", "一、总体情况"), *_paragraphs(prose.get("一"), "一", layout)]
    blocks += [Block("heading", "二、主动公开政府信息情况"), Block("table", grid=_active(result, layout))]
    blocks.append(Block("heading", "三、收到和处理政府信息公开申请情况"))
    blocks += [Block("table", grid=g) for g in _requests(result, layout)]
    blocks += [Block("heading", "四、政府信息公开行政复议、行政诉讼情况"), Block("table", grid=_review(result, layout))]
    blocks += [Block("heading", "五、存在的主要问题及改进情况"), *_paragraphs(prose.get("五"), "五", layout)]
    blocks += [Block("heading", "六、其他需要报告的事项"), *_paragraphs(prose.get("六"), "六", layout)]
    if result.published:
        parts = [int(x) for x in result.published.split("-")]
        date = f"{parts[0]}年{parts[1]}月" + (f"{parts[2]}日" if len(parts) > 2 else "")
        kind = "signature" if layout.official else "paragraph"
        blocks += [Block(kind, result.agency or ""), Block(kind, date)]
    return blocks


def _paragraphs(text: str | None, numeral: str, layout: Layout) -> list[Block]:
    lines = [x.strip() for x in (text or "").split("\n")]
    body = [x for x in lines[1:] if x] if lines and ("、" in lines[0][:3]) else [x for x in lines if x]
    if not body and layout.official:  # a report with a blank section must not look finished
        return [Block("paragraph", f"【待填写：{PROSE_NEEDS[numeral]}】")]
    return [Block("paragraph", x) for x in body] or [Block("paragraph", "无。")]


def _value(result: ParseResult, key: str, layout: Layout) -> str:
    v = result.cells.get(key)
    return TO_FILL if v is None and layout.official else number(v, layout)


def _active(result: ParseResult, layout: Layout = STANDARD) -> Grid:
    fmt = format_of(result)
    width = max(len(r.cells) for _, _, rows in active_groups(fmt) for r in rows)
    grid = Grid()
    for group, labels, rows in active_groups(fmt):
        grid.rows.append([Cell(group, colspan=width + 1, header=True)])
        grid.rows.append(_padded([Cell("信息内容", header=True)] + [Cell(x, header=True) for x in labels], width + 1))
        for row in rows:
            grid.rows.append(_padded([Cell(row.label)] + [Cell(_value(result, k, layout)) for k in row.cells],
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
        grid = Grid(_requests_header(layout), page_break_before=i > 0, head=3)
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


def _review(result: ParseResult, layout: Layout = STANDARD) -> Grid:
    keys = [f"{g}.{o}" for g, _ in REVIEW_GROUPS for o, _ in OUTCOMES]
    return Grid(head=3, rows=[
        [Cell("行政复议", colspan=5, header=True), Cell("行政诉讼", colspan=10, header=True)],
        [*(Cell(label, rowspan=2, header=True) for _, label in OUTCOMES),
         Cell("未经复议直接起诉", colspan=5, header=True), Cell("复议后起诉", colspan=5, header=True)],
        [Cell(label, header=True) for _ in range(2) for _, label in OUTCOMES],
        [Cell(_value(result, k, layout)) for k in keys],
    ])


# ---------------------------------------------------------------- writers
# The fonts of a published report (the names Word on an office PC has), then freely licensed
# ones of the same kind for a machine without them (scripts/setup.sh installs Noto CJK).
FONTS = {
    "title": ("方正小标宋简体", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC", "AR PL UMing CN", "serif"),
    "body": ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "Noto Serif CJK SC", "AR PL UMing CN", "serif"),
    "heading": ("黑体", "SimHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei", "sans-serif"),
    "kai": ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "AR PL UKai CN", "Noto Serif CJK SC", "serif"),
}
# A second-level heading opening a paragraph, up to its full stop: 楷体 (the paragraph goes on in 仿宋).
_SUBHEADING = re.compile(r"^（[一二三四五六七八九十]+）[^。]{0,30}(?:。|$)")


def _split_subheading(text: str) -> tuple[str, str]:
    m = _SUBHEADING.match(text)
    return (m.group(), text[m.end():]) if m else ("", text)


def to_html(result: ParseResult, layout: Layout = STANDARD, installed_fonts: bool = False) -> str:
    """`installed_fonts`: name only the fonts this machine has (for WeasyPrint, where fontconfig
    would put a sans Latin font in place of a missing 黑体 and leave the Chinese to chance)."""
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             loader=jinja2.FunctionLoader(_template))
    if not layout.official:
        return env.get_template("report.html.j2").render(blocks=document(result, layout), layout=layout)
    have = _installed_families() if installed_fonts else None
    fonts = {k: Markup(", ".join(f'"{f}"' if f not in ("serif", "sans-serif") else f for f in v  # our names: CSS as is
                                 if have is None or f in have or f in ("serif", "sans-serif")))
             for k, v in FONTS.items()}
    return env.get_template("official.html.j2").render(
        blocks=document(result, layout), fonts=fonts, widths=lambda g: [100 * w for w in column_widths(g)],
        title_lines=lambda t: title_lines(t, result.agency or ""),
        marked=_marked_html, split_sub=_split_subheading, is_value=_is_value)


TITLE_CHARS = 20  # characters of 二号 type in a line of the 156 mm 版心


def title_lines(title: str, agency: str) -> list[str]:
    """A title too long for one line, broken after the agency's name rather than inside a word."""
    if len(title) <= TITLE_CHARS or not agency or not title.startswith(agency) or len(agency) > TITLE_CHARS:
        return [title]
    return [agency, title[len(agency):]]


def _marked_html(text: str) -> Markup:
    """Placeholders highlighted (the rest escaped)."""
    if text == TO_FILL:
        return Markup(f"<mark>{TO_FILL}</mark>")
    out, at = [], 0
    for m in PLACEHOLDER.finditer(text):
        out += [str(escape(text[at:m.start()])), f"<mark>{escape(m.group())}</mark>"]
        at = m.end()
    return Markup("".join(out) + str(escape(text[at:])))


def _is_value(text: str) -> bool:
    return text == TO_FILL or bool(re.fullmatch(r"-?[\d.]+", text))


def column_widths(grid: Grid) -> list[float]:
    """Each column's share of the width, fitted to what it prints: a label may wrap to a few lines
    (to as many as the rows it spans), a heading to two, a number not at all."""
    placed = _place(grid)
    width = max(c + cell.colspan for (_, c), cell in placed.items())
    need = [3.0] * width
    for (_, c), cell in placed.items():
        if cell.colspan > 1 or not cell.text:
            continue
        chars = sum(0.55 if ch.isascii() else 1 for ch in cell.text)
        if _is_value(cell.text):
            lines = 1.0
        elif cell.header:
            lines = 2.0
        else:
            lines = max(min(float(cell.rowspan), chars / 3), chars / 13)  # a long label wraps at about 13
        need[c] = max(need[c], min(chars / lines + 1, 15))
    total = sum(need)
    return [n / total for n in need]


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
    return html_to_pdf(to_html(result, layout, installed_fonts=True))


@functools.cache
def _installed_families() -> frozenset[str] | None:
    """The font families fontconfig knows (None without fc-list: then every name is tried)."""
    try:
        out = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, check=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(name.strip() for line in out.stdout.splitlines() for name in line.split(","))


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

    if layout.official:
        return _official_docx(result, layout)
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


# ---------------------------------------------------------------- the official DOCX
_MM_A4 = (210, 297)
_MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}  # GB/T 9704: 版心 156 × 225 mm
_TEXT_WIDTH_MM = _MM_A4[0] - _MARGINS_MM["left"] - _MARGINS_MM["right"]


def _official_docx(result: ParseResult, layout: Layout) -> bytes:
    """Word's own styles set to the 公文 look (Normal 仿宋_GB2312 三号, Title 方正小标宋简体 二号,
    Heading 1 黑体, Heading 2 楷体_GB2312), so an office can restyle the whole report at once."""
    import docx
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt

    doc = docx.Document()
    _official_styles(doc)
    for block in document(result, layout):
        if block.kind == "title":
            par = doc.add_paragraph(style="Title")
            for i, line in enumerate(title_lines(block.text, result.agency or "")):
                if i:
                    par.add_run().add_break()
                par.add_run(line)
        elif block.kind == "heading":
            doc.add_paragraph(block.text, style="Heading 1")
        elif block.kind == "signature":
            par = doc.add_paragraph(block.text, style="Signature")
            if doc.paragraphs[-2].style.name != "Signature":
                par.paragraph_format.space_before = Pt(56)  # two blank lines above the 落款
        elif block.kind == "paragraph":
            head, rest = _split_subheading(block.text)
            if head and not rest:
                _marked_paragraph(doc, head, "Heading 2")
            else:
                _marked_paragraph(doc, rest, "Normal", lead=head)
        elif block.grid is not None:
            if block.grid.page_break_before:
                doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            _official_table(doc, block.grid)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _set_font(style, east_asian: str, size: float, bold: bool = False, latin: str = "Times New Roman") -> None:  # type: ignore[no-untyped-def]
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = style.font
    font.name, font.size, font.bold, font.italic = latin, Pt(size), bold, False
    font.color.rgb = RGBColor(0, 0, 0)
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:cs"):
        fonts.set(qn(attr), latin)
    fonts.set(qn("w:eastAsia"), east_asian)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)  # a theme font would win over the named one


def _official_styles(doc) -> None:  # type: ignore[no-untyped-def]
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Mm, Pt

    section = doc.sections[0]
    section.page_width, section.page_height = Mm(_MM_A4[0]), Mm(_MM_A4[1])
    for side, mm in _MARGINS_MM.items():
        setattr(section, f"{side}_margin", Mm(mm))
    _page_number(section.footer.paragraphs[0])

    def paragraph(name: str, font: str, size: float, *, bold: bool = False, indent: bool = True,
                  align: int = WD_ALIGN_PARAGRAPH.JUSTIFY, line: float = 28) -> None:
        style = doc.styles[name] if name in [s.name for s in doc.styles] else doc.styles.add_style(
            name, WD_STYLE_TYPE.PARAGRAPH)
        if name != "Normal":
            style.base_style = doc.styles["Normal"]
        _set_font(style, font, size, bold)
        fmt = style.paragraph_format
        fmt.alignment = align
        fmt.first_line_indent = Pt(2 * size) if indent else Pt(0)
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(line)
        fmt.space_before = fmt.space_after = Pt(0)
        ppr = style.element.get_or_add_pPr()
        for border in ppr.findall("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}pBdr"):
            ppr.remove(border)  # python-docx's Title has a blue rule under it

    paragraph("Normal", FONTS["body"][0], 16)
    paragraph("Title", FONTS["title"][0], 22, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line=35)
    doc.styles["Title"].paragraph_format.space_after = Pt(28)
    paragraph("Heading 1", FONTS["heading"][0], 16)
    paragraph("Heading 2", FONTS["kai"][0], 16)
    paragraph("Signature", FONTS["body"][0], 16, indent=False, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _set_font(doc.styles.add_style("Subheading", WD_STYLE_TYPE.CHARACTER), FONTS["kai"][0], 16)
    doc.styles["Signature"].paragraph_format.right_indent = Pt(32)
    doc.styles["Signature"].paragraph_format.keep_with_next = True  # agency and date on one page
    paragraph("Table Text", FONTS["body"][0], 9, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, line=12)
    for name in ("Heading 1", "Heading 2"):
        doc.styles[name].paragraph_format.keep_with_next = True


def _page_number(par) -> None:  # type: ignore[no-untyped-def]
    """「— 1 —」 centred under the text (GB/T 9704 页码), a PAGE field Word fills in."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    par.alignment = WD_ALIGN_PARAGRAPH.CENTER
    par.add_run("— ").font.size = Pt(14)
    for kind, text in (("begin", ""), ("instr", " PAGE "), ("separate", ""), ("text", "1"), ("end", "")):
        run = par.add_run()
        run.font.size = Pt(14)
        if kind == "instr":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        elif kind == "text":
            el = OxmlElement("w:t")
            el.text = text
        else:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        run._r.append(el)
    par.add_run(" —").font.size = Pt(14)


def _marked_paragraph(doc, text: str, style: str, lead: str = "") -> None:  # type: ignore[no-untyped-def]
    """A paragraph whose placeholders are highlighted yellow; `lead`: a subheading's words (楷体) before it."""
    from docx.enum.text import WD_COLOR_INDEX

    par = doc.add_paragraph(style=style)
    if lead:
        par.add_run(lead, style="Subheading")
    at = 0
    for m in PLACEHOLDER.finditer(text):
        if m.start() > at:
            par.add_run(text[at:m.start()])
        par.add_run(m.group()).font.highlight_color = WD_COLOR_INDEX.YELLOW
        at = m.end()
    if at < len(text):
        par.add_run(text[at:])


def _official_table(doc, grid: Grid) -> None:  # type: ignore[no-untyped-def]
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    placed = _place(grid)
    widths = [Mm(_TEXT_WIDTH_MM * w) for w in column_widths(grid)]
    table = doc.add_table(rows=len(grid.rows), cols=len(widths))
    table.style, table.alignment, table.autofit = "Table Grid", WD_TABLE_ALIGNMENT.CENTER, False
    for c, w in enumerate(widths):
        table.columns[c].width = w
        for cell in table.columns[c].cells:
            cell.width = w
    for r, row in enumerate(table.rows):
        props = row._tr.get_or_add_trPr()
        for tag in ("w:cantSplit", *(("w:tblHeader",) if r < grid.head else ())):
            props.append(OxmlElement(tag))  # rows stay whole; header rows repeat on each page
    for (r, c), cell in placed.items():
        target = table.cell(r, c)
        if cell.rowspan > 1 or cell.colspan > 1:
            target = target.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
        target.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
        par = target.paragraphs[0]
        par.style = doc.styles["Table Text"]
        if not cell.header and cell.text and not _is_value(cell.text):
            par.alignment = WD_ALIGN_PARAGRAPH.LEFT
        if cell.text == TO_FILL or PLACEHOLDER.search(cell.text):
            from docx.enum.text import WD_COLOR_INDEX

            par.add_run(cell.text).font.highlight_color = WD_COLOR_INDEX.YELLOW
        else:
            par.add_run(cell.text)
    layout = table._tbl.tblPr.find(qn("w:tblLayout"))
    if layout is None:
        layout = OxmlElement("w:tblLayout")
        table._tbl.tblPr.append(layout)
    layout.set(qn("w:type"), "fixed")
