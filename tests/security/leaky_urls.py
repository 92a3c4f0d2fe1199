"""The project's URLs plus one a careless change could add: a view without a login check."""

from django.http import HttpResponse
from django.urls import path

from mrblue.project.urls import urlpatterns as project_urlpatterns


def forgotten_view(request):
    """Answers anyone."""
    return HttpResponse("page settings for anyone")


urlpatterns = [*project_urlpatterns, path("editor-extras/", forgotten_view, name="extras")]
