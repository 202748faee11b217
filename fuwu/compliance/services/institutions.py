"""The institution registry: institutions added and imported, home-care providers brought in, the inspector pool.

An institution's kind is one the standards in force declare (``institution_kinds``); it sits in an area at
its kind's level (a village station in a village, a county centre in a county), within the officer's area.
The import from Excel works like the resident import: every problem names its row, column and the fix;
any problem means nothing is written, unless the clerk asks for the rows without problems only.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from fuwu.accounts.models import Role, User
from fuwu.areas import outlines
from fuwu.areas.models import Area, AreaLevel
from fuwu.common.audit import audit
from fuwu.common.clerk_sheets import SheetError, read_table
from fuwu.compliance import permissions
from fuwu.compliance.checklists import Kind, kinds_in_force
from fuwu.compliance.models import Conflict, ImportOutcome, Inspector, Institution, InstitutionImport
from fuwu.compliance.services import ComplianceError
from fuwu.homecare.models import Provider

PHONE = re.compile(r"^[0-9+\- ]{3,20}$")
CODE = re.compile(r"^[0-9A-Za-z\-]{2,64}$")


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    required: bool
    aliases: tuple[str, ...] = ()


COLUMNS = (
    Column("name", "机构名称", True, ("名称", "单位名称")),
    Column("kind", "机构类型", True, ("类型", "类别")),
    Column("code", "登记编号", True, ("统一社会信用代码", "编号", "机构编号")),
    Column("area", "所在地区代码", True, ("地区代码", "区划代码", "行政区划代码")),
    Column("address", "地址", True, ("详细地址",)),
    Column("latitude", "纬度", False),
    Column("longitude", "经度", False),
    Column("contact_name", "联系人", False),
    Column("contact_phone", "联系电话", False, ("电话",)),
)
IGNORED = frozenset({"序号", "备注", "no", "no."})


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().rstrip("*").strip().lower()


HEADERS = {_normal(alias): c.name for c in COLUMNS for alias in (c.name, c.zh, *c.aliases)}


@dataclass
class Row:
    number: int
    values: dict[str, Any]


@dataclass
class Problem:
    row: int
    column: str
    problem: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "problem": self.problem, "fix": self.fix}


@dataclass
class ImportReport:
    record: InstitutionImport
    problems: list[Problem] = field(default_factory=list)

    @property
    def written(self) -> bool:
        return self.record.outcome != ImportOutcome.REJECTED


def kind_by_text(text: str, kinds: dict[str, Kind]) -> Kind | None:
    """A kind by its id or its Chinese (or English) name, as a clerk might write it."""
    wanted = _normal(text)
    for kind in kinds.values():
        if wanted in (kind.id, _normal(kind.name_zh), _normal(kind.name_en)):
            return kind
    return None


def _check_location(kind_area: Area, lat: Any, lon: Any) -> tuple[Decimal | None, Decimal | None, str | None]:
    if lat in (None, "") and lon in (None, ""):
        return None, None, None
    try:
        latitude, longitude = Decimal(str(lat).strip()), Decimal(str(lon).strip())
    except InvalidOperation:
        return None, None, _("纬度、经度应为十进制度数，如 28.656300、121.420100")
    if not (latitude.is_finite() and longitude.is_finite() and -90 <= latitude <= 90 and -180 <= longitude <= 180):
        if latitude.is_finite() and longitude.is_finite() and abs(longitude) <= 90 < abs(latitude):
            return None, None, _("纬度超出 -90～90，可能把纬度和经度填反了（台州纬度约 28～29，经度约 120～122）")
        return None, None, _("纬度应在 -90～90、经度应在 -180～180 之间")
    if not outlines.near_county(kind_area.code[:6], latitude=float(latitude), longitude=float(longitude)):
        return None, None, _("位置不在所在区县范围内（可能把纬度和经度填反了）")
    q = Decimal("0.000001")
    return latitude.quantize(q), longitude.quantize(q), None


def check_values(
    values: dict[str, Any], *, kinds: dict[str, Kind], areas: dict[str, Area], prefix: str | None
) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """One institution's values on their own: the cleaned fields, and problems as (column, problem, fix)."""
    problems: list[tuple[str, str, str]] = []
    text = {k: ("" if v is None else str(v).strip()) for k, v in values.items()}
    for column in COLUMNS:
        if column.required and not text.get(column.name):
            problems.append((column.zh, _("为空"), _("请填写%(column)s") % {"column": column.zh}))
    clean: dict[str, Any] = {
        "name": text.get("name", "")[:200],
        "address": text.get("address", "")[:300],
        "contact_name": text.get("contact_name", "")[:100],
        "contact_phone": text.get("contact_phone", ""),
    }
    kind = kind_by_text(text["kind"], kinds) if text.get("kind") else None
    if text.get("kind") and kind is None:
        listed = _("、").join(k.name for k in kinds.values())
        problems.append(
            (
                "机构类型",
                _("“%(kind)s”不是现行标准中的机构类型") % {"kind": text["kind"]},
                _("可填：%(kinds)s") % {"kinds": listed},
            )
        )
    code = text.get("code", "")
    if code and not CODE.match(code):
        problems.append(("登记编号", _("“%(code)s”含有不能用的字符") % {"code": code}, _("只用字母、数字和连字符")))
    area = areas.get(text.get("area", ""))
    if text.get("area") and area is None:
        problems.append(
            (
                "所在地区代码",
                _("没有代码为 %(code)s 的地区") % {"code": text["area"]},
                _("填写 6 位区县、9 位乡镇（街道）或 12 位村（社区）代码"),
            )
        )
    if area is not None and prefix is not None and not area.code.startswith(prefix):
        problems.append(("所在地区代码", _("%(code)s 不在您的辖区内") % {"code": area.code}, _("只能登记本辖区的机构")))
    elif area is not None and kind is not None and area.level != kind.level:
        problems.append(
            (
                "所在地区代码",
                _("%(kind)s应设在%(level)s，%(code)s 是%(actual)s")
                % {
                    "kind": kind.name_zh,
                    "level": AreaLevel(kind.level).label,
                    "code": area.code,
                    "actual": area.get_level_display(),
                },
                _("填写机构所在%(level)s的代码") % {"level": AreaLevel(kind.level).label},
            )
        )
    if clean["contact_phone"] and not PHONE.match(clean["contact_phone"]):
        problems.append(
            (
                "联系电话",
                _("“%(phone)s”不像电话号码") % {"phone": clean["contact_phone"]},
                _("只写数字，区号和号码之间可用连字符"),
            )
        )
    if area is not None:
        latitude, longitude, location_problem = _check_location(area, values.get("latitude"), values.get("longitude"))
        if location_problem:
            problems.append(("纬度", location_problem, _("在地图上核对位置，或两栏都留空")))
        clean.update(latitude=latitude, longitude=longitude)
    clean.update(kind=kind.id if kind else "", code=code, area=area)
    return clean, problems


