"""The grammar of spoken editing requests: a table, one row per phrasing (this module is
the table, and long because it is one: the code that reads it is `intents`).

Each row is `(intent, template[, fixed slots])`; a template is a regular expression over the
normalized request with `{slot}` placeholders (`intents.SLOTS` says what each matches and
means). `GRAMMAR` is tried in order and the first row that matches and reads wins;
`FALLBACK` is tried last, once the near-miss reading failed too; `ANSWERS` are the short
replies to the brain's questions; `UNSUPPORTED` what the page tools cannot do.
"""

import re

GRAMMAR = (
    (
        "undo",
        r"(?:undo|revert|reverse|cancel)(?: (?:that|it|this|the last change|"
        r"the last edit|my last change|what you just did|the change))?"
        r"|go back|take (?:that|it) back|never ?mind(?:,? undo(?: that)?)?|"
        r"change it back|put it back the way it was|oops,? undo(?: that)?",
    ),
    (
        "redo",
        r"redo(?: (?:that|it|this|the last change|the change))?|"
        r"(?:re-?apply|restore) (?:that|the) (?:change|edit)|bring (?:that|it) back"
        r"|do that again|undo (?:the|that|your) undo",
    ),
    (
        "greet",
        r"(?:hi|hello|hey|hiya|howdy|good (?:morning|afternoon|evening)|greetings)"
        r"(?: there)?(?:,? (?:mr\.? blue|mister blue|blue))?|"
        r"(?:how are you|how's it going)(?: doing)?(?: today)?",
    ),
    (
        "capabilities",
        r"(?:what can you do|what do you do|what are you able to do|"
        r"how can you help(?: me)?|what can i ask(?: you)?|help(?: me)?|"
        r"what are your (?:skills|capabilities)|who are you|what are you)"
        r"(?: here| for me| on this page)?",
    ),
    (
        "thanks",
        r"(?:thanks|thank you|great|perfect|awesome|nice|cool|that's great|"
        r"looks good|good job|well done)(?:,? (?:thanks|thank you))?"
        r"(?:,? (?:mr\.? blue|so much|a lot))?",
    ),
    (
        "describe",
        r"what(?:'s| is) on (?:the|this) page|describe (?:the|this) page|"
        r"read (?:me )?(?:the|this) page|list (?:the|all the|all) (?:blocks|elements)|"
        r"what (?:blocks|elements) are (?:there|on the page)|"
        r"tell me about (?:the|this) page|what does (?:the|this) page (?:say|contain)|"
        r"what(?:'s| is) (?:the|this) page about",
    ),
    (
        "insert",
        r"{add} {new}{new_block}(?: {place})? {says} {label}"
        r"(?: {place})?",
    ),
    (
        "insert",
        r"{add} {new}{new_block}(?: {place})?",
    ),
    ("move", r"(?:move|put|place|drag|shift) {ref} {side} {anchor}"),
    (
        "move",
        r"(?:move|put|place|drag|shift) {ref} (?:to |at )?(?:the )?{edge}(?: of the page)?",
    ),
    ("move", r"(?:move|shift) {ref} {step}(?: one| a bit| by one)?"),
    (
        "delete",
        r"(?:delete|remove|erase|drop|get rid of|take out|take away|cut) {ref}"
        r"(?: from the page)?",
    ),
    ("style", r"{align}(?:-| )?(?:align)? {ref}"),
    ("style", r"(?:align|move|put|set|shift) {ref} (?:to |on |in )?(?:the )?{align}(?: side)?"),
    (
        "style",
        r"(?:make|set) {ref}(?:'?s)? (?:alignment |text alignment )?(?:to )?{align}"
        r"(?:-? ?aligned)?",
    ),
    ("style", r"(?:give|add) {ref} (?:(?:an?|the|some) )?{background} background(?: colou?r)?"),
    (
        "style",
        r"(?:make|set|change|turn|paint) (?:the )?background(?: colou?r)? "
        r"(?:of|behind|on|for) {ref} "
        r"(?:to )?{background}",
    ),
    (
        "style",
        r"(?:make|set|change|turn|paint) {ref}(?:'?s)? background(?: colou?r)? "
        r"(?:to )?{background}",
    ),
    (
        "style",
        r"(?:put|use|i'd like|i want|add|set) an? {background} background (?:on|for|behind) {ref}",
    ),
    ("style", r"(?:make|set) {ref}(?:'?s)?(?: text| font)? {more}{grow}"),
    ("style", r"(?:make|set) (?:the )?(?:text|font)(?: size)? of {ref} {more}{grow}"),
    ("style", r"{ref} (?:should|needs to|has to|must|could|can) be {more}{grow}"),
    ("style", r"(?:can|could) {ref} be {more}{grow}"),
    ("style", r"{ref} (?:should|needs to|has to|must|could|can) be {color}"),
    ("style", r"(?:can|could) {ref} be {color}"),
    ("style", r"(?:set|change) (?:the )?(?:text )?alignment of {ref} (?:to )?{align}"),
    ("style", r"{grow_verb} (?:the )?(?:font |text )?size of {ref}"),
    ("style", r"{grow_verb} {ref}(?:'?s)?(?: font| text)?(?: size)?"),
    (
        "style",
        r"(?:make|set|change) (?:the )?(?:font |text )?size of {ref} (?:to )?{size}{unit}",
    ),
    ("style", r"(?:make|set|change) {ref}(?:'?s)? (?:font |text )?size (?:to )?{size}{unit}"),
    ("style", r"(?:make|set) {ref} {size}{unit}(?: big| tall| high)?"),
    ("style", r"(?:make|turn|paint|colou?r|set) {ref}(?:'?s)?(?: text| font)? (?:to |in )?{color}"),
    (
        "style",
        r"(?:change|set|make|switch) (?:the )?(?:text |font )?colou?r of {ref} "
        r"(?:to |into )?{color}",
    ),
    (
        "style",
        r"(?:change|set|make|switch) {ref}(?:'?s)? (?:text |font )?colou?r "
        r"(?:to |into )?{color}",
    ),
    ("style", r"(?:change|switch) {ref} to {color}"),
    ("style", r"(?:i want|i'd like|let's have|show) {ref} (?:in |to be )?{color}"),
    (
        "text",
        r"(?:change|set|update|rename|edit) (?:the )?(?:text|wording|label|title) "
        r"(?:of|on|in) {ref} (?:to|into)(?: say)? {text}",
    ),
    (
        "text",
        r"(?:change|set|update|rename|edit) {ref}(?:'?s)? (?:text |label |wording )?"
        r"(?:to|into)(?: say| read)? {text}",
    ),
    ("text", r"(?:make|let) {ref} (?:say|read) {text}"),
    ("text", r"{ref} should (?:say|read) {text}"),
    ("text", r"replace (?:the (?:text|words) (?:of|in) )?{ref}(?:'?s)?(?: text)? with {text}"),
    ("text", r"(?:write|type|put) {text} (?:in|into|as) {ref}"),
    ("text", r"(?:call|title|label) {ref} {text}"),
    (
        "select",
        r"(?:select|pick|choose|highlight|focus(?: on)?|go to|click(?: on)?) {named}",
    ),
    # Requests that leave out what they need: understood, then asked about.
    (
        "style",
        r"(?:change|set|switch|pick) (?:the )?(?:text |font )?colou?r(?: of {ref})?",
        {"wants": "color"},
    ),
    (
        "style",
        r"(?:change|set|make|turn) {ref}(?:'?s)? (?:text |font )?colou?r",
        {"wants": "color"},
    ),
    (
        "style",
        r"(?:make|turn|give|paint) {ref} (?:an?(?:other| different)|some other) colou?r",
        {"wants": "color"},
    ),
    (
        "style",
        r"(?:change|set|switch) (?:the )?background(?: colou?r)?(?: of {ref})?",
        {"wants": "background"},
    ),
    ("style", r"(?:change|set) {ref}(?:'?s)? background(?: colou?r)?", {"wants": "background"}),
    ("style", r"(?:make|set) (?:something|anything|a block|one) {grow}"),
    ("move", r"(?:move|shift|drag) {ref}(?: somewhere(?: else)?)?"),
    ("move", r"(?:move|shift|drag) (?:something|a block)"),
    ("text", r"(?:change|set|update|edit) (?:the )?(?:text|wording|label)(?: of {ref})?"),
    ("text", r"(?:rename|relabel|retitle) {ref}"),
    (
        "insert",
        r"(?:add|insert|create) (?:something|anything|a block|an element|more)",
        {"type": None},
    ),
    ("delete", r"(?:delete|remove|erase)(?: something)?"),
    ("select", r"(?:select|pick|choose)(?: something)?"),
)

