"""Console forms of bulletins; validation of rules stays in `actions`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from grassroots.units.models import Unit
from grassroots.units.widgets import use_picker

from .choices import BulletinKind, Priority, Source, Status
from .models import Category


def bootstrap(form: forms.Form) -> None:
    """Bootstrap classes on every widget."""
    for field in form.fields.values():
        widget = field.widget
        css = "form-select" if isinstance(widget, forms.Select) else "form-control"
        widget.attrs.setdefault("class", css)


class BulletinForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("Đơn vị soạn"), queryset=Unit.objects.none(), empty_label=None, to_field_name="code"
    )
    title = forms.CharField(label=_("Tiêu đề"), max_length=300)
    body = forms.CharField(
        label=_("Nội dung"), required=False, widget=forms.Textarea(attrs={"rows": 10})
    )
    kind = forms.ChoiceField(label=_("Loại"), choices=BulletinKind.choices)
    category = forms.ModelChoiceField(
        label=_("Chuyên mục"),
        queryset=Category.objects.filter(active=True),
        required=False,
        to_field_name="slug",
        empty_label=_("(không chọn)"),
    )
    priority = forms.ChoiceField(label=_("Mức ưu tiên"), choices=Priority.choices)
    source = forms.ChoiceField(label=_("Nguồn"), choices=Source.choices)
    source_name = forms.CharField(label=_("Tên cơ quan nguồn"), max_length=200, required=False)
    targets = forms.ModelMultipleChoiceField(
        label=_("Đơn vị nhận (gồm cả cấp dưới)"),
        queryset=Unit.objects.none(),
        required=False,
        to_field_name="code",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    go_live_at = forms.DateTimeField(
        label=_("Hiệu lực từ"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    expire_at = forms.DateTimeField(
        label=_("Hết hiệu lực lúc"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    comment = forms.CharField(label=_("Ghi chú sửa đổi"), max_length=500, required=False)

    def __init__(self, *args, user, bulletin=None, **kwargs):
        super().__init__(*args, **kwargs)
        units = Unit.objects.restrict(user, "content.add").current().order_by("depth", "name")
        self.fields["unit"].queryset = units
        if bulletin is not None:
            # The owner is fixed once written; targets lie under it.
            self.fields["unit"].disabled = True
            self.fields["unit"].queryset = Unit.objects.filter(pk=bulletin.unit_id)
            self.fields["targets"].queryset = (
                Unit.objects.current()
                .filter(path__startswith=bulletin.unit.path)
                .order_by("depth", "name")
            )
        else:
            self.fields["targets"].queryset = units
            self.fields["comment"].widget = forms.HiddenInput()
            top = units.first()
            self.fields["unit"].initial = top.code if top else None
        bootstrap(self)
        if bulletin is None:
            use_picker(self.fields["unit"], multiple=False)
        use_picker(self.fields["targets"], multiple=True)

    def action_data(self) -> dict:
        """The cleaned values in the shape `actions.create` / `actions.update` take."""
        data = dict(self.cleaned_data)
        data.pop("unit", None)
        data.pop("comment", None)
        data["category"] = data["category"].slug if data.get("category") else None
        data["targets"] = [u.code for u in data.get("targets") or []]
        return data


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Từ khoá"), required=False, max_length=200)
    unit = forms.CharField(label=_("Mã đơn vị"), required=False, max_length=16)
    category = forms.ModelChoiceField(
        label=_("Chuyên mục"),
        queryset=Category.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label=_("Mọi chuyên mục"),
    )
    priority = forms.ChoiceField(
        label=_("Mức ưu tiên"), choices=[("", _("Mọi mức"))] + Priority.choices, required=False
    )
    status = forms.ChoiceField(
        label=_("Trạng thái"), choices=[("", _("Mọi trạng thái"))] + Status.choices, required=False
    )
    date_from = forms.DateField(
        label=_("Từ ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Đến ngày"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class UploadForm(forms.Form):
    # an empty file reaches the action, which says "0 byte" rather than "choose a file"
    file = forms.FileField(
        label=_("Tệp"),
        allow_empty_file=True,
        error_messages={"required": _("Hãy chọn tệp cần tải lên.")},
    )
    kind = forms.ChoiceField(
        label=_("Loại tệp"), choices=[c for c in BulletinKind.choices if c[0] != "text"]
    )

    def __init__(self, *args, bulletin=None, **kwargs):
        super().__init__(*args, **kwargs)
        if bulletin is not None:
            # the file type follows the bulletin's kind; a text bulletin most often gets a picture
            kind = bulletin.kind if bulletin.kind != BulletinKind.TEXT else BulletinKind.IMAGE
            self.fields["kind"].initial = kind
        bootstrap(self)