def _scope(actor: Any) -> str | None:
    """The area prefix an officer registers institutions in; None for the command line (no actor)."""
    if actor is None:
        return None
    prefix = permissions.area_prefix(actor)
    if getattr(actor, "role", None) != Role.DEPARTMENT_OFFICER or prefix is None:
        raise PermissionDenied("only a department officer registers institutions")
    return prefix


@transaction.atomic
def institution_create(*, actor: Any, values: dict[str, Any]) -> Institution:
    """Register one institution (``values`` keyed like the import's columns)."""
    prefix = _scope(actor)
    areas = {a.code: a for a in Area.objects.filter(code=str(values.get("area", "")).strip())}
    clean, problems = check_values(values, kinds=kinds_in_force(), areas=areas, prefix=prefix)
    if problems:
        raise ComplianceError(
            _("；").join(
                _("%(column)s：%(problem)s，%(fix)s") % {"column": c, "problem": p, "fix": f} for c, p, f in problems
            ),
            code="bad_institution",
        )
    if Institution.objects.filter(code=clean["code"]).exists():
        raise ComplianceError(_("登记编号 %(code)s 已经登记过。") % {"code": clean["code"]}, code="duplicate_code")
    institution = Institution.objects.create(**clean)
    audit(actor=actor, event="compliance.institution_created", obj=institution, after={"kind": institution.kind})
    return institution


