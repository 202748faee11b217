"""Entitlements' background jobs: screening the resident registry (``/proactive/screen/``), retention."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop

from fuwu.accounts.permissions import can_screen_registry
from fuwu.eligibility import proactive
from fuwu.eligibility.inplace import InPlaceUnavailable
from fuwu.eligibility.services import (
    NoRulesInForce,
    screening_registry_abandon,
    screening_registry_run,
    screening_runs_purge,
)
from fuwu.jobs import kinds
from fuwu.jobs.kinds import JobError, Outcome, Progress
from fuwu.jobs.models import Job

KIND = "eligibility.registry_screen"
# FUWU_SCREEN_IN_PLACE is on and the database cannot screen in place (the log has the technical reason).
IN_PLACE_UNAVAILABLE = gettext_noop(
    "本系统设置为在数据库内筛查（不导出居民信息），但当前数据库无法在库内筛查。"
    "请系统管理员改用 PostgreSQL 并完成数据库迁移，或关闭 FUWU_SCREEN_IN_PLACE 设置。"
)


def registry_screen_abandon(job: Job) -> None:
    """A killed attempt left its run running, perhaps with some results: close it and remove them."""
    run_id = job.state.get("run")
    if run_id is not None:
        screening_registry_abandon(run_id=int(run_id), actor=job.requested_by)


@kinds.register(
    KIND,
    label=gettext_lazy("筛查户籍登记人员"),
    template="eligibility/registry_screen_result.html",
    abandon=registry_screen_abandon,
)
def registry_screen(job: Job, progress: Progress) -> Outcome:
    actor = job.requested_by
    try:
        run = screening_registry_run(
            actor=actor,
            as_of=dt.date.fromisoformat(job.params["as_of"]),
            progress=progress,
            on_start=lambda started: progress.keep(run=started.pk),
        )
    except NoRulesInForce as exc:
        raise JobError(gettext_noop("还没有正在执行的标准，无法筛查。请先载入标准。")) from exc
    except InPlaceUnavailable as exc:
        raise JobError(IN_PLACE_UNAVAILABLE) from exc
    # The standards office reads no area's list; it sees the counts on the screening page.
    with_list = actor is not None and proactive.area_prefix_for(actor) is not None
    url = reverse("proactive:run", kwargs={"run_id": run.pk}) if with_list else reverse("proactive:screen")
    return Outcome(
        url=url,
        summary={"run": run.pk, "persons": run.persons, "as_of": run.as_of.isoformat(), "list": with_list},
    )


@kinds.register(
    "eligibility.runs_purge",
    label=gettext_lazy("删除过期筛查结果"),
    template="eligibility/runs_purge_result.html",
    may_view=lambda user, job: can_screen_registry(user),
)
def runs_purge(job: Job, progress: Progress) -> Outcome:
    """The retention rule, daily (``FUWU_SCHEDULE``): old runs' files and person rows go."""
    purged = screening_runs_purge(actor=job.requested_by)
    progress(1, 1)
    return Outcome(url=reverse("proactive:screen"), summary={"purged": len(purged), "runs": purged})


@kinds.register(
    "eligibility.registry_daily",
    label=gettext_lazy("每日增量筛查户籍登记人员"),
    template="eligibility/registry_screen_result.html",
    abandon=registry_screen_abandon,
    may_view=lambda user, job: can_screen_registry(user),
)
def registry_daily(job: Job, progress: Progress) -> Outcome:
    """Only what changed since the previous registry run (``incremental``); on the schedule when enabled."""
    from fuwu.eligibility.incremental import screening_registry_incremental

    slot = job.params.get("slot")
    as_of = (
        timezone.localtime(dt.datetime.fromisoformat(slot)).date()
        if slot
        else dt.date.fromisoformat(job.params["as_of"])
    )
    try:
        run = screening_registry_incremental(actor=job.requested_by, as_of=as_of, progress=progress)
    except NoRulesInForce as exc:
        raise JobError(gettext_noop("还没有正在执行的标准，无法筛查。请先载入标准。")) from exc
    except InPlaceUnavailable as exc:
        raise JobError(IN_PLACE_UNAVAILABLE) from exc
    return Outcome(
        url=reverse("proactive:screen"),
        summary={"run": run.pk, "persons": run.persons, "as_of": run.as_of.isoformat(), "list": False},
    )
