from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "grassroots.devices"
    label = "devices"
    verbose_name = "Thiết bị"

    def ready(self):
        from . import maps  # noqa: F401  (registers the tile setting's system check)
