from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "grassroots.core"
    label = "core"
    verbose_name = "Lõi hệ thống"

    def ready(self):
        from django_tasks_db.compat import task_enqueued

        from . import doorbell

        task_enqueued.connect(doorbell.on_task_enqueued, dispatch_uid="grassroots-doorbell")
