"""Why a file could not be read, in Chinese for the web app's users. The readers say it in English
(the command line's language, and what its tests and logs expect); the web app says it as a
政务公开办 reviewer reads it: each known message by its pattern, anything else kept whole after
a Chinese lead-in, so nothing is lost."""

from __future__ import annotations

import re

_MB = r"([\d.,]+ ?[KMG]?B)"
_CHINESE: list[tuple[re.Pattern[str], str]] = [(re.compile(p), zh) for p, zh in [
    (r"^not a 政府信息公开工作年度报告", "不是政府信息公开工作年度报告：三张统计表一张也没有找到"),
    (r"^not a single report: ([\d,]+) characters", r"不像是一份报告：文字有 \1 个字符，远多于一份报告"),
    (r"^not a report: an? (.+) file$", r"不是报告：这是一个 \1 文件"),
    (r"^empty file$", "文件是空的"),
    (r"^binary data", "文件不是文本，也不是能识别的文档格式"),
    (r"^corrupt Word file", "Word 文件已损坏，无法读取"),
    (r"^DOC/WPS files need LibreOffice", "读取 DOC/WPS 文件需要 LibreOffice（make setup 会安装）"),
    (r"^LibreOffice could not convert", "LibreOffice 无法转换此文件（文件损坏、加密或不是文档）"),
    (r"^unreadable image", "无法识别的图片：文件已损坏，或是无法解码的图片格式"),
    (r"^image too (large|long)", "图片过大，不像是报告的页面"),
    (r"^scan too long to read: more than (\d+) pages", r"扫描件过长：超过 \1 页，未读取"),
    (r"^no text: OCR read nothing", "图片中没有识别出文字"),
    (r"^OCR failed", "图片文字识别失败"),
    (r"^refused: more than ([\d,]+) characters", r"已拒绝：文字超过 \1 个字符（一份报告远少于此）"),
    (r"^refused: more than ([\d,]+) table cells", r"已拒绝：表格单元格超过 \1 个（一份报告只有几百个）"),
    (r"^refused: .*unpacks to", "已拒绝：压缩内容解开后过大（疑似压缩炸弹）"),
    (r"took longer than ([\d.]+) s and was stopped", r"读取超过 \1 秒，已停止"),
    (r"used more than (\d+) s of CPU", r"读取占用 CPU 超过 \1 秒，已停止"),
    (r"too large to read within (\d+) MB of memory", r"文件过大，无法在 \1 MB 内存内读取"),
    (r"^the reading process died", "读取进程意外退出（可能内存不足）"),
    (r"^file too large", "文件过大，未读取"),
    (r"^cannot read", "无法读取此文件"),
]]


def in_chinese(message: str) -> str:
    """A reader's reason in Chinese; one it does not know is kept, after 「无法读取：」."""
    for pattern, zh in _CHINESE:
        if m := pattern.search(message):
            return m.expand(zh)
    return message if re.search("[\u4e00-\u9fff]", message[:12]) else f"无法读取：{message}"
