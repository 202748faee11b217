"""Naming the clause a complaint or a 差评 concerns: a choice among the clauses of the version governing the item.

Whoever records a complaint (home care) or a rating (home care's visits, applications' handling) may say which
clause of the standard it is about; the office may set or correct it while handling it. The choice is limited
to the clauses of the standard version that governs the service item (``governing_version``): the resident
picks from the clauses' plain-language titles (``choices``: the value is the row's id, never shown; the
clause's number and internal keys are not shown either), and ``resolve`` refuses anything else with a
message naming the field and the fix — a clause of another standard or another version, an unknown id.

Only clauses with a title are offered: a title is how a clause reads to a resident ("助餐服务"); a bare
requirement sentence is not something to pick from a list. The evaluation report counts a complaint or a
差评 against the clause named here, falling back to the item's clause (``content.clause``) when none is.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from fuwu.standards.models import IN_FORCE, Clause, StandardVersion


class ClauseChoiceError(ValueError):
    """A clause that cannot be named for this item; the message names the field and the fix."""


def governing_version(item_key: str) -> StandardVersion | None:
    """The version in force whose service items include ``item_key`` (the first by standard, if several)."""
    return (
        StandardVersion.objects.filter(status__in=IN_FORCE, items__key=item_key)
        .select_related("standard")
        .order_by("standard__key", "-number")
        .defer("document")
        .first()
    )


def offered(version: StandardVersion) -> list[Clause]:
    """The clauses a person may name, in the document's order: those with a title."""
    return [c for c in version.clauses.order_by("position") if c.title_zh]


def choices(version: StandardVersion | None) -> list[tuple[str, str]]:
    """``(value, label)`` for a select: "not sure" first, then each offered clause by its title alone.

    Two clauses with the same title are told apart by their parent's title, never by their numbers.
    """
    rows = offered(version) if version is not None else []
    seen: dict[str, int] = {}
    for c in rows:
        seen[c.title] = seen.get(c.title, 0) + 1
    parents = {p.pk: p.title for p in Clause.objects.filter(pk__in={c.parent_id for c in rows if c.parent_id})}
    out = [("", _("不确定，不指明条款"))]
    for c in rows:
        label = c.title
        if seen[c.title] > 1 and c.parent_id in parents:
            label = f"{c.title}（{parents[c.parent_id]}）"
        out.append((str(c.pk), label))
    return out


def resolve(version: StandardVersion | None, raw: object) -> Clause | None:
    """The clause ``raw`` (a choice's value, or a ``Clause``) names, if it is one ``version`` offers.

    ``""``/``None`` is "not named" (``None``). Anything else that is not an offered clause of ``version`` is a
    ``ClauseChoiceError`` saying why: another standard (named, so the recorder sees the mix-up), another version
    of this standard, or no such clause.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, Clause):
        pk: int | None = raw.pk
    else:
        text = str(raw).strip()
        pk = int(text) if text.isascii() and text.isdigit() else None
    clause = Clause.objects.select_related("version__standard").filter(pk=pk).first() if pk is not None else None
    if clause is None:
        raise ClauseChoiceError(_("条款：没有这一条款，请从列表中选择，或选“不确定，不指明条款”。"))
    if version is None:
        raise ClauseChoiceError(_("条款：这项服务没有现行标准可以对照，请选“不确定，不指明条款”。"))
    if clause.version.standard_id != version.standard_id:
        raise ClauseChoiceError(
            _("条款：“%(title)s”属于另一项标准（%(other)s），这项服务适用的是 %(code)s；请从列表中选择。")
            % {"title": clause.title or clause.number, "other": clause.version.code, "code": version.code}
        )
    if clause.version_id != version.pk:
        raise ClauseChoiceError(
            _("条款：“%(title)s”出自 %(code)s 的另一个版本，不是现行版本；请从列表中重新选择。")
            % {"title": clause.title or clause.number, "code": version.code}
        )
    if not clause.title_zh:
        raise ClauseChoiceError(_("条款：请从列表中选择有标题的条款，或选“不确定，不指明条款”。"))
    return clause
