"""The 2019 and 2021 national formats (国办公开办函〔2019〕60号, 〔2021〕30号), declared once.

To add a format variant: add rows with a `variant` name to a table and list the variant in the
table's `variants`. To add a known label variant: add a phrase to the row's `match`.
"""

from __future__ import annotations

from dataclasses import replace

from .model import Column, Derived, Format, Relation, Row, Table

# ---------------------------------------------------------------- section headings
# (numeral, title, regexes over the report's text with white space removed)
SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("一", "总体情况", (r"总体情况",)),
    ("二", "主动公开政府信息情况", (r"主动公开政府信息情况", r"主动公开政府信息",)),
    ("三", "收到和处理政府信息公开申请情况", (r"收到和处理政府信息公开申请", r"收到和处理政府信息")),
    ("四", "政府信息公开行政复议、行政诉讼情况",
     (r"行政复议[、,，和及与]?行政诉讼情况", r"行政复议[、,，和及与]?行政诉讼")),
    ("五", "存在的主要问题及改进情况", (r"存在的主要问题", r"存在(?:的)?(?:主要)?问题(?:及|和|与|以及)?(?:改进|整改)",
                                       r"(?:主要)?问题(?:及|和|与|以及)(?:改进|整改)(?:情况|措施|方向)")),
    ("六", "其他需要报告的事项", (r"其他需要报告的事项",)),
)

# ---------------------------------------------------------------- section 三: requests
APPLICANTS = (
    Column("natural", "自然人"),
    Column("commercial", "商业企业"),
    Column("research", "科研机构"),
    Column("social", "社会公益组织"),
    Column("legal", "法律服务机构"),
    Column("other_org", "其他"),
    Column("total", "总计"),
)
APPLICANT_KEYS = tuple(c.key for c in APPLICANTS)


def _req(key: str, label: str, *match: str, group: str = "", variant: str = "") -> Row:
    full = f"requests.{key}"
    return Row(full, label, match, tuple(f"{full}.{c}" for c in APPLICANT_KEYS), group, variant)


G3, G_DENIED, G_UNAVAIL, G_NOTPROC, G_OTHER = (
    "三、本年度办理结果", "（三）不予公开", "（四）无法提供", "（五）不予处理", "（六）其他处理",
)

_REQUEST_HEAD = (
    _req("new", "一、本年新收政府信息公开申请数量", "本年新收政府信息公开申请数量", "本年新收"),
    _req("carried_over", "二、上年结转政府信息公开申请数量", "上年结转政府信息公开申请数量", "上年结转"),
    _req("granted", "（一）予以公开", "予以公开", group=G3),
    _req("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
         "部分公开", "区分处理的只计这一情形", "区分处理的只记这一情形", group=G3),
    _req("denied.state_secret", "1.属于国家秘密", "属于国家秘密", group=G_DENIED),
    _req("denied.law_prohibited", "2.其他法律行政法规禁止公开",
         "其他法律行政法规禁止公开", "其他法律行政止公开", "法规禁止公开", group=G_DENIED),
    _req("denied.safety_stability", "3.危及“三安全一稳定”", "危及三安全一稳定", "三安全一稳定", group=G_DENIED),
    _req("denied.third_party", "4.保护第三方合法权益", "保护第三方合法权益", group=G_DENIED),
    _req("denied.internal_affairs", "5.属于三类内部事务信息", "属于三类内部事务信息", group=G_DENIED),
    _req("denied.process_info", "6.属于四类过程性信息", "属于四类过程性信息", group=G_DENIED),
    _req("denied.enforcement_file", "7.属于行政执法案卷", "属于行政执法案卷", group=G_DENIED),
    _req("denied.query_matter", "8.属于行政查询事项", "属于行政查询事项", group=G_DENIED),
    _req("unavailable.not_held", "1.本机关不掌握相关政府信息", "本机关不掌握相关政府信息", group=G_UNAVAIL),
    _req("unavailable.needs_creation", "2.没有现成信息需要另行制作",
         "没有现成信息需要另行制作", "没有现成信息需另行制作", group=G_UNAVAIL),
    _req("unavailable.unclear", "3.补正后申请内容仍不明确", "补正后申请内容仍不明确", group=G_UNAVAIL),
    _req("not_processed.complaint", "1.信访举报投诉类申请", "信访举报投诉类申请", group=G_NOTPROC),
    _req("not_processed.repeated", "2.重复申请", "重复申请", group=G_NOTPROC),
    _req("not_processed.publication", "3.要求提供公开出版物", "要求提供公开出版物", group=G_NOTPROC),
    _req("not_processed.excessive", "4.无正当理由大量反复申请", "无正当理由大量反复申请", group=G_NOTPROC),
    _req("not_processed.confirmation", "5.要求行政机关确认或重新出具已获取信息",
         "要求行政机关确认或重新出具已获取信息", group=G_NOTPROC),
)
_REQUEST_TAIL = (
    _req("total", "（七）总计", "^七?总计$", group=G3),
    _req("carried_forward", "四、结转下年度继续办理", "结转下年度继续办理", "结转下年度"),
)
_OTHER_ONE_ROW = _req("other", "（六）其他处理", "其他处理", group=G3)
_OTHER_SPLIT = (
    _req("other.no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
         "申请人无正当理由逾期不补正", "逾期不补正", group=G_OTHER, variant="split"),
    _req("other.unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
         "申请人逾期未按收费通知要求缴纳费用", "收费通知", "缴纳费用", group=G_OTHER, variant="split"),
    _req("other.other", "3.其他", "^3其他$", group=G_OTHER, variant="split"),
)