def _read(data: bytes, filename: str) -> tuple[list[Row], list[Problem], bool]:
    try:
        table = read_table(data, filename)
    except SheetError as exc:
        return [], [Problem(0, "", exc.problem, exc.fix)], True
    problems: list[Problem] = []
    positions: dict[str, int] = {}
    for index, header in enumerate(table.header):
        key = _normal(header)
        if not key or key in IGNORED:
            continue
        name = HEADERS.get(key)
        if name is None:
            problems.append(
                Problem(
                    1, header, _("不认识的列“%(header)s”") % {"header": header}, _("改为说明中的列名，或删除这一列")
                )
            )
        elif name in positions:
            problems.append(Problem(1, header, _("与另一列重复"), _("保留其中一列")))
        else:
            positions[name] = index
    for column in COLUMNS:
        if column.required and column.name not in positions:
            problems.append(
                Problem(1, column.zh, _("缺少“%(column)s”列") % {"column": column.zh}, _("在第 1 行加上这一列"))
            )
    if problems:
        return [], problems, True
    rows = [
        Row(n, {name: (cells[i] if i < len(cells) else None) for name, i in positions.items()})
        for n, cells in table.rows
    ]
    if not rows:
        return [], [Problem(0, "", _("表头下面没有机构"), _("从第 2 行起每行一个机构"))], True
    return rows, [], False


def institutions_import(*, actor: Any, data: bytes, filename: str, valid_only: bool = False) -> ImportReport:
    """Import (or update, by 登记编号) institutions from a workbook; see the module docstring."""
    prefix = _scope(actor)
    rows, problems, file_level = _read(data, filename)
    return _import_checked(
        actor=actor,
        data=data,
        filename=filename,
        valid_only=valid_only,
        prefix=prefix,
        rows=rows,
        problems=problems,
        file_level=file_level,
    )


