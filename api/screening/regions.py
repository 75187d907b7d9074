"""District names for reports: 济南市 by GB/T 2260 code (other codes are shown as they are)."""

from __future__ import annotations

# 济南市辖区县（GB/T 2260；济阳、莱芜、钢城为 2018–2019 年区划调整后的代码）
JINAN = {
    "370102": ("历下区", "Lixia"),
    "370103": ("市中区", "Shizhong"),
    "370104": ("槐荫区", "Huaiyin"),
    "370105": ("天桥区", "Tianqiao"),
    "370112": ("历城区", "Licheng"),
    "370113": ("长清区", "Changqing"),
    "370114": ("章丘区", "Zhangqiu"),
    "370115": ("济阳区", "Jiyang"),
    "370116": ("莱芜区", "Laiwu"),
    "370117": ("钢城区", "Gangcheng"),
    "370124": ("平阴县", "Pingyin"),
    "370126": ("商河县", "Shanghe"),
}


def region_name(code: str | None, lang: str = "zh") -> str | None:
    if not code:
        return "（未填写）" if lang != "en" else "(not given)"
    hit = JINAN.get(code)
    if hit:
        return hit[1] if lang == "en" else hit[0]
    return None
