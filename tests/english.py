"""What may stay Chinese in an answer in English: legal wording and the applicant's own data.

Legal wording is the quoted text, the clause, the source document and the interpretation notes (which
quote the term they read), and a document cited by its title or number inside another text
(《高新技术企业认定管理办法》, 财税〔2015〕119号). The applicant's own data is what the profile says
(its name, its projects' names). Every other string of an English answer must hold no Chinese.
"""

from __future__ import annotations

import re
from typing import Any

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# a document cited inside a text: a title in 《》, or a number such as 鲁政办字〔2023〕155号
DOCUMENT = re.compile(r"《[^》]*》|[\u4e00-\u9fff]+〔\d{4}〕\d+号")
LEGAL_KEYS = {"quote", "clause", "interpretation", "document", "reference"}


def applicant_texts(profile: dict[str, Any]) -> list[str]:
    texts = [profile.get("name") or ""]
    texts += [p.get("name") or "" for p in profile.get("projects") or ()]
    return sorted((t for t in texts if t), key=len, reverse=True)


def chinese_in(answer: Any, profile: dict[str, Any], path: str = "") -> list[tuple[str, str]]:
    """(path, text) of every string of ``answer`` holding Chinese that is neither legal wording nor
    the applicant's own data."""
    found: list[tuple[str, str]] = []
    own = applicant_texts(profile)
    stack: list[tuple[str, Any]] = [(path, answer)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                if k in LEGAL_KEYS:
                    continue
                stack.append((f"{where}.{k}", v))
        elif isinstance(node, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(node))
        elif isinstance(node, str) and CJK.search(node) and leftover(node, own):
            found.append((where, node))
    return found


def leftover(text: str, own: list[str]) -> str:
    """The Chinese of ``text`` once cited documents and the applicant's own data are set aside."""
    for t in own:
        text = text.replace(t, "")
    return "".join(CJK.findall(DOCUMENT.sub("", text)))
