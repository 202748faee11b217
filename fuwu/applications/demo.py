"""Demo applications: the home-care demo's elder applies (through her daughter's account, 'family') for three
social-assistance items, and the civil-affairs officer ('officer') has acted on two of them — one waiting for
the applicant after a one-time notice, one accepted with its clock running, one still to accept.

Items are chosen by what their standard says (lead department 民政局, steps listed), never named here.
Idempotent: nothing is added when the elder already has applications.
"""

from __future__ import annotations

from django.db import transaction

from fuwu.accounts.models import User
from fuwu.applications import services, standard
from fuwu.applications.models import Application, Provision
from fuwu.homecare.demo import DEMO_SOURCE
from fuwu.residents.models import Person
from fuwu.standards.selectors import items_in_force

WANTED = 3


@transaction.atomic
def demo_applications_ensure() -> list[Application]:
    elder = Person.objects.filter(source_id=DEMO_SOURCE).first()
    family = User.objects.filter(username="family").first()
    officer = User.objects.filter(username="officer").first()
    if elder is None or family is None or officer is None:
        return []
    existing = list(Application.objects.filter(person=elder))
    if existing:
        return existing
    department = officer.department
    items = [
        i
        for i in items_in_force().select_related("version__standard").order_by("key")
        if standard.applicable(i)
        and standard.department_for(i) == department
        and not i.data.get("delivery")  # items with visits have their own order flow (home care)
    ][:WANTED]
    made = []
    for item in items:
        inputs = {
            m.index: services.MaterialInput(Provision.COUNTER) for m in standard.materials(item) if not m.shared_data
        }
        made.append(services.application_submit(actor=family, item=item, person=elder, materials=inputs))
    if made:
        missing = [m.index for m in standard.materials(made[0].item) if not m.shared_data][:1]
        if missing:
            made[0] = services.application_notice(
                actor=officer, application=made[0], missing=missing, reason="请补交签字后的申请书（演示）"
            )
    if len(made) > 1:
        made[1] = services.application_accept(actor=officer, application=made[1])
    return made
