"""Accounts API: bearer tokens, who am I, and user management within scope."""

from django.contrib.auth import authenticate
from django.shortcuts import get_object_or_404
from ninja import Router
from ninja.responses import Status

from grassroots.core.errors import Problem

from . import actions
from .models import RoleAssignment, User
from .policies import require
from .schemas import (
    AssignmentCreate,
    AssignmentRead,
    MeRead,
    TokenIssued,
    TokenRead,
    TokenRequest,
    UserCreate,
    UserRead,
)
from .scope import permission_paths

router = Router(tags=["accounts"])


def assignment_rows(user) -> list[dict]:
    qs = RoleAssignment.objects.filter(user=user).select_related("role", "unit")
    return [
        {
            "id": a.id,
            "role": a.role.slug,
            "role_name": a.role.name,
            "unit_code": a.unit.code,
            "unit_name": a.unit.name,
        }
        for a in qs
    ]


def user_row(user) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "is_active": user.is_active,
        "assignments": assignment_rows(user),
    }


@router.post("/auth/token", auth=None, response={200: TokenIssued}, summary="Lấy bearer token")
def create_token(request, data: TokenRequest):
    user = authenticate(request, username=data.username, password=data.password)
    if getattr(request, "axes_locked_out", False):
        raise Problem(
            429, "Tài khoản tạm khoá vì đăng nhập sai nhiều lần; hãy thử lại sau 15 phút."
        )
    if user is None or not user.is_active:
        raise Problem(401, "Sai tên đăng nhập hoặc mật khẩu.")
    token, raw = actions.issue_token(user=user, name=data.name or "api")
    return {"token": raw, "id": token.id, "expires_at": token.expires_at}


@router.get("/auth/tokens", response=list[TokenRead], summary="Các token của tôi")
def list_tokens(request):
    return list(request.user.api_tokens.all())


@router.delete("/auth/tokens/{token_id}", response=TokenRead, summary="Thu hồi token")
def revoke_token(request, token_id: int):
    return actions.revoke_token(user=request.user, token_id=token_id)


@router.get("/me", response=MeRead, summary="Tài khoản hiện tại")
def me(request):
    user = request.user
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "is_superuser": user.is_superuser,
        "assignments": assignment_rows(user),
        "permissions": permission_paths(user),
    }


@router.get("/users", response=list[UserRead], summary="Người dùng trong phạm vi")
def list_users(request):
    require(request.user, "accounts.manage")
    users = actions.users_in_scope(request.user).order_by("username")[:500]
    return [user_row(u) for u in users]


@router.post("/users", response={201: UserRead}, summary="Tạo người dùng")
def create_user(request, data: UserCreate):
    user = actions.create_user(actor=request.user, **data.dict())
    return Status(201, user_row(user))


@router.get("/users/{user_id}", response=UserRead)
def get_user(request, user_id: int):
    require(request.user, "accounts.manage")
    user = get_object_or_404(actions.users_in_scope(request.user), pk=user_id)
    return user_row(user)


@router.post("/users/{user_id}/assignments", response={201: AssignmentRead})
def add_assignment(request, user_id: int, data: AssignmentCreate):
    require(request.user, "accounts.manage")
    user = get_object_or_404(User, pk=user_id)
    a = actions.assign_role(actor=request.user, user=user, role=data.role, unit_code=data.unit_code)
    return Status(
        201,
        {
            "id": a.id,
            "role": a.role.slug,
            "role_name": a.role.name,
            "unit_code": a.unit.code,
            "unit_name": a.unit.name,
        },
    )


@router.delete("/assignments/{assignment_id}", response={204: None})
def delete_assignment(request, assignment_id: int):
    actions.remove_assignment(actor=request.user, assignment_id=assignment_id)
    return Status(204, None)
