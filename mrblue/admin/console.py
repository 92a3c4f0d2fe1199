""" "Try it here": a console on the page's and the profile's admin change forms that talks to
Mr. Blue with the settings on the form, saved or not, on a scratch copy of a page.

The browser runs the editor's own voice panel (static/mrblue/admin-console.js mounts it) and
holds the scratch copy (static/editor/scratch-page.js). The server's part, under the object's
admin URL (`.../<id>/console/...`), for staff with change permission on that object:

- `session/` mints as `POST /api/realtime/session` does (`api.mint_and_log`, the same rate
  limit), from the form's current values: they are bound to the admin's own change form and
  inline formsets and validated exactly as saving them would be, then the session object is
  built by `build_session` for the scratch copy's blocks. Nothing is saved.
- `instructions/` rebuilds the instructions for a new selection, from the same values.
- `tools/` makes one page edit (`editor.operations`, the editor's own edits and checks) on the
  blocks it is sent and answers the new blocks; it stores nothing. Undo and Redo are the
  scratch copy's own history, in the browser.
- `conversations/<id>/` draws a trial's dialogue, tool calls and turn timings with the
  conversation page's own fields; `pages/<id>/` gives a page's blocks (the profile's console
  tries a profile on a page of the admin's choice).

Trials are logged, as conversations marked `trial`: the console shows what the conversation
page shows because it is the same record, drawn the same way (turn timings included); an
admin can open a trial later and see the exact session object the unsaved settings made; and
what a trial costs with OpenAI is counted like any other call. The mark keeps trials out of
what editors see and of the profile's latency median.
"""

import copy
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.forms.formsets import all_valid
from django.http import JsonResponse, QueryDict
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.datastructures import MultiValueDict
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from editor import operations
from editor.blocks import validate_blocks
from editor.models import Page
from mrblue.api import mint_and_log, mint_limiter, read_continued, read_selected
from mrblue.instructions import InstructionsError
from mrblue.models import Conversation, PageAssistant
from mrblue.session import build_instructions, build_session
from mrblue.shared.errors import json_error
from mrblue.shared.json_input import read_json_object
from mrblue.shared.rate_limits import RateLimiter, retry_after

# The editor's own limit on page changes, counted under the same key.
tool_limiter = RateLimiter("MRBLUE_TOOL_CALLS_PER_MINUTE")
VIEW_PAGES = ("editor.view_page", "editor.change_page")


class SettingsInvalid(Exception):
    """The form's values would not save; the message says what to fix, field by field."""


@dataclass
class ConsoleRequest:
    """What the console sends: the change form's fields, the scratch copy, the selection,
    the conversation a reconnect continues, and (the profile's console) the page tried on."""

    form: QueryDict
    blocks: list
    selected: str | None = None
    conversation: int | None = None
    page: int | None = None


def read_console_request(raw: bytes) -> ConsoleRequest:
    """Parse `{"form": [[name, value]...], "blocks": [...], "selected", "conversation",
    "page"}`; ValueError says what is wrong."""
    body = read_json_object(raw, '{"form": [[name, value], ...], "blocks": []}')
    return ConsoleRequest(
        form=_form_data(body.get("form")),
        blocks=_scratch_blocks(body.get("blocks")),
        selected=read_selected(body),
        conversation=read_continued(body),
        page=_page_id(body.get("page")),
    )


def _form_data(pairs) -> QueryDict:
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    shape = '"form" must be the change form\'s fields as [[name, value], ...].'
    if not isinstance(pairs, list) or (limit is not None and len(pairs) > limit):
        raise ValueError(shape)
    data = QueryDict(mutable=True)
    for pair in pairs:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValueError(shape)
        if not all(isinstance(value, str) for value in pair):
            raise ValueError(shape)
        data.appendlist(*pair)
    return data


def _scratch_blocks(blocks) -> list:
    try:
        return validate_blocks(blocks)
    except ValidationError as error:
        raise ValueError(f'"blocks" is not a page\'s content: {error.messages[0]}') from None


