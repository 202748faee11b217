from django.http import HttpRequest


def display(request: HttpRequest) -> dict[str, bool]:
    return {"large_display": getattr(request, "large_display", False)}
