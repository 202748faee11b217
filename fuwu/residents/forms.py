from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from fuwu.common import sheet_guard


class ImportForm(forms.Form):
    file = forms.FileField(label=_("居民名单（.xlsx 或 .csv）"))
    valid_only = forms.BooleanField(required=False, label=_("只导入没有问题的行，其余列入错误报告"))

    def clean_file(self) -> UploadedFile:
        """Refused here, before it is queued, when the guard can tell from the archive alone (size, zip bomb, DTD)."""
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > sheet_guard.LIMITS.upload_bytes:
            raise forms.ValidationError(_("文件超过 20 MB，请分批导入或使用命令行导入。"))
        data = upload.read()
        upload.seek(0)
        try:
            sheet_guard.check_upload(data)
        except sheet_guard.SheetRefused as exc:
            raise forms.ValidationError(f"{exc.problem}：{exc.fix}") from exc
        return upload


class LoadForm(forms.Form):
    """A bulk load of a file in the drop folder (``settings.FUWU_REGISTRY_DROP``): chosen by name, never a path."""

    file = forms.ChoiceField(label=_("要载入的文件"))
    valid_only = forms.BooleanField(required=False, label=_("只导入没有问题的行，其余列入错误报告"))

    def __init__(self, *args: Any, names: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].choices = [(n, n) for n in names]  # type: ignore[attr-defined]
