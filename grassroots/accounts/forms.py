"""Console forms for accounts."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .models import Role


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("Sai tên đăng nhập hoặc mật khẩu. Lưu ý chữ hoa, chữ thường."),
        "inactive": _("Tài khoản này đã bị khoá."),
    }


class UserCreateForm(forms.Form):
    username = forms.RegexField(
        label=_("Tên đăng nhập"),
        max_length=150,
        regex=r"^[A-Za-z0-9._@+-]{3,150}$",
        error_messages={"invalid": _("Chỉ dùng chữ không dấu, số và . _ @ + -, từ 3 ký tự.")},
    )
    full_name = forms.CharField(label=_("Họ và tên"), max_length=200, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(label=_("Mật khẩu"), widget=forms.PasswordInput, min_length=8)
    role = forms.ModelChoiceField(
        label=_("Vai trò"), queryset=Role.objects.all(), to_field_name="slug", required=False
    )
    unit_code = forms.CharField(label=_("Đơn vị được phân quyền"), max_length=16, required=False)
