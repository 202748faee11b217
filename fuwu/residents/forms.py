from __future__ import annotations

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # about 200,000 rows; bigger lists go through `fuwu residents import`


class ImportForm(forms.Form):
    file = forms.FileField(label=_("居民名单（.xlsx 或 .csv）"))
    valid_only = forms.BooleanField(required=False, label=_("只导入没有问题的行，其余列入错误报告"))

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件超过 20 MB，请分批导入或使用命令行导入。"))
        return upload