@transaction.atomic
def _import_checked(
    *,
    actor: Any,
    data: bytes,
    filename: str,
    valid_only: bool,
    prefix: str | None,
    rows: list[Row],
    problems: list[Problem],
    file_level: bool,
) -> ImportReport:
    kinds = kinds_in_force()
    codes = {str(r.values.get("area") or "").strip() for r in rows}
    areas = {a.code: a for a in Area.objects.filter(code__in=codes)}
    existing = {
        i.code: i
        for i in Institution.objects.filter(
            code__in=[str(r.values.get("code") or "").strip() for r in rows]
        ).select_related("area")
    }
    cleaned: list[tuple[int, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for row in rows:
        clean, found = check_values(row.values, kinds=kinds, areas=areas, prefix=prefix)
        problems += [Problem(row.number, c, p, f) for c, p, f in found]
        code = clean["code"]
        if code and code in seen:
            problems.append(
                Problem(row.number, "登记编号", _("与第 %(row)s 行重复") % {"row": seen[code]}, _("每个机构只写一行"))
            )
        seen.setdefault(code, row.number)
        match = existing.get(code)
        if match is not None and clean["kind"] and match.kind != clean["kind"]:
            problems.append(
                Problem(
                    row.number,
                    "机构类型",
                    _("登记编号 %(code)s 已登记为另一类机构") % {"code": code},
                    _("核对编号；类型变更请联系标准化办公室"),
                )
            )
        if match is not None and prefix is not None and not match.area.code.startswith(prefix):
            problems.append(Problem(row.number, "登记编号", _("这个机构登记在其他辖区"), _("由该辖区的工作人员更新")))
        cleaned.append((row.number, clean))
    bad = {p.row for p in problems}
    accepted = [(n, c) for n, c in cleaned if n not in bad]
    created = updated = 0
    if not file_level and (valid_only or not problems):
        for _number, clean in accepted:
            _institution, was_created = Institution.objects.update_or_create(code=clean["code"], defaults=clean)
            created += was_created
            updated += not was_created
    problems.sort(key=lambda p: (p.row, p.column))
    rejected = len({p.row for p in problems if p.row >= 2})
    outcome = ImportOutcome.REJECTED
    if created + updated:
        outcome = ImportOutcome.PARTIAL if rejected else ImportOutcome.IMPORTED
    record = InstitutionImport.objects.create(
        filename=filename[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        valid_only=valid_only,
        outcome=outcome,
        rows=len(rows),
        created=created,
        updated=updated,
        rejected=rejected,
        errors=[p.as_dict() for p in problems[:10_000]],
    )
    audit(
        actor=actor,
        event="compliance.institutions_imported" if created + updated else "compliance.institutions_import_rejected",
        obj=record,
        after={"rows": len(rows), "created": created, "updated": updated, "rejected": rejected},
        note=filename[:255],
    )
    return ImportReport(record, problems)


@dataclass(frozen=True)
class ProviderLink:
    provider: Provider
    institution: Institution | None
    problem: str = ""


@transaction.atomic
def institutions_link_homecare_providers(*, actor: Any = None) -> list[ProviderLink]:
    """Bring the home-care app's providers into the registry: one institution each, of the configured kind.

    Idempotent. A provider already linked is left alone; one whose licence number is already an institution's
    code is linked to it; otherwise an institution is made from the provider's own details in the area it
    serves at the kind's level. This is the interim link ADR 7 describes; home care is not changed.
    """
    kind_id = str(settings.FUWU_COMPLIANCE["homecare_provider_kind"])
    kind = kinds_in_force().get(kind_id)
    if kind is None:
        raise ComplianceError(
            _("现行标准中没有“%(kind)s”这类机构，无法登记居家养老服务组织。") % {"kind": kind_id}, code="unknown_kind"
        )
    out = []
    for provider in Provider.objects.filter(institution__isnull=True).prefetch_related("areas", "admins"):
        area = min((a for a in provider.areas.all() if a.level == kind.level), key=lambda a: a.code, default=None)
        existing = Institution.objects.filter(code=provider.licence_number).first()
        if existing is not None:
            if existing.kind != kind_id or existing.homecare_provider_id is not None:
                out.append(ProviderLink(provider, None, _("登记编号已被另一机构使用")))
                continue
            institution = existing
            institution.homecare_provider = provider
            institution.save(update_fields=["homecare_provider"])
        elif area is None:
            out.append(
                ProviderLink(provider, None, _("服务区域中没有%(level)s") % {"level": AreaLevel(kind.level).label})
            )
            continue
        else:
            institution = Institution.objects.create(
                name=provider.name,
                kind=kind_id,
                code=provider.licence_number,
                area=area,
                address=provider.address,
                contact_name=provider.contact_name,
                contact_phone=provider.contact_phone,
                homecare_provider=provider,
                active=provider.active,
            )
        institution.admins.add(*provider.admins.all())
        audit(
            actor=actor, event="compliance.homecare_provider_linked", obj=institution, after={"provider": provider.pk}
        )
        out.append(ProviderLink(provider, institution))
    return out


@transaction.atomic
def inspector_enrol(
    *, actor: Any, user: User, department_id: int, area: Area, employer: Institution | None = None
) -> Inspector:
    """Put a user with the inspector role in a department's pool (or update their entry)."""
    if user.role != Role.INSPECTOR:
        raise ComplianceError(_("只有“检查人员”角色的账号可以进入检查人员库。"), code="not_an_inspector")
    inspector, created = Inspector.objects.update_or_create(
        user=user, defaults={"department_id": department_id, "area": area, "employer": employer, "active": True}
    )
    audit(
        actor=actor,
        event="compliance.inspector_enrolled" if created else "compliance.inspector_updated",
        obj=inspector,
        after={"department": department_id, "area": area.code, "employer": employer.pk if employer else None},
    )
    return inspector


@transaction.atomic
def conflict_declare(*, actor: Any, inspector: Inspector, institution: Institution, reason: str) -> Conflict:
    """An inspector may not be drawn for this institution (回避)."""
    if not reason.strip():
        raise ComplianceError(_("请写明回避原因。"), code="reason_required")
    conflict, _created = Conflict.objects.update_or_create(
        inspector=inspector, institution=institution, defaults={"reason": reason.strip()[:200]}
    )
    audit(actor=actor, event="compliance.conflict_declared", obj=conflict, after={"reason": conflict.reason})
    return conflict
