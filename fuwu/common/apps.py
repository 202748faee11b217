from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "fuwu.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from fuwu.common import checks  # noqa: F401 - registers the CJK font check
