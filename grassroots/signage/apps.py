from django.apps import AppConfig


class SignageConfig(AppConfig):
    name = "grassroots.signage"
    label = "signage"
    verbose_name = "Bảng tin điện tử"

    def ready(self) -> None:
        from . import signals

        signals.connect()
