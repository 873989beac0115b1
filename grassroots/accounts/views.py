"""Console pages for accounts: login and user management within scope."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render

from grassroots.units.models import Unit
from grassroots.units.widgets import UnitPickerWidget

from . import actions
from .choices import PERMISSIONS
from .forms import LoginForm, UserCreateForm
from .models import Role, RoleAssignment
from .policies import require


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@login_required
def user_list(request):
    """Users holding roles inside the admin's scope, with a form to add one."""
    require(request.user, "accounts.manage")
    form = UserCreateForm(request.POST or None)
    units = _units(request.user)
    picker = UnitPickerWidget(multiple=False)
    picker.queryset = units
    picker.is_required = False
    form.fields["unit_code"].widget = picker
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = actions.create_user(
                actor=request.user,
                username=data["username"],
                password=data["password"],
                full_name=data["full_name"],
                email=data["email"],
                role=data["role"].slug if data["role"] else None,
                unit_code=data["unit_code"] or None,
            )
        except ValidationError as exc:
            for field, errs in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
                form.add_error(field if field in form.fields else None, errs)
        except Http404:
            form.add_error("unit_code", "Mã đơn vị không có hoặc nằm ngoài phạm vi của bạn.")
        else:
            messages.success(request, f"Đã tạo người dùng {user.username}.")
            return redirect("user-list")
    users = (
        actions.users_in_scope(request.user)
        .order_by("username")
        .prefetch_related("assignments__role", "assignments__unit")[:500]
    )
    assign_to = request.GET.get("phan-quyen", "")
    return render(
        request,
        "accounts/users.html",
        {
            "users": users,
            "form": form,
            "roles": Role.objects.all(),
            "units": units,
            "assign_to": int(assign_to) if assign_to.isdigit() else None,
        },
    )


def _units(user):
    return Unit.objects.restrict(user, "accounts.manage").current().order_by("depth", "name")


@login_required
def user_assign_chosen(request):
    """The one role-assignment form of the users page: the user is chosen in the form."""
    require(request.user, "accounts.manage")
    user_id = request.POST.get("user_id", "")
    if not user_id.isdigit():
        messages.error(request, "Hãy chọn người dùng cần phân quyền.")
        return redirect("user-list")
    return user_assign(request, int(user_id))


@login_required
def user_assign(request, user_id: int):
    require(request.user, "accounts.manage")
    user = get_object_or_404(actions.users_in_scope(request.user), pk=user_id)
    if request.method == "POST":
        try:
            actions.assign_role(
                actor=request.user,
                user=user,
                role=request.POST.get("role", ""),
                unit_code=request.POST.get("unit_code", "").strip(),
            )
            messages.success(request, "Đã phân quyền.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except Http404:
            messages.error(request, "Hãy chọn một đơn vị trong phạm vi quản trị của bạn.")
    return redirect("user-list")


@login_required
def assignment_delete(request, assignment_id: int):
    if request.method == "POST":
        get_object_or_404(
            RoleAssignment.objects.restrict(request.user, "accounts.manage"), pk=assignment_id
        )
        try:
            actions.remove_assignment(actor=request.user, assignment_id=assignment_id)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Đã gỡ quyền.")
    return redirect("user-list")


@login_required
def role_list(request):
    """Roles and their permission sets; province admins may edit them."""
    require(request.user, "accounts.manage")
    if request.method == "POST":
        role = get_object_or_404(Role, pk=request.POST.get("role_id"))
        try:
            actions.set_role_permissions(
                actor=request.user, role=role, permissions=request.POST.getlist("permissions")
            )
            messages.success(request, f"Đã cập nhật quyền của vai trò {role.name}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("role-list")
    return render(
        request,
        "accounts/roles.html",
        {
            "roles": Role.objects.all(),
            "permissions": sorted(PERMISSIONS.items(), key=lambda kv: kv[0]),
        },
    )
