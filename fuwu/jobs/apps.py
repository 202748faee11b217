from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "fuwu.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from fuwu.jobs import checks  # noqa: F401 - registers the schedule check

        # Each app declares its kinds of job in its own tasks.py (as admin.py declares admin pages).
        autodiscover_modules("tasks")
