"""The indicator catalogue users read (``docs/indicators.md``), written from the registry.

One declaration per figure lives in each app's ``indicators.py``; this module
renders them as a Markdown table per dashboard section, so that the document
can never drift from what the dashboards compute.  ``manage.py
write_indicator_docs`` writes it and ``--check`` fails when it is out of date
(the test suite runs the check).
"""

from django.utils import translation

from .registry import DOWN, NEUTRAL, PERCENT, UP, registry

BASIS = {
    "stock": "统计日期当天的存量",
    "flow": "统计期内发生的流量",
    "income": "收入年度",
}
DIRECTION = {
    UP: "越高越好",
    DOWN: "越低越好",
    NEUTRAL: "中性",
}
HEADER = """# 指标目录 (indicator catalogue)

本文件由 `manage.py write_indicator_docs` 根据各应用 `indicators.py` 中的指标声明生成，请勿手工修改。
This file is generated from the indicator declarations of each app's `indicators.py`
by `manage.py write_indicator_docs`; do not edit it by hand.

口径说明：比率与人均值在每一级区域都由汇总后的分子、分母重新计算（不对下级比率求平均）；
分母为 0 时显示「—」。“明细”一栏为“可查看”的指标，在看板上点击数值即可打开对应的名单。
“方向”说明数值上升是好事（越高越好）、坏事（越低越好）还是无所谓好坏（中性），看板据此为变化着色：
向好为绿色，向坏为红色，中性为灰色。
Rates and averages are re-derived from summed numerators and denominators at every level
(never averaged); an empty denominator shows "—". Figures marked 可查看 link to the rows
behind them. 方向 (direction) says whether a rise is good news; the dashboards colour a
change green when it is good, red when it is bad and grey when the figure is neutral.
"""


def _formula(indicator):
    if indicator.total:
        return f"Σ `{indicator.total}`"
    if indicator.breakdown:
        return "；".join(f"{label}：Σ `{component}`" for label, component in indicator.breakdown)
    if indicator.growth:
        num, den, prev_num, prev_den = indicator.growth
        return f"(Σ`{num}` ÷ Σ`{den}`) ÷ (Σ`{prev_num}` ÷ Σ`{prev_den}`) − 1"
    times = " × 100" if indicator.unit == PERCENT else ""
    return f"Σ `{indicator.numerator}` ÷ Σ `{indicator.denominator}`{times}"


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def render():
    """The catalogue as Markdown, always in Chinese (the source language)."""
    with translation.override("zh-hans"):
        lines = [HEADER]
        for section in registry.ordered_sections():
            indicators = registry.in_section(section.key)
            tables = registry.tables_in(section.key)
            if not indicators and not tables:
                continue
            theme = f"{section.theme} · " if section.theme else ""
            lines.append(f"## {theme}{section.label}\n")
            if indicators:
                _indicator_table(lines, indicators)
            for table in tables:
                _data_table(lines, table)
        return "\n".join(lines).rstrip() + "\n"


def _indicator_table(lines, indicators):
    lines.append("| 键 key | 指标 | 单位 | 计算 | 口径 | 方向 | 明细 | 说明 |")
    lines.append("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for i in indicators:
        row = [
            f"`{i.key}`",
            i.label,
            i.unit or "—",
            _formula(i),
            BASIS.get(i.basis, i.basis),
            DIRECTION[i.direction],
            "可查看" if i.link else "—",
            i.description,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    lines.append("")


def _data_table(lines, table):
    """A table whose rows come from data: its rows' rule, then one line per column."""
    lines.append(f"### {table.label}（表 `{table.key}`）\n")
    if table.description:
        lines.append(f"{table.description}\n")
    prefix = f"（`{table.prefix_pattern}`）" if table.prefix_pattern else ""
    lines.append(f"每行的分量名为该行的前缀{prefix}加下列分量名，各级由汇总后的分量计算。\n")
    lines.append("| 列 | 单位 | 计算 | 说明 |")
    lines.append("| --- | --- | --- | --- |")
    for column in table.columns:
        row = [column.label, column.unit or "—", column.formula(), column.description]
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    lines.append("")
