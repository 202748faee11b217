"""The site's URLs plus one view that fails, to see the 500 page (tests/common/test_error_pages.py)."""

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.urls import path

from fuwu.urls import handler500
from fuwu.urls import urlpatterns as site


def boom(request: HttpRequest) -> HttpResponse:
    raise DatabaseError("the database went away")


urlpatterns = [path("boom/", boom), *site]

__all__ = ["handler500", "urlpatterns"]
