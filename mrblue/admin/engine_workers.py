"""The admin's view of the engine workers: who is alive, how loaded, how many sessions.

The records come from the directory (Redis or the database, as the workers publish them), so
the page is a live view, not a list of rows to edit.
"""

import time

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from mrblue.engine.engine_settings import engine_settings
from mrblue.engine.models import EngineWorker
from mrblue.engine.workers.directory import directory


@admin.register(EngineWorker)
class EngineWorkerAdmin(admin.ModelAdmin):
    """Read-only: the live workers of this site's pool, least loaded first."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        """The live workers, from the directory."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        now = time.time()
        workers = [
            {
                "record": record,
                "load_percent": round(record.load * 100),
                "seen_ago": round(record.age, 1),  # by the directory's own clock
                "up_minutes": round((now - record.started_at) / 60),
            }
            for record in directory().live()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Engine workers",
            "opts": self.model._meta,
            "workers": workers,
            "role": engine_settings.ENGINE_ROLE,
            "pool": engine_settings.ENGINE_POOL,
            "threshold_percent": round(engine_settings.ENGINE_LOAD_THRESHOLD * 100),
        }
        return TemplateResponse(request, "admin/mrblue/engine_workers.html", context)
