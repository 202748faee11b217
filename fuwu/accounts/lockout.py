"""Login lockout (django-axes): whose address a request comes from, who is locked out, and unlocking.

Axes locks a *username at an address* (``AXES_LOCKOUT_PARAMETERS``) after ``AXES_FAILURE_LIMIT``
failures, for ``AXES_COOLOFF_TIME`` hours. Two things make that fair:

* **The real client address.** Behind a reverse proxy every request comes from the proxy. ``client_ip``
  believes ``X-Forwarded-For`` only when the request came from one of ``FUWU_TRUSTED_PROXIES``, and then
  takes the last address in it that is not itself a trusted proxy (the one the outermost trusted proxy
  saw); a client cannot choose its address by sending the header itself.
* **Unlocking.** A locked-out person asks an officer: the standardisation office may unlock anyone, a
  department officer the accounts of their own area, at ``/accounts/lockouts/`` (or in the back office,
  the user list's action "解除登录锁定"). Each unlock is audited.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from fuwu.accounts.models import Role, User
from fuwu.accounts.permissions import has_role
from fuwu.areas.selectors import descendant_codes_prefix
from fuwu.common.audit import audit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks() -> list[Network]:
    return [ipaddress.ip_network(p.strip(), strict=False) for p in settings.FUWU_TRUSTED_PROXIES if p.strip()]


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address axes locks on (``AXES_CLIENT_IP_CALLABLE``)."""
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    trusted = _networks()
    peer = _address(remote)
    if peer is None or not any(peer in n for n in trusted):
        return remote or None
    hops = [a for a in (_address(h) for h in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")) if a]
    for hop in reversed(hops):
        if not any(hop in n for n in trusted):
            return str(hop)
    return remote


@dataclass(frozen=True)
class Lockout:
    pk: int
    username: str
    ip_address: str
    failures: int
    last_attempt: dt.datetime
    until: dt.datetime


def _cooloff() -> dt.timedelta:
    return dt.timedelta(hours=float(settings.AXES_COOLOFF_TIME))


def can_unlock(actor: Any, username: str) -> bool:
    """The standardisation office unlocks anyone; a department officer the accounts of their area."""
    if has_role(actor, {Role.STANDARDS_OFFICE}) or getattr(actor, "is_superuser", False):
        return True
    if not has_role(actor, {Role.DEPARTMENT_OFFICER}) or actor.area is None:
        return False
    target = User.objects.filter(username=username).select_related("area").first()
    return bool(target and target.area and target.area.code.startswith(descendant_codes_prefix(actor.area)))


def may_see_lockouts(actor: Any) -> bool:
    return has_role(actor, {Role.STANDARDS_OFFICE, Role.DEPARTMENT_OFFICER}) or getattr(actor, "is_superuser", False)


def lockouts_for(*, actor: Any) -> list[Lockout]:
    """The lockouts in force that ``actor`` may lift, newest first."""
    if not may_see_lockouts(actor):
        return []
    since = timezone.now() - _cooloff()
    attempts = AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
    ).order_by("-attempt_time")
    return [
        Lockout(
            a.pk,
            a.username or "",
            a.ip_address or "",
            a.failures_since_start,
            a.attempt_time,
            a.attempt_time + _cooloff(),
        )
        for a in attempts
        if can_unlock(actor, a.username or "")
    ]


class UnlockRefused(Exception):
    pass


@transaction.atomic
def lockout_clear(*, actor: Any, username: str, ip_address: str | None = None) -> int:
    """Lift the lockout of ``username`` (at ``ip_address``, or everywhere); audited. Returns attempts removed."""
    if not can_unlock(actor, username):
        raise UnlockRefused(username)
    removed = reset(ip=ip_address, username=username) if ip_address else reset(username=username)
    target = User.objects.filter(username=username).first()
    if target is not None:
        audit(
            actor=actor,
            event="accounts.unlocked",
            obj=target,
            after={"attempts_removed": removed, "ip_address": ip_address or "*"},
        )
    return int(removed)
