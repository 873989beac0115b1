"""`{% unit_picker "name" units selected multiple=True %}` renders the console's unit picker."""

from django import template

from ..widgets import picker_context

register = template.Library()


@register.inclusion_tag("units/widgets/unit_picker.html")
def unit_picker(name, units, selected=None, multiple=True, html_id="", required=False):
    if isinstance(selected, str):
        selected = [selected] if selected else []
    return picker_context(
        name=name,
        units=units,
        selected=selected or [],
        multiple=multiple,
        html_id=html_id,
        required=required,
    )
