"""Linking a family member's account to an elder, so they can book, confirm, rate and complain for them.

Only the officer of the elder's area links or unlinks (after checking, in person, who the family member is);
both are audited. The link never shows the family member anything of the registry beyond the elder's name.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from fuwu.accounts.models import Role, User
from fuwu.common.audit import audit
from fuwu.homecare import permissions
from fuwu.homecare.models import FamilyLink
from fuwu.homecare.services import HomeCareError
from fuwu.residents.models import Person

RELATION_MAX = 32


@transaction.atomic
def family_link_add(*, actor: Any, person: Person, username: str, relation: str) -> FamilyLink:
    if not permissions.is_officer_for(actor, person):
        raise PermissionDenied("only an officer of the elder's area may link family members")
    relation = relation.strip()
    if not relation or len(relation) > RELATION_MAX:
        raise HomeCareError(
            _("请填写与老人的关系（不超过%(max)s个字），例如“女儿”“本人”。") % {"max": RELATION_MAX},
            code="bad_relation",
        )
    user = User.objects.filter(username=username.strip(), is_active=True).first()
    if user is None:
        raise HomeCareError(
            _("没有用户名为“%(username)s”的账号；请家属先注册居民账号，再把用户名告诉工作人员。")
            % {"username": username.strip()},
            code="unknown_user",
        )
    if user.role != Role.RESIDENT:
        raise HomeCareError(_("只能关联居民账号；工作人员、服务机构和护理员账号不能作为家属。"), code="not_a_resident")
    link, created = FamilyLink.objects.get_or_create(user=user, person=person, defaults={"relation": relation})
    if not created:
        raise HomeCareError(
            _("“%(username)s”已经关联了这位老人。") % {"username": user.username}, code="already_linked"
        )
    audit(actor=actor, event="homecare.family_linked", obj=person, after={"user": user.pk, "relation": relation})
    return link


@transaction.atomic
def family_link_remove(*, actor: Any, link: FamilyLink) -> None:
    link = FamilyLink.objects.select_for_update().select_related("person").get(pk=link.pk)
    if not permissions.is_officer_for(actor, link.person):
        raise PermissionDenied("only an officer of the elder's area may unlink family members")
    audit(actor=actor, event="homecare.family_unlinked", obj=link.person, before={"user": link.user_id})
    link.delete()
