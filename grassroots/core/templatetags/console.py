"""Console template helpers: Bootstrap-styled form fields, durations and times of day."""

from django import forms, template

from grassroots.core import durations

register = template.Library()


def css_for(widget) -> str:
    if isinstance(widget, (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple)):
        return "form-check-input"
    if isinstance(widget, forms.Select):
        return "form-select"
    return "form-control"


@register.filter
def bs(field):
    """Render a bound field's widget with the Bootstrap class its kind needs."""
    widget = field.field.widget
    css = " ".join(c for c in (widget.attrs.get("class", ""), css_for(widget)) if c)
    invalid = " is-invalid" if field.errors else ""
    return field.as_widget(attrs={"class": css + invalid})


@register.inclusion_tag("core/_fields.html")
def form_fields(form):
    """Every visible field as label, widget, help and errors, Bootstrap style."""
    rows = []
    for field in form.visible_fields():
        widget = field.field.widget
        rows.append({"field": field, "check": isinstance(widget, forms.CheckboxInput)})
    return {"rows": rows, "hidden": form.hidden_fields()}


@register.filter
def duration(seconds):
    """Seconds in words: '25 giây', '3 phút 20 giây'."""
    return durations.words(seconds) if seconds not in (None, "") else ""


@register.filter
def clock(moment):
    """A time of day, 'HH:MM', with seconds only when they are not zero ('02:20:25')."""
    return durations.clock(moment)


@register.filter
def sees_technical(user) -> bool:
    """Whether 'Chi tiết kỹ thuật' (raw rules, hashes, key ids) is shown: auditors only."""
    from grassroots.accounts.scope import has_perm_anywhere

    return has_perm_anywhere(user, "core.audit")
