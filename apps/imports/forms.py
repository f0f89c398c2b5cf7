"""Forms of the import pages: they only shape input for one service (the rules live in services.py)."""

from __future__ import annotations

from django import forms

from apps.core.forms import ServiceForm
from apps.imports.kinds import SPECS
from apps.imports.models import ImportKind, ImportMode

ACCEPT = ".xlsx,.xls,.csv"


def kind_choices() -> list[tuple[str, str]]:
    """The kinds that have an importer, in the order of DESIGN §8 (persons first: the others refer to them)."""
    return [(value, label) for value, label in ImportKind.choices if value in SPECS]


class UploadForm(ServiceForm):
    kind = forms.ChoiceField(label="导入类型", choices=())
    file = forms.FileField(
        label="文件",
        help_text="支持 .xlsx、.xls、.csv（UTF-8或GBK编码）；表头须在前10行内，标题行在表头之上也可以。",
        error_messages={"required": "请选择要上传的文件", "empty": "上传的文件是空的"},
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )
    mode = forms.ChoiceField(
        label="导入方式",
        choices=ImportMode.choices,
        initial=ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
        help_text="上传后先试导入（只校验、不写入），看过校验结果再确认导入。",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kind_choices()
        self.fields["kind"].initial = ImportKind.PERSONS
        self.fields["mode"].widget.attrs["class"] = "form-check-input"


class CommitForm(ServiceForm):
    mode = forms.ChoiceField(label="导入方式", choices=ImportMode.choices, widget=forms.RadioSelect)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mode"].widget.attrs["class"] = "form-check-input"
