"""A page's form as a browser would send it (FormData's pairs), read from the HTML served."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    """Collects the successful controls of the form with `form_id`, in document order."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.pairs: list[list[str]] = []
        self.textarea: list | None = None  # [name, text so far]
        self.select: dict | None = None  # {"name", "first", "chosen"}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.pairs.append([name, attrs.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "textarea" and name:
            self.textarea = [name, ""]
        elif tag == "select" and name:
            self.select = {"name": name, "first": None, "chosen": None}
        elif tag == "option" and self.select is not None:
            value = attrs.get("value", "")
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in attrs:
                self.select["chosen"] = value

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            # Browsers drop one newline right after <textarea>.
            self.pairs.append([name, text[1:] if text.startswith("\n") else text])
            self.textarea = None
        elif tag == "select" and self.select is not None:
            chosen = self.select["chosen"]
            value = chosen if chosen is not None else self.select["first"]
            if value is not None:
                self.pairs.append([self.select["name"], value])
            self.select = None


def form_pairs(html: str, form_id: str) -> list[list[str]]:
    """The [name, value] pairs the form with `form_id` would send, as `new FormData(form)`."""
    reader = _FormReader(form_id)
    reader.feed(html)
    return reader.pairs


def with_values(pairs: list[list[str]], **values: str) -> list[list[str]]:
    """`pairs` with the named fields set to new values (as typed into the form); each must be
    a field of the form."""
    missing = set(values) - {name for name, _ in pairs}
    assert not missing, f"the form has no field {', '.join(sorted(missing))}"
    return [[name, values.get(name, value)] for name, value in pairs]
