from django.apps import AppConfig


class ResidentsConfig(AppConfig):
    name = "fuwu.residents"
    label = "residents"
    verbose_name = "Resident registry"

    def ready(self) -> None:
        from fuwu.residents import checks  # noqa: F401 - registers the PII key checks
