"""HTTP authentication of devices: `Authorization: Bearer gd_...` from enrolment."""

from ninja.security import HttpBearer

from .provisioning import authenticate_token


class DeviceTokenAuth(HttpBearer):
    """Sets `request.device`; the request has no user."""

    def authenticate(self, request, token: str):
        device = authenticate_token(token)
        if device is None:
            return None
        request.device = device
        return device


def acting_device(request):
    """The device behind a device-token request, or None for a user request."""
    return getattr(request, "device", None)
