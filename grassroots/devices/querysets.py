"""Reusable reads of the device registry."""

from grassroots.core.querysets import RestrictedManager, RestrictedQuerySet

from .choices import DeviceKind, Technology


class DeviceQuerySet(RestrictedQuerySet):
    def ip(self):
        """Enabled loudspeaker clusters on IP: the devices that play a signed manifest.

        E-boards are IP devices too, but play the signage app's board manifest.
        """
        return self.filter(technology=Technology.IP_4G, enabled=True, kind=DeviceKind.SPEAKER)

    def mark_dirty(self) -> int:
        """Flag these devices for manifest recompilation (call inside the changing transaction)."""
        return self.ip().filter(manifest_dirty=False).update(manifest_dirty=True)


class DeviceManager(RestrictedManager.from_queryset(DeviceQuerySet)):  # type: ignore[misc]
    pass
