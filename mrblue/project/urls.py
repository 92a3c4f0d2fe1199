"""Root URL configuration."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from mrblue import api, views
from mrblue.engine.urls import http_patterns as engine_patterns

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="editor:page_list"), name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("editor/", include("editor.urls")),
    path(
        "editor/<slug:slug>/conversations/",
        views.page_conversations,
        name="page_conversations",
    ),
    path("api/realtime/session", api.realtime_session, name="realtime_session"),
    path("api/realtime/instructions", api.realtime_instructions, name="realtime_instructions"),
    # The built-in realtime engine, in the OpenAI API's paths (here or forwarded to workers).
    *engine_patterns(),
]
