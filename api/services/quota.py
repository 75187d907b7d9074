"""The daily quota of stored evaluations per account (one key wrote 82 MB in 25 s).

A day is a calendar day in China Standard Time (UTC+8, no daylight saving), when the bureau's day
turns. ``take`` counts one stored evaluation before it is made, only while the account is under its
limit (one conditional UPDATE, so that concurrent requests cannot pass the limit together). A
request counted that stores nothing (a bad profile, a measure that does not exist) is not given
back there and then: when an account reaches its limit, the count is first set to the evaluations
it really stored today, and only if those reach the limit is the answer 429. (Requests still in
flight at that moment are not in the recount: they can pass the limit by at most their number.)"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..db import take_write_gate, utcnow
from ..models import Evaluation, EvaluationQuota
from ..problems import ApiProblem

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


def today(now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(CHINA).date()


def seconds_to_next_day(now: dt.datetime | None = None) -> int:
    now = (now or utcnow()).astimezone(CHINA)
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), CHINA)
    return max(1, int((midnight - now).total_seconds()) + 1)


def take(factory: sessionmaker[Session], user_id: int, limit: int) -> dt.date:
    """Count one stored evaluation for today, or ``quota-exceeded`` (429, Retry-After: the seconds
    until the day turns) when the account has stored ``limit`` today."""
    day = today()
    with factory() as db:
        for _ in range(3):
            take_write_gate(db)
            counted = db.execute(
                update(EvaluationQuota)
                .where(EvaluationQuota.user_id == user_id, EvaluationQuota.day == day, EvaluationQuota.used < limit)
                .values(used=EvaluationQuota.used + 1)
            ).rowcount
            if counted:
                db.commit()
                return day
            used = db.scalar(
                select(EvaluationQuota.used).where(EvaluationQuota.user_id == user_id, EvaluationQuota.day == day)
            )
            if used is not None:
                stored = _stored_today(db, user_id, day)
                if stored < used:  # some counted requests stored nothing: recount, then try again
                    db.execute(
                        update(EvaluationQuota)
                        .where(EvaluationQuota.user_id == user_id, EvaluationQuota.day == day)
                        .values(used=stored)
                    )
                    db.commit()
                    continue
                db.rollback()
                wait = seconds_to_next_day()
                raise ApiProblem(
                    "quota-exceeded",
                    (
                        f"本账号今天已保存 {limit} 次评估，达到每日上限；匿名自查不受限制，明天可继续保存",
                        f"this account has stored {limit} evaluations today, the daily limit; "
                        "anonymous self-checks are not limited, storing resumes tomorrow",
                    ),
                    headers={"Retry-After": str(wait)},
                    extra={"retry_after": wait, "limit": limit},
                )
            try:
                db.execute(insert(EvaluationQuota).values(user_id=user_id, day=day, used=1))
                db.commit()
                return day
            except IntegrityError:  # another request made today's row first: count on it
                db.rollback()
    raise ApiProblem("conflict", ("同时提交的请求过多，请重试", "too many simultaneous requests; try again"))


def _stored_today(db: Session, user_id: int, day: dt.date) -> int:
    start = dt.datetime.combine(day, dt.time(), CHINA)
    return (
        db.scalar(
            select(func.count())
            .select_from(Evaluation)
            .where(Evaluation.created_by == user_id, Evaluation.created_at >= start)
        )
        or 0
    )
