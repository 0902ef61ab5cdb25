"""What the pages and the API show of a report, built from the format data: its tables as rows of
labelled cells, its summary, an agency's charts."""

from __future__ import annotations

import json

from ..compose.layout import active_groups, format_of, label_path, request_rows
from ..formats.national import OUTCOMES, REVIEW_GROUPS
from ..result import ParseResult
from ..store.models import Report


def tables(result: ParseResult) -> list[dict]:
    """The three statutory tables as rows of (label, [(key, value)]), from the format data."""
    fmt = format_of(result)
    active = [{"label": f"{group} · {row.label}", "heads": heads, "cells": list(row.cells)}
              for group, heads, rows in active_groups(fmt) for row in rows]
    _, rows = request_rows(result)
    requests = [{"label": " / ".join(label_path(row)), "cells": list(row.cells)} for row in rows]
    review = [{"label": label, "cells": [f"{g}.{o}" for o, _ in OUTCOMES]} for g, label in REVIEW_GROUPS]
    return [{"title": "二、主动公开政府信息情况", "rows": active, "heads": None},
            {"title": "三、收到和处理政府信息公开申请情况", "rows": requests,
             "heads": [c.label for c in fmt.table("requests").columns]},
            {"title": "四、政府信息公开行政复议、行政诉讼情况", "rows": review, "heads": [o for _, o in OUTCOMES]}]


def charts(reports: list[Report]) -> str:
    """ECharts data for an agency's years: requests received, outcome shares, review/litigation results."""
    cells = [{c.key: c.value for c in r.cells} for r in reports]
    years = [str(r.year) for r in reports]
    outcomes = {"予以公开": "requests.granted.total", "部分公开": "requests.partial.total",
                "不予公开": "requests.denied.%", "无法提供": "requests.unavailable.%",
                "不予处理": "requests.not_processed.%", "其他处理": "requests.other.total"}

    def total(c: dict, key: str) -> float:
        if key.endswith("%"):
            prefix = key[:-1]
            return sum(v or 0 for k, v in c.items() if k.startswith(prefix) and k.endswith(".total")
                       and k.count(".") == 3)
        return c.get(key) or 0

    return json.dumps({
        "years": years,
        "received": [c.get("requests.new.total") for c in cells],
        "carried": [c.get("requests.carried_over.total") for c in cells],
        "outcomes": [{"name": n, "data": [total(c, k) for c in cells]} for n, k in outcomes.items()],
        "review": [{"name": label, "data": [c.get(f"{g}.total") for c in cells]} for g, label in REVIEW_GROUPS],
    }, ensure_ascii=False)
