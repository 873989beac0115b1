"""Helpers shared by the console's forms."""

from django.core.exceptions import ValidationError


def add_action_errors(form, exc: ValidationError) -> None:
    """Put an action's ValidationError next to the form's fields: {field: [message]} entries
    on their field, the rest (unknown fields, or a plain message) on top of the form."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, msgs in errors.items():
        form.add_error(field if field in form.fields else None, msgs)
