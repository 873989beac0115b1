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


@register.inclusion_tag("units/widgets/unit_picker.html", takes_context=True)
def unit_filter(context, name, permission, selected="", html_id=""):
    """A one-unit filter over the units the user holds `permission` on (empty = all)."""
    from ..models import Unit

    user = context["request"].user
    units = Unit.objects.restrict(user, permission).current().order_by("depth", "name")
    return picker_context(
        name=name,
        units=units,
        selected=[selected] if selected else [],
        multiple=False,
        html_id=html_id,
    )
