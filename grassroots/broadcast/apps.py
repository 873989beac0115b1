from django.apps import AppConfig


class BroadcastConfig(AppConfig):
    name = "grassroots.broadcast"
    label = "broadcast"
    verbose_name = "Đài truyền thanh, lịch phát"

    def ready(self) -> None:
        from . import signals

        signals.connect()
