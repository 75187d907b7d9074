"""Who may see and change which enterprise's data.

An enterprise account sees only its own enterprise; another enterprise's data answers 404, exactly
as if it did not exist, so that ids and credit codes cannot be probed. Reviewers (the bureau) read
everything; administrators manage accounts and may also read and correct data.
"""

from __future__ import annotations

from ..principal import Principal
from ..problems import ApiProblem


def can_read(principal: Principal | None, credit_code: str) -> bool:
    if principal is None:
        return False
    return principal.reads_all or principal.credit_code == credit_code


def not_found(what: tuple[str, str]) -> ApiProblem:
    return ApiProblem("not-found", what)


def ensure_can_write_enterprise(principal: Principal, credit_code: str) -> None:
    if principal.role == "enterprise":
        if principal.credit_code != credit_code:
            raise not_found((f"没有企业 {credit_code} 的数据", f"no data for enterprise {credit_code}"))
        return
    if principal.role == "reviewer":
        raise ApiProblem(
            "forbidden",
            ("审核人员只能查看，不能修改企业数据", "reviewers read; they do not change enterprise data"),
        )


def ensure_can_evaluate_for(principal: Principal, credit_code: str) -> None:
    if principal.role == "enterprise" and principal.credit_code != credit_code:
        raise ApiProblem(
            "forbidden",
            (
                f"企业账号只能评估并保存本企业（{principal.credit_code}）的画像",
                f"an enterprise account evaluates and stores only its own enterprise ({principal.credit_code})",
            ),
            errors=[
                {
                    "field": "profile.credit_code",
                    "location": "body",
                    "message": "须为本账号绑定的统一社会信用代码 / must be the account's own credit code",
                    "value": credit_code,
                }
            ],
        )


STAFF = ("科技局工作人员", "bureau staff")


def shown_creator(viewer: Principal | None, username: str | None, creator_role: str | None) -> str | None:
    """Who made a record, as ``viewer`` may see it: an enterprise account sees the names of
    enterprise accounts (its own) but not the bureau's staff, whose user names are not its business
    (and would tell it whom to target); the bureau sees every name."""
    if username is None or viewer is None or viewer.reads_all or creator_role == "enterprise":
        return username
    return STAFF[0]
