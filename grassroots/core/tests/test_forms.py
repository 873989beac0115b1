"""core.forms.add_action_errors: an action's errors land next to the right field."""

from django import forms
from django.core.exceptions import ValidationError

from grassroots.core.forms import add_action_errors


class NameForm(forms.Form):
    name = forms.CharField()


def test_field_errors_go_to_their_field_and_the_rest_on_top():
    form = NameForm({"name": "x"})
    assert form.is_valid()
    add_action_errors(form, ValidationError({"name": "Tên đã có.", "other": "Sai."}))
    assert form.errors["name"] == ["Tên đã có."]
    assert form.non_field_errors() == ["Sai."]


def test_a_plain_message_goes_on_top():
    form = NameForm({"name": "x"})
    assert form.is_valid()
    add_action_errors(form, ValidationError("Không được."))
    assert form.non_field_errors() == ["Không được."]
