"""URLs of the visual editor, under /editor/."""

from django.urls import path

from editor import views

app_name = "editor"

urlpatterns = [
    path("", views.page_list, name="page_list"),
    path("<slug:slug>/", views.page_editor, name="page_editor"),
    path("<slug:slug>/tools/", views.run_tool_view, name="run_tool"),
    path(
        "<slug:slug>/revisions/<int:revision_id>/restore/",
        views.restore_revision_view,
        name="restore_revision",
    ),
]
