"""The one unit picker of the console: the unit tree, searchable without diacritics, whole
subtrees in one click, names with their codes beside them."""

from __future__ import annotations

import itertools
import json

from django import forms
from django.utils.safestring import mark_safe

# the same escapes as Django's json_script, but names stay readable (not \u escapes)
_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}

_ids = itertools.count(1)


def picker_items(units) -> list[dict]:
    """The units (a queryset or list) as the picker's JSON rows, parents before children."""
    rows = list(units)
    by_pk = {u.pk: u for u in rows}
    rows.sort(key=lambda u: (u.depth, u.name_folded))
    return [
        {
            "code": u.code,
            "name": u.name,
            "folded": u.name_folded,
            "kind": u.get_kind_display(),
            "depth": u.depth,
            "parent": by_pk[u.parent_id].code if u.parent_id in by_pk else "",
        }
        for u in rows
    ]


def picker_context(
    *, name: str, units, selected=(), multiple: bool = True, html_id: str = "", required=False
) -> dict:
    """What `units/widgets/unit_picker.html` needs; `selected` are unit codes."""
    items = picker_items(units)
    known = {i["code"] for i in items}
    chosen = [str(c) for c in (selected or []) if str(c) in known]
    if not multiple:
        chosen = chosen[:1]
    html_id = html_id or f"unit-picker-{next(_ids)}"
    return {
        "picker": {
            "name": name,
            "id": html_id,
            "multiple": multiple,
            "required": required,
            "items": items,
            # escaped like json_script (<, >, &), so it cannot close the script element
            "items_json": mark_safe(json.dumps(items, ensure_ascii=False).translate(_ESCAPES)),  # noqa: S308
            "selected": chosen,
            "selected_rows": [i for i in items if i["code"] in chosen],
        }
    }


class UnitPickerWidget(forms.Widget):
    """Form widget for a `ModelChoiceField` / `ModelMultipleChoiceField` of units whose
    `to_field_name` is `code`; the field's queryset is what the picker offers."""

    template_name = "units/widgets/unit_picker.html"

    def __init__(self, *, multiple: bool = True, attrs=None):
        super().__init__(attrs)
        self.multiple = multiple
        self.queryset = None

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if value in (None, ""):
            value = []
        elif not isinstance(value, (list, tuple)):
            value = [value]
        units = self.queryset if self.queryset is not None else []
        context.update(
            picker_context(
                name=name,
                units=units,
                selected=[getattr(v, "code", v) for v in value],
                multiple=self.multiple,
                html_id=context["widget"]["attrs"].get("id", ""),
                required=self.is_required,
            )
        )
        return context

    def value_from_datadict(self, data, files, name):
        if self.multiple:
            getter = getattr(data, "getlist", None)
            return getter(name) if getter else data.get(name)
        return data.get(name)

    def value_omitted_from_data(self, data, files, name):
        return False if self.multiple else name not in data


def use_picker(field: forms.ModelChoiceField, *, multiple: bool) -> None:
    """Give a unit field the picker, offering the field's current queryset."""
    widget = UnitPickerWidget(multiple=multiple)
    widget.is_required = field.required
    widget.queryset = field.queryset
    field.widget = widget