# Last, once the near-miss reading failed too: a request whose block was not understood
# ("center the mind"), asked about rather than refused.
FALLBACK = (
    ("style", r"{align}(?:-| )?(?:align)? {unknown}"),
    ("style", r"(?:make|turn|paint|colou?r) {unknown} {color}"),
    ("style", r"make {unknown} {more}{grow}"),
    ("delete", r"(?:delete|remove|erase|get rid of) {unknown}"),
    ("select", r"(?:select|pick|choose) {unknown}"),
)

# The short answers to the brain's questions, by the slot asked about.
ANSWERS = {
    "target": (r"{ref}",),
    "color": (r"(?:make it |in |to |turn it )?{color}",),
    "background": (r"(?:make it |in |to |an? )?{background}(?: background)?",),
    "position": (
        r"(?:move it |put it )?(?:to |at )?(?:the )?{edge}(?: of the page)?",
        r"(?:move it |put it )?{side} {anchor}",
        r"(?:move it )?{step}(?: one| a bit| by one)?",
    ),
    "text": (r"(?:(?:it should|make it|have it|let it) )?(?:say |read )?{text}",),
    "type": (r"{new}{new_block}(?: {says} {label})?",),
}
# Things people ask for that the page tools cannot do: said so, never "corrected" into a
# colour ("bold" is one letter from "gold").
UNSUPPORTED = re.compile(
    r"\b(?:bold|italics?|underlined?|strike ?through|shadows?|borders?|animations?|animated?|"
    r"videos?|fonts? family|typeface)\b"
)