def _page_id(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise ValueError('"page" must be the id of the page to try it on.')
    return value


def errors_in_words(form, formsets) -> str:
    """Every error of a change form and its inline formsets, as one sentence per field."""
    said = []

    def add(bound_form, errors):
        for name, messages in errors.items():
            label = bound_form[name].label if name in bound_form.fields else "The form"
            said.append(f"{label}: {' '.join(messages)}")

    add(form, form.errors)
    for formset in formsets:
        for each in formset.forms:
            add(each, each.errors)
        said.extend(formset.non_form_errors())
    return "These settings would not save; fix them to try them. " + " ".join(said)


class ConsoleMixin:
    """Gives a ModelAdmin's change form the console ("Try it here"): its endpoints and what
    its template (admin/mrblue/console.html) needs. The page's and the profile's admins say
    how the form's values become the page and the profile a session is built from."""

    console_kind = ""  # "page" or "profile"

    def trial_settings(self, request, obj, console: ConsoleRequest, form, formsets):
        """(page, profile) a trial's session is built from; raise ValueError if unusable."""
        raise NotImplementedError

    def console_pages(self, request, obj) -> list[dict]:
        """The pages the console may try the settings on (`id`, `title`), the first chosen."""
        return []

    # --- the change form ---------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The change form, with the console's settings for its template."""
        console = self.console_context(request, object_id)
        context = {**(extra_context or {}), "mrblue_console": console}
        return super().change_view(request, object_id, form_url, context)

    def console_context(self, request, object_id) -> dict | None:
        """What the console's script needs (None: no console for this user or object)."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_change_permission(request, obj):
            return None
        url = self._console_url(obj)
        pages = self.console_pages(request, obj)
        blocks = obj.content if self.console_kind == "page" else None
        return {
            "kind": self.console_kind,
            "form": f"{self.opts.model_name}_form",
            "urls": {name: f"{url}{name}/" for name in ("session", "instructions", "tools")}
            | {"conversations": f"{url}conversations/", "pages": f"{url}pages/"},
            "blocks": blocks,
            "title": str(obj) if self.console_kind == "page" else None,
            "pages": pages,
        }

    def _console_url(self, obj) -> str:
        opts = self.opts
        change = reverse(
            f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
        )
        return change.removesuffix("change/") + "console/"

    def get_urls(self):
        """The console's endpoints, before the admin's own (whose last pattern takes all)."""
        name = f"{self.opts.app_label}_{self.opts.model_name}_console"
        routes = {
            "session": ("session", require_POST, self.console_session),
            "instructions": ("instructions", require_POST, self.console_instructions),
            "tools": ("tools", require_POST, self.console_tools),
            "conversation": (
                "conversations/<int:conversation_id>",
                require_GET,
                self.console_conversation,
            ),
            "page": ("pages/<int:page_id>", require_GET, self.console_page),
        }
        urls = []
        for kind, (route, method, view) in routes.items():
            wrapped = never_cache(method(view))
            wrapped.model_admin = self  # as the admin's own views are marked
            urls.append(path(f"<path:object_id>/console/{route}/", wrapped, name=f"{name}_{kind}"))
        return [*urls, *super().get_urls()]

    # --- who may use it ------------------------------------------------------------------

    def console_object(self, request, object_id):
        """The object whose console this is, for staff with change permission on it; or the
        JSON error answer."""
        if not request.user.is_authenticated:
            return json_error(401, "not_authenticated", "Log in to the admin again.")
        if not self.admin_site.has_permission(request):
            return json_error(403, "forbidden", "Only staff may use the admin's console.")
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return json_error(404, "not_found", f"There is no such {self.opts.verbose_name}.")
        if not self.has_change_permission(request, obj):
            message = f"You may not change this {self.opts.verbose_name}, so you cannot try it."
            return json_error(403, "forbidden", message)
        return obj

    def _console_call(self, request, object_id):
        """(object, request body) for a permitted console request; or the error answer."""
        obj = self.console_object(request, object_id)
        if isinstance(obj, JsonResponse):
            return obj
        try:
            return obj, read_console_request(request.body)
        except ValueError as error:
            return json_error(400, "bad_request", str(error))

    # --- the form's values -----------------------------------------------------------------

    def bound_change_form(self, request, obj, data: QueryDict):
        """The change form and inline formsets bound to `data` and validated as the admin's
        change view does with a POST (`_changeform_view`), so they pass exactly when saving
        would; nothing is saved. Returns (form, formsets, valid)."""
        bound = copy.copy(request)  # the admin's formsets read the data from request.POST
        bound.POST, bound._files = data, MultiValueDict()
        form = self.get_form(bound, obj, change=True)(data, {}, instance=obj)
        formsets, _ = self._create_formsets(bound, form.instance, change=True)
        form_valid = form.is_valid()
        return form, formsets, all_valid(formsets) and form_valid

    def trial(self, request, obj, console: ConsoleRequest):
        """(page, profile) for the form's values; SettingsInvalid or ValueError if unusable."""
        form, formsets, valid = self.bound_change_form(request, obj, console.form)
        if not valid:
            raise SettingsInvalid(errors_in_words(form, formsets))
        return self.trial_settings(request, obj, console, form, formsets)

    def _trial_or_error(self, request, obj, console):
        try:
            return self.trial(request, obj, console)
        except SettingsInvalid as error:
            return json_error(400, "invalid_settings", str(error))
        except ValueError as error:
            return json_error(400, "bad_request", str(error))

    # --- the endpoints ---------------------------------------------------------------------

    async def console_session(self, request, object_id):
        """`POST .../console/session/`: a client secret for a trial with the form's values."""
        found = await sync_to_async(self._console_call)(request, object_id)
        if isinstance(found, JsonResponse):
            return found
        obj, console = found
        user = await request.auser()
        wait = await mint_limiter.ahit(f"mint:{user.pk}")
        if wait is not None:
            message = "Too many sessions started; wait a moment."
            return json_error(429, "rate_limited", message, retry_after(wait))
        built = await sync_to_async(self._trial_session)(request, obj, console, user)
        if isinstance(built, JsonResponse):
            return built
        page, profile, session = built
        return await mint_and_log(
            request, user, page, session, profile, console.conversation, trial=True
        )

    def _trial_session(self, request, obj, console, user):
        settings_ = self._trial_or_error(request, obj, console)
        if isinstance(settings_, JsonResponse):
            return settings_
        page, profile = settings_
        try:
            return page, profile, build_session(page, user, console.selected, profile)
        except InstructionsError as error:
            return json_error(500, "instructions_invalid", str(error))

    def console_instructions(self, request, object_id):
        """`POST .../console/instructions/`: the trial's instructions for a new selection."""
        found = self._console_call(request, object_id)
        if isinstance(found, JsonResponse):
            return found
        obj, console = found
        settings_ = self._trial_or_error(request, obj, console)
        if isinstance(settings_, JsonResponse):
            return settings_
        page, profile = settings_
        try:
            text = build_instructions(page, request.user, console.selected, profile)
        except InstructionsError as error:
            return json_error(500, "instructions_invalid", str(error))
        return JsonResponse({"instructions": text})

    def console_tools(self, request, object_id):
        """`POST .../console/tools/` `{"blocks", "name", "arguments"}`: one edit made on the
        blocks sent, answered as `{"ok": true, "result", "blocks"}`; nothing is stored."""
        obj = self.console_object(request, object_id)
        if isinstance(obj, JsonResponse):
            return obj
        wait = tool_limiter.hit(f"tool:{request.user.pk}")
        if wait is not None:
            message = "Too many page changes in a minute; wait a moment."
            return json_error(429, "rate_limited", message, retry_after(wait))
        try:
            example = '{"blocks": [...], "name": <tool>, "arguments": {...}}'
            body = read_json_object(request.body, example)
            blocks = _scratch_blocks(body.get("blocks"))
        except ValueError as error:
            return json_error(400, "bad_request", str(error))
        name, arguments = body.get("name"), body.get("arguments", {})
        try:
            if name not in operations.EDITS:
                raise operations.ToolError(f"{name} does not change the page's blocks here.")
            operations.check_arguments(name, arguments)
            blocks, said = operations.apply(blocks, name, arguments)
        except operations.ToolError as error:
            return json_error(400, "tool_error", str(error))
        return JsonResponse({"ok": True, "result": said, "blocks": blocks})

    def console_conversation(self, request, object_id, conversation_id):
        """`GET .../console/conversations/<id>/`: the user's own trial as the conversation
        page draws it (dialogue, tool calls, turn timings), as a piece of HTML."""
        obj = self.console_object(request, object_id)
        if isinstance(obj, JsonResponse):
            return obj
        conversation = Conversation.objects.filter(
            pk=conversation_id, user=request.user, trial=True
        ).first()
        if conversation is None:
            return json_error(404, "not_found", "There is no such trial of yours.")
        shown = self.admin_site.get_model_admin(Conversation)
        context = {
            "conversation": conversation,
            "dialogue": shown.dialogue(conversation),
            "tool_calls": shown.tool_calls(conversation),
            "latency": shown.latency(conversation),
            "url": reverse(
                f"{self.admin_site.name}:mrblue_conversation_change", args=[conversation.pk]
            ),
        }
        return JsonResponse({"html": render_to_string("admin/mrblue/console_record.html", context)})

    def console_page(self, request, object_id, page_id):
        """`GET .../console/pages/<id>/`: a page's title and blocks, to start a scratch copy."""
        obj = self.console_object(request, object_id)
        if isinstance(obj, JsonResponse):
            return obj
        page = _viewable_pages(request.user).filter(pk=page_id).first()
        if page is None:
            return json_error(404, "page_not_found", "There is no such page you may view.")
        return JsonResponse({"id": page.pk, "title": page.title, "blocks": page.content})


def _viewable_pages(user):
    """The pages `user` may look at in the admin."""
    if any(user.has_perm(perm) for perm in VIEW_PAGES):
        return Page.objects.select_related("assistant__profile")
    return Page.objects.none()


class PageConsoleMixin(ConsoleMixin):
    """The page's console: its title, slug and Mr. Blue's settings on the page as on the form,
    on a scratch copy of its content."""

    console_kind = "page"

    def trial_settings(self, request, obj, console, form, formsets):
        """The form's page (unsaved) holding the scratch blocks, with the profile its
        settings on the form pick."""
        page = form.instance
        page.content = console.blocks
        for formset in formsets:
            if formset.model is PageAssistant and formset.forms:
                # Unsaved, as the inline form has it (a blank one: the defaults). The
                # form's page field points it at the page already; said here, not left to that.
                page.assistant = formset.forms[0].instance
        return page, PageAssistant.for_page(page).profile_or_default()


class ProfileConsoleMixin(ConsoleMixin):
    """The profile's console: the profile as on the form, tried on a page of the admin's
    choice (with that page's own instructions, as saved), on a scratch copy of its content."""

    console_kind = "profile"

    def console_pages(self, request, obj):
        """Pages the user may view, those using this profile first."""
        pages = list(_viewable_pages(request.user).values("id", "title", "assistant__profile"))
        pages.sort(key=lambda p: p["assistant__profile"] != obj.pk)
        return [{"id": p["id"], "title": p["title"]} for p in pages]

    def trial_settings(self, request, obj, console, form, formsets):
        """The page chosen (its scratch copy) and the form's profile (unsaved)."""
        if console.page is None:
            raise ValueError('Say which page to try the profile on ("page": <id>).')
        page = _viewable_pages(request.user).filter(pk=console.page).first()
        if page is None:
            raise ValueError("There is no such page you may view.")
        page.content = console.blocks
        return page, form.instance
