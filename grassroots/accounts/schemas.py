"""API schemas of accounts."""

from datetime import datetime

from ninja import Field, Schema


class TokenRequest(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=256)
    name: str = Field("", max_length=100)


class TokenIssued(Schema):
    token: str
    id: int
    expires_at: datetime | None = None


class TokenRead(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class AssignmentRead(Schema):
    id: int
    role: str
    role_name: str
    unit_code: str
    unit_name: str


class MeRead(Schema):
    id: int
    username: str
    full_name: str
    email: str
    is_superuser: bool
    assignments: list[AssignmentRead]
    permissions: dict[str, list[str]]


class UserRead(Schema):
    id: int
    username: str
    full_name: str
    email: str
    is_active: bool
    assignments: list[AssignmentRead]


class UserCreate(Schema):
    username: str = Field(..., min_length=3, max_length=150, pattern=r"^[A-Za-z0-9._@+-]+$")
    password: str = Field(..., min_length=8, max_length=256)
    full_name: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    role: str | None = None
    unit_code: str | None = None


class AssignmentCreate(Schema):
    role: str
    unit_code: str
