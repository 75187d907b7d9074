"""A seeded population of applicant profiles around the thresholds of the rule pack.

Used by the property test (the two backends agree), the thread-safety test and ``make bench``.
Values cluster on and around the published thresholds (5,000 and 20,000 万元 sales, 10% staff,
3/4/5% R&D, 60% shares, a score of 70, 365 days) and any field may be missing.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from engine.profile import CREDIT_CODE_CHARSET, credit_code_check_char

AS_OF = dt.date(2025, 6, 30)
TECH_FIELDS = ["electronic_information", "biomedicine", "new_materials", "advanced_manufacturing", "none"]
INDUSTRIES = [
    "C3911",
    "I6513",
    "F5171",
    "H6110",
    "K7010",
    "L7211",
    "C1610",
    "R9011",
    "M7320",
    "A0111",
    "E4710",
    "G5430",
    "I",
    "C39",
]
REGIONS = ["370102", "370103", "370112", "370203", "110105"]


def credit_code(rng: random.Random) -> str:
    body = "91" + "370100" + "".join(rng.choice(CREDIT_CODE_CHARSET) for _ in range(9))
    return body + credit_code_check_char(body)


def _money(rng: random.Random, around: list[str]) -> str:
    base = Decimal(rng.choice(around))
    step = rng.choice(
        [Decimal(0), Decimal("0.01"), Decimal("-0.01"), Decimal("0.000001"), Decimal(rng.randint(-900, 900))]
    )
    return str(max(Decimal(0), base + step))


def _maybe(rng: random.Random, value, p_missing: float):
    return None if rng.random() < p_missing else value


def profile(rng: random.Random, p_missing: float = 0.05) -> dict:
    last = AS_OF.year - 1
    registered = AS_OF - dt.timedelta(days=rng.choice([364, 365, 366, 700, 1500, 4000, rng.randint(1, 6000)]))
    years = []
    for y in range(last - 2, last + 1):
        if y < registered.year or rng.random() < p_missing / 2:
            continue
        sales = Decimal(_money(rng, ["5000", "20000", "4000", "9000", "25000", "800", "1"]))
        employees = rng.choice([10, 100, 200, 300, 499, 500, 501, 1000, rng.randint(1, 3000)])
        tech_ratio = Decimal(rng.choice(["0.10", "0.0999", "0.15", "0.20", "0.25", "0.30", "0.05", "0.5"]))
        rd_ratio = Decimal(
            rng.choice(["0.05", "0.04", "0.03", "0.0499", "0.0399", "0.0299", "0.06", "0.02", "0"])
        )
        rd = (sales * rd_ratio).quantize(Decimal("0.01"))
        total = sales + Decimal(rng.choice(["0", "50", "1000"]))
        fy = {
            "year": y,
            "sales_revenue": str(sales),
            "total_revenue": str(total),
            "high_tech_revenue": str(
                (total * Decimal(rng.choice(["0.6", "0.59", "0.75", "0.3"]))).quantize(Decimal("0.01"))
            ),
            "rd_expense": str(rd),
            "rd_expense_domestic": str(
                (rd * Decimal(rng.choice(["0.6", "0.59", "0.9", "1"]))).quantize(Decimal("0.01"))
            ),
            "cost_and_expense": str(
                (sales * Decimal(rng.choice(["0.8", "0.1", "0.5"]))).quantize(Decimal("0.01"))
            ),
            "total_assets": _money(rng, ["20000", "5000", "300", "120000"]),
            "net_assets": _money(rng, ["1000", "0"]),
            "employees": employees,
            "tech_staff": min(employees, int(employees * tech_ratio)),
        }
        for k in list(fy):
            if k != "year" and rng.random() < p_missing:
                fy[k] = None
        years.append(fy)
    hte = None
    if rng.random() < 0.4:
        hte = {
            "certificate_no": f"GR{rng.randint(2020, 2025)}37{rng.randint(0, 999999):06d}",
            "issued_on": (
                AS_OF - dt.timedelta(days=rng.choice([0, 1, 364, 365, 366, 1000, 1095, 1096]))
            ).isoformat(),
            "first_time": _maybe(rng, rng.random() < 0.5, p_missing),
        }
    projects = []
    for i in range(rng.choice([0, 0, 1, 2, 3])):
        projects.append(
            {
                "id": f"P{i + 1}",
                "name": f"项目{i + 1}",
                "category": _maybe(
                    rng,
                    rng.choice(
                        [
                            "basic_research",
                            "talent",
                            "applied_research",
                            "industrialization",
                            "platform",
                            "other",
                        ]
                    ),
                    p_missing,
                ),
                "level": _maybe(
                    rng, rng.choice(["national", "provincial", "municipal", "district", "none"]), p_missing
                ),
                "provincial_major_implementation": _maybe(rng, rng.random() < 0.3, p_missing),
                "municipal_key": _maybe(rng, rng.random() < 0.5, p_missing),
                "new_land_required": _maybe(rng, rng.random() < 0.5, p_missing),
                "land_area_mu": _maybe(rng, str(rng.randint(0, 200)), p_missing),
            }
        )

    def flag(p_true: float = 0.05):
        return _maybe(rng, rng.random() < p_true, p_missing)

    return {
        "credit_code": credit_code(rng),
        "name": "济南测试企业",
        "registered_on": _maybe(rng, registered.isoformat(), p_missing),
        "region_code": _maybe(rng, rng.choice(REGIONS), p_missing),
        "resident_enterprise": flag(0.95),
        "industry_code": _maybe(rng, rng.choice(INDUSTRIES), p_missing),
        "ownership": _maybe(
            rng, rng.choice(["private", "state_owned", "collective", "foreign_invested", "other"]), p_missing
        ),
        "tech_field": _maybe(rng, rng.choice(TECH_FIELDS), p_missing),
        "prohibited_category": flag(0.05),
        "fiscal_years": years,
        "ip": {
            "core_ip_owned": flag(0.8),
            "class_i_count": _maybe(rng, rng.choice([0, 0, 1, 3]), p_missing),
            "class_ii_count": _maybe(rng, rng.choice([0, 1, 2, 3, 4, 8]), p_missing),
        },
        "innovation_score": _maybe(
            rng, rng.choice(["70", "70.01", "69.99", "85", "50", "100", "0"]), p_missing
        ),
        "compliance": {
            "major_safety_quality_incident_within_1y": flag(),
            "serious_environmental_violation_within_1y": flag(),
            "serious_research_misconduct": flag(),
            "abnormal_operation_list": flag(),
            "serious_dishonesty_list": flag(),
        },
        "certifications": {
            "hte": hte,
            "tsme": {
                "registration_no": f"2025370100{rng.randint(0, 99999):05d}",
                "year": rng.choice([2023, 2024, 2025]),
            }
            if rng.random() < 0.4
            else None,
        },
        "honors": {
            "national_sci_award_top3_on": (
                AS_OF - dt.timedelta(days=rng.choice([100, 1826, 1827, 3000]))
            ).isoformat()
            if rng.random() < 0.1
            else None,
            "rd_institution_level": _maybe(
                rng, rng.choice(["none", "none", "municipal", "provincial", "national"]), p_missing
            ),
            "led_standard_on": (AS_OF - dt.timedelta(days=rng.choice([10, 1826, 1827]))).isoformat()
            if rng.random() < 0.1
            else None,
        },
        "projects": projects,
    }


def population(n: int, seed: int = 20230717, p_missing: float = 0.05) -> list[dict]:
    rng = random.Random(seed)
    return [profile(rng, p_missing) for _ in range(n)]