REQUESTS_2019 = Table("requests", "三", "收到和处理政府信息公开申请情况",
                      _REQUEST_HEAD + (_OTHER_ONE_ROW,) + _REQUEST_TAIL, APPLICANTS)
REQUESTS_2021 = Table(
    "requests", "三", "收到和处理政府信息公开申请情况",
    _REQUEST_HEAD + (replace(_OTHER_ONE_ROW, variant="one_row"),) + _OTHER_SPLIT + _REQUEST_TAIL,
    APPLICANTS, variants=("split", "one_row"),
)

# ---------------------------------------------------------------- section 四: review / litigation
OUTCOMES = (("upheld", "结果维持"), ("corrected", "结果纠正"), ("other", "其他结果"),
            ("pending", "尚未审结"), ("total", "总计"))
REVIEW_GROUPS = (("review", "行政复议"), ("litigation_direct", "行政诉讼/未经复议直接起诉"),
                 ("litigation_after_review", "行政诉讼/复议后起诉"))
REVIEW = Table(
    "review", "四", "政府信息公开行政复议、行政诉讼情况",
    (Row("review", "行政复议、行政诉讼", (), tuple(f"{g}.{o}" for g, _ in REVIEW_GROUPS for o, _ in OUTCOMES)),),
    tuple(Column(f"{g}.{o}", f"{gl}/{ol}") for g, gl in REVIEW_GROUPS for o, ol in OUTCOMES),
    # some reports print it turned: one row per outcome, one column per group
    orders=(tuple(f"{g}.{o}" for o, _ in OUTCOMES for g, _ in REVIEW_GROUPS),),
)


# ---------------------------------------------------------------- section 二: proactive disclosure
def _act(key: str, label: str, cols: tuple[str, ...], *match: str, group: str) -> Row:
    return Row(f"active.{key}", label, match, tuple(f"active.{key}.{c}" for c in cols), group)


A1, A5, A6, A8, A9 = (f"第二十条第（{n}）项" for n in ("一", "五", "六", "八", "九"))
# Rows some provinces add to section 二 (Hubei: 其他主动公开文件). To add one: a label and its phrases.
LOCAL_ACTIVE_ROWS = (
    Row("extra.other_files", "其他主动公开文件", ("其他主动公开文件",), (), A1, extra=True),
)
ACTIVE_2019 = Table("active", "二", "主动公开政府信息情况", (
    _act("regulations", "规章", ("made", "published", "total"), "^规章(件|数量)?$", group=A1),
    _act("normative", "规范性文件", ("made", "published", "total"), "规范性文件", group=A1),
    *LOCAL_ACTIVE_ROWS,
    _act("licensing", "行政许可", ("previous", "change", "decisions"), "行政许可", group=A5),
    _act("other_services", "其他对外管理服务事项", ("previous", "change", "decisions"),
         "其他对外管理服务事项", "对外管理服务", group=A5),
    _act("penalty", "行政处罚", ("previous", "change", "decisions"), "行政处罚", group=A6),
    _act("coercion", "行政强制", ("previous", "change", "decisions"), "行政强制", group=A6),
    _act("fees", "行政事业性收费", ("previous", "change"), "行政事业性收费", group=A8),
    _act("procurement", "政府集中采购", ("projects", "amount"), "政府集中采购", "集中采购", group=A9),
))
ACTIVE_2021 = Table("active", "二", "主动公开政府信息情况", (
    _act("regulations", "规章", ("issued", "repealed", "in_force"), "^规章(件|数量)?$", group=A1),
    _act("normative", "行政规范性文件", ("issued", "repealed", "in_force"), "行政规范性文件", "规范性文件",
         group=A1),
    *LOCAL_ACTIVE_ROWS,
    _act("licensing", "行政许可", ("decisions",), "行政许可", group=A5),
    _act("penalty", "行政处罚", ("decisions",), "行政处罚", group=A6),
    _act("coercion", "行政强制", ("decisions",), "行政强制", group=A6),
    _act("fees", "行政事业性收费", ("amount",), "行政事业性收费", group=A8),
))


