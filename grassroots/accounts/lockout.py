"""What a locked-out login attempt gets: problem+json on the API, a page in the console."""

from django.shortcuts import render

from grassroots.core.errors import problem_response

MESSAGE = (
    "Tài khoản tạm khoá vì đăng nhập sai nhiều lần. Hãy thử lại sau 15 phút "
    "hoặc liên hệ quản trị viên."
)


def lockout_response(request, *args, **kwargs):
    if request.path.startswith("/api/"):
        return problem_response(429, MESSAGE, request=request)
    return render(request, "accounts/lockout.html", {"message": MESSAGE}, status=429)
