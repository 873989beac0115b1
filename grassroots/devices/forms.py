from django import forms
from django.utils.translation import gettext_lazy as _


class InventoryUploadForm(forms.Form):
    file = forms.FileField(label=_("Tệp kiểm kê (.xlsx)"))