# ---------------------------------------------------------------- relations
def _sum_relations(requests: Table, result_rows: tuple[str, ...]) -> list[Relation]:
    rels: list[Relation] = []
    for row in requests.rows:
        parts, total = row.cells[:-1], row.cells[-1]
        rels.append(Relation(f"{row.key}.row_total", "requests.row_total", "eq", (total,), parts,
                             f"「{row.label}」的总计（{{left}}）不等于六类申请人之和（{{right}}）"))
    for col in APPLICANTS:
        c = col.key
        rels.append(Relation(
            f"requests.balance.{c}", "requests.balance", "eq",
            (f"requests.new.{c}", f"requests.carried_over.{c}"),
            (f"requests.total.{c}", f"requests.carried_forward.{c}"),
            f"「{col.label}」列：第一项加第二项之和（{{left}}）不等于第三项加第四项之和（{{right}}）"))
        rels.append(Relation(
            f"requests.results_sum.{c}", "requests.results_sum", "eq",
            (f"requests.total.{c}",), tuple(f"requests.{r}.{c}" for r in result_rows),
            f"「{col.label}」列：（七）总计（{{left}}）不等于各项办理结果之和（{{right}}）"))
    return rels


def _review_relations() -> list[Relation]:
    return [Relation(f"{g}.total", "review.total", "eq", (f"{g}.total",),
                     tuple(f"{g}.{o}" for o, _ in OUTCOMES[:-1]),
                     f"{label}：总计（{{left}}）不等于维持、纠正、其他、尚未审结之和（{{right}}）")
            for g, label in REVIEW_GROUPS]


_RESULT_ROWS = tuple(r.key.removeprefix("requests.") for r in _REQUEST_HEAD[2:]) + ("other",)

RELATIONS_2019 = tuple(_sum_relations(REQUESTS_2019, _RESULT_ROWS) + _review_relations() + [
    Relation(f"active.{k}.total_ge_published", "active.total_ge_published", "ge",
             (f"active.{k}.total",), (f"active.{k}.published",),
             f"「{label}」对外公开总数量（{{left}}）小于本年新公开数量（{{right}}）")
    for k, label in (("regulations", "规章"), ("normative", "规范性文件"))
])
RELATIONS_2021 = tuple(
    [r for r in _sum_relations(REQUESTS_2021, _RESULT_ROWS)] + _review_relations() + [
        Relation(f"active.{k}.in_force_roll", "active.in_force_roll", "ge",
                 (f"active.{k}.in_force", f"active.{k}.repealed"), (f"active.{k}.issued",),
                 f"「{label}」现行有效件数加本年废止件数（{{left}}）小于本年制发件数（{{right}}）")
        for k, label in (("regulations", "规章"), ("normative", "行政规范性文件"))
    ])

DERIVED_2021 = tuple(
    Derived(f"requests.other.{c}", tuple(f"requests.other.{s}.{c}" for s in ("no_correction", "unpaid_fee", "other")),
            "split")
    for c in APPLICANT_KEYS
)

FORMAT_2019 = Format(
    "2019", "国办公开办函〔2019〕60号", (2019, 2020),
    (ACTIVE_2019, REQUESTS_2019, REVIEW), RELATIONS_2019,
    markers=("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增减",
             "采购项目数量", "采购总金额", "政府集中采购"),
)
FORMAT_2021 = Format(
    "2021", "国办公开办函〔2021〕30号", (2021, 9999),
    (ACTIVE_2021, REQUESTS_2021, REVIEW), RELATIONS_2021, DERIVED_2021,
    markers=("本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额",
             "行政规范性文件", "逾期不补正", "缴纳费用"),
)
FORMATS = {"2019": FORMAT_2019, "2021": FORMAT_2021}
