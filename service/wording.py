"""Every Chinese sentence planqa writes around the quoted text of the documents."""

from __future__ import annotations

import re

from .targets import BASELINE_YEAR, Target, has_value

ABSTAIN = "规划及所收录的法律法规中没有找到对这一问题的明确答复。下列相关内容仅供参考，不构成答案。"
_END = "。；;"


def sentence_body(text: str) -> str:
    """A quoted sentence without its closing mark: the citation marker and 。 follow it."""
    return text.rstrip(_END)


def value_text(value: str, unit: str) -> str:
    if not unit:
        return value
    m = re.match(r"^([\d.]+)(.*)$", value)
    if m:  # "22以上（国省考断面）" with unit % reads "22%以上（国省考断面）"
        return f"{m.group(1)}{unit}{m.group(2)}"
    return f"{value}（单位：{unit}）"


def indicator(t: Target) -> str:
    parts = [f"{t.what}：{t.year}年目标为{value_text(t.value, t.unit)}"]
    if has_value(t.baseline):
        parts.append(f"{BASELINE_YEAR}年为{value_text(t.baseline, t.unit)}")
    if t.attribute:
        parts.append(f"属{t.attribute}指标")
    return "，".join(parts)


def category_count(category: str, numbers: list[int]) -> str:
    listed = "、".join(f"第{n}项" for n in numbers)
    return f"主要指标表“{category}”类共{len(numbers)}项指标：{listed}"


def county_zone(county: str, zone: str) -> str:
    return f"{county}属于{zone}。"


def county_task(county: str) -> str:
    return f"点名{county}的任务："


def zone_intro(zone: str) -> str:
    return f"{zone}的定位与任务："


def binding_targets(n: int, county: str, t: Target) -> str:
    return f"全市{n}项约束性指标同样适用于{county}（见目标表），如{t.what}2025年目标{t.value}{t.unit}"


def article_intro(title: str, article: str) -> str:
    return f"根据《{title}》{article}："


def main_source(title: str, heading: str) -> str:
    return f"主要依据：《{title}》{heading}"


def related_law(title: str, article: str, body: str) -> str:
    return f"相关法规：《{title}》{article}规定，{body}"


def part_label(i: int, label: str) -> str:
    return f"（{i}）{label}："


# ---- why the documents do not answer ------------------------------------------------------


def no_year(year: str) -> str:
    return f"文件中没有关于{year}年的相应内容。"


def unknown_name(name: str) -> str:
    return f"文件未涉及“{name}”。"


def no_year_value(year: str) -> str:
    return f"指标表中没有该指标{year}年的数值。"


def no_year_value_text(year: str) -> str:
    return f"文件中没有所问的{year}年的数值。"


def unknown_statute(name: str) -> str:
    return f"文件库未收录《{name}》。"


def quoted_missing(name: str) -> str:
    return f"找到的段落没有提到“{name}”。"


def outside_place(place: str) -> str:
    return f"文件未涉及{place}的相关内容。"


def missing_value(what: str) -> str:
    return f"文件中未找到所问的{what}。"


MISSING_NUMBER = "文件中未找到所问的数值。"
NO_PENALTY = "文件中未找到对这一行为的处罚规定：所引罚则针对的是其他行为，见相关条文。"


def county_no_value(county: str, city_target: Target | None) -> str:
    note = f"全市的相应目标（适用于各县（市、区））：{indicator(city_target)}。" if city_target else ""
    return f"规划未单独给出{county}的相应数值。{note}"


def deferred(reason: str) -> str:
    return f"{reason}所引条文把具体规定留给其他规定或部门确定，见相关条文。"


def part_not_found() -> str:
    return "文件中没有找到对这一部分的明确答复。"


def part_same(n: int) -> str:
    return f"见（{n}）。"
