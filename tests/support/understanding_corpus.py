# ruff: noqa: E501 (the corpus rows are sentences, one a line)
"""A corpus of spoken editing requests about the demo page, each with the call it should give.

Written by hand for issue 16 (nobody's recordings): plain requests with varied wording,
politeness and references. Each row is `request | expected`, where expected is

- `tool block key=value ...`: the one tool call the turn ends in (`block` is the `block_id`;
  `-` for a tool without one), with its other arguments (`text="Two words"` quoted);
- `ask`: a short question back (the request is ambiguous on this page), no change;
- `say`: an answer in words (not an editing request), no change.

The page is the demo page (`PAGE`) with the second paragraph selected, so "it" is `schedule`.
Sizes follow the brain's rule: bigger is x1.25 of the current size, smaller /1.25 (the demo
blocks carry no size: a heading is 32 px, the rest 16 px).
"""

import shlex
from dataclasses import dataclass

from mrblue.management.commands.demo_data import DEMO_BLOCKS

PAGE = {"blocks": DEMO_BLOCKS, "selected": "schedule"}

ROWS = """
make the heading blue | update_style heading color=blue
Make the title red. | update_style heading color=red
turn the button green | update_style cta color=green
change the heading color to purple | update_style heading color=purple
could you make the heading orange please | update_style heading color=orange
please turn the title pink | update_style heading color=pink
I'd like the heading in navy | update_style heading color=navy
set the heading's colour to teal | update_style heading color=teal
Mr. Blue, make the heading brown | update_style heading color=brown
Blue, turn the headline gold | update_style heading color=gold
can you change the color of the heading to gray | update_style heading color=gray
make the heading text white | update_style heading color=white
colour the title black | update_style heading color=black
paint the button yellow | update_style cta color=yellow
make the button red please | update_style cta color=red
change the button's color to blue | update_style cta color=blue
turn the buttons text orange | update_style cta color=orange
set the color of the button to purple | update_style cta color=purple
could you please colour the button cyan | update_style cta color=cyan
make the first paragraph green | update_style intro color=green
turn the second paragraph navy | update_style schedule color=navy
change the colour of the last paragraph to brown | update_style schedule color=brown
make the intro gray | update_style intro color=gray
make it red | update_style schedule color=red
turn it blue please | update_style schedule color=blue
make this one teal | update_style schedule color=teal
change its colour to pink | update_style schedule color=pink
make that green | update_style schedule color=green
okay, make the top paragraph purple | update_style intro color=purple
switch the heading to red | update_style heading color=red
I want the button in green | update_style cta color=green
let's make the title cyan | update_style heading color=cyan
make the paragraph about milongas orange | update_style intro color=orange
make the paragraph about beginners blue | update_style schedule color=blue
turn the bottom paragraph gold | update_style schedule color=gold
could you turn the heading yellow | update_style heading color=yellow
give the button a red background | update_style cta background=red
give the button the red background | update_style cta background=red
give the heading a blue background | update_style heading background=blue
set the background of the heading to black | update_style heading background=black
make the button's background pink | update_style cta background=pink
make the buttons background green | update_style cta background=green
put a white background on the first paragraph | update_style intro background=white
change the heading background colour to gold | update_style heading background=gold
change the background of the button to navy | update_style cta background=navy
please give the title a yellow background | update_style heading background=yellow
make the background of the second paragraph gray | update_style schedule background=gray
give it a teal background | update_style schedule background=teal
set its background to orange | update_style schedule background=orange
could you give the first paragraph a cyan background | update_style intro background=cyan
use a purple background for the button | update_style cta background=purple
make the background behind the heading brown | update_style heading background=brown
change the last paragraph's background to pink | update_style schedule background=pink
give the call to action a green background | update_style cta background=green
turn the background of the title white | update_style heading background=white
I'd like a black background on the button | update_style cta background=black
Blue, give the heading a red background | update_style heading background=red
make the heading bigger | update_style heading font_size=40
make the title larger please | update_style heading font_size=40
make the heading smaller | update_style heading font_size=26
shrink the heading | update_style heading font_size=26
make the button bigger | update_style cta font_size=20
make the button smaller | update_style cta font_size=13
increase the font size of the first paragraph | update_style intro font_size=20
decrease the size of the second paragraph | update_style schedule font_size=13
make it bigger | update_style schedule font_size=20
make it smaller please | update_style schedule font_size=13
enlarge the heading | update_style heading font_size=40
reduce the button's font size | update_style cta font_size=13
make the text of the first paragraph bigger | update_style intro font_size=20
set the heading size to 48 | update_style heading font_size=48
change the font size of the button to 18 pixels | update_style cta font_size=18
make the heading 60 pixels | update_style heading font_size=60
set the font size of the first paragraph to 20 | update_style intro font_size=20
change the second paragraph's font size to 14 | update_style schedule font_size=14
make the title 36 | update_style heading font_size=36
set the size of the button to 24 | update_style cta font_size=24
could you make the heading a bit bigger | update_style heading font_size=40
make the last paragraph larger | update_style schedule font_size=20
make the intro smaller | update_style intro font_size=13
increase the heading size | update_style heading font_size=40
Blue, make the button bigger please | update_style cta font_size=20
make it 22 pixels | update_style schedule font_size=22
center the heading | update_style heading align=center
centre the title please | update_style heading align=center
align the first paragraph to the right | update_style intro align=right
align the heading left | update_style heading align=left
right align the button | update_style cta align=right
center the button | update_style cta align=center
center it | update_style schedule align=center
align it to the left | update_style schedule align=left
justify the first paragraph | update_style intro align=justify
justify the second paragraph please | update_style schedule align=justify
make the heading centered | update_style heading align=center
put the button in the center | update_style cta align=center
move the heading to the left | update_style heading align=left
align the last paragraph to the center | update_style schedule align=center
could you center the first paragraph | update_style intro align=center
left align the heading | update_style heading align=left
align the button to the right please | update_style cta align=right
make the title right aligned | update_style heading align=right
set the alignment of the intro to center | update_style intro align=center
change the heading to Welcome to Mundo Tango | update_text heading text="Welcome to Mundo Tango"
rename the button to Register now | update_text cta text="Register now"
the heading should say Tango Nights | update_text heading text="Tango Nights"
make the heading say Hello Buenos Aires | update_text heading text="Hello Buenos Aires"
change the text of the button to Sign up | update_text cta text="Sign up"
change the button text to Book a class | update_text cta text="Book a class"
make the button say Dance with us | update_text cta text="Dance with us"
the button should read Start today | update_text cta text="Start today"
change the title to Milonga tonight | update_text heading text="Milonga tonight"
set the heading text to Summer festival | update_text heading text="Summer festival"
change the text of the first paragraph to Classes every week | update_text intro text="Classes every week"
replace the second paragraph with Open every day | update_text schedule text="Open every day"
change it to Free lessons on Sunday | update_text schedule text="Free lessons on Sunday"
make it say See you soon | update_text schedule text="See you soon"
rename the title to Tango Club | update_text heading text="Tango Club"
could you change the heading to Dance with us | update_text heading text="Dance with us"
please make the button say Buy tickets | update_text cta text="Buy tickets"
update the button label to Contact us | update_text cta text="Contact us"
Blue, change the headline to Welcome | update_text heading text="Welcome"
change the wording of the first paragraph to Everyone is welcome | update_text intro text="Everyone is welcome"
the title should say Tango in the park | update_text heading text="Tango in the park"
change the heading text to Learn to dance | update_text heading text="Learn to dance"
change the last paragraph to Classes start at eight | update_text schedule text="Classes start at eight"
make the first paragraph say We dance every night | update_text intro text="We dance every night"
change the button to say Join now | update_text cta text="Join now"
add a button that says Sign up | insert_block - type=button text="Sign up" position=after relative_to=schedule
add a paragraph saying We are open on Sundays after the heading | insert_block - type=paragraph text="We are open on Sundays" position=after relative_to=heading
add a heading called Festival at the top | insert_block - type=heading text=Festival position=before relative_to=heading
create a new button labelled Buy tickets at the end | insert_block - type=button text="Buy tickets" position=end
put a paragraph that says See you there below the button | insert_block - type=paragraph text="See you there" position=after relative_to=cta
add another paragraph before the button saying Bring comfortable shoes | insert_block - type=paragraph text="Bring comfortable shoes" position=before relative_to=cta
add a new heading that says Our teachers | insert_block - type=heading text="Our teachers" position=after relative_to=schedule
please add a button saying Contact us at the bottom | insert_block - type=button text="Contact us" position=end
insert a paragraph that says Shoes are for sale after the first paragraph | insert_block - type=paragraph text="Shoes are for sale" position=after relative_to=intro
add a heading saying Prices below the button | insert_block - type=heading text=Prices position=after relative_to=cta
add a paragraph at the end that says Thank you for visiting | insert_block - type=paragraph text="Thank you for visiting" position=end
could you add a button that says Learn more under the heading | insert_block - type=button text="Learn more" position=after relative_to=heading
add a button called Donate at the end of the page | insert_block - type=button text=Donate position=end
add a paragraph above the button that says No partner needed | insert_block - type=paragraph text="No partner needed" position=before relative_to=cta
insert a heading that says Schedule before the second paragraph | insert_block - type=heading text=Schedule position=before relative_to=schedule
put a new button saying Call us at the top | insert_block - type=button text="Call us" position=before relative_to=heading
add a new paragraph saying Parking is free | insert_block - type=paragraph text="Parking is free" position=after relative_to=schedule
Blue, add a heading that says Events | insert_block - type=heading text=Events position=after relative_to=schedule
add a button | insert_block - type=button text="Click me" position=after relative_to=schedule
add a new paragraph at the end | insert_block - type=paragraph text="New paragraph" position=end
insert a heading at the top | insert_block - type=heading text="New heading" position=before relative_to=heading
add a paragraph below the heading | insert_block - type=paragraph text="New paragraph" position=after relative_to=heading
create a button that says Subscribe | insert_block - type=button text=Subscribe position=after relative_to=schedule
I'd like a new heading saying Welcome at the top | insert_block - type=heading text=Welcome position=before relative_to=heading
add another button that says Follow us after the button | insert_block - type=button text="Follow us" position=after relative_to=cta
delete the button | delete_block cta
remove the heading | delete_block heading
delete the first paragraph | delete_block intro
remove the second paragraph please | delete_block schedule
delete it | delete_block schedule
get rid of the button | delete_block cta
remove this one | delete_block schedule
delete the last paragraph | delete_block schedule
could you delete the title | delete_block heading
please remove the button from the page | delete_block cta
erase the first paragraph | delete_block intro
take out the heading | delete_block heading
delete that | delete_block schedule
Blue, delete the button | delete_block cta
remove the paragraph about milongas | delete_block intro
delete the paragraph about beginners | delete_block schedule
get rid of it please | delete_block schedule
delete the call to action | delete_block cta
remove the top paragraph | delete_block intro
I want to delete the headline | delete_block heading
can you remove the intro | delete_block intro
move the button above the heading | move_block cta position=before relative_to=heading
move the first paragraph below the second paragraph | move_block intro position=after relative_to=schedule
put the button at the top | move_block cta position=before relative_to=heading
move the heading to the bottom | move_block heading position=after relative_to=cta
move the button up | move_block cta position=before relative_to=schedule
move it down | move_block schedule position=after relative_to=cta
move it up | move_block schedule position=before relative_to=intro
move the heading down | move_block heading position=after relative_to=intro
move the second paragraph to the top | move_block schedule position=before relative_to=heading
move the button to the top of the page | move_block cta position=before relative_to=heading
put the heading below the button | move_block heading position=after relative_to=cta
move the first paragraph after the button | move_block intro position=after relative_to=cta
could you move the button above the first paragraph | move_block cta position=before relative_to=intro
move the last paragraph above the first paragraph | move_block schedule position=before relative_to=intro
move the title to the end | move_block heading position=after relative_to=cta
move the button up please | move_block cta position=before relative_to=schedule
move the first paragraph down | move_block intro position=after relative_to=schedule
put it at the top | move_block schedule position=before relative_to=heading
move it to the bottom | move_block schedule position=after relative_to=cta
move the heading under the first paragraph | move_block heading position=after relative_to=intro
Blue, move the button to the top | move_block cta position=before relative_to=heading
put the intro below the button | move_block intro position=after relative_to=cta
move the button before the second paragraph | move_block cta position=before relative_to=schedule
move the second paragraph up | move_block schedule position=before relative_to=intro
move the heading below the second paragraph | move_block heading position=after relative_to=schedule
select the button | select_block cta
select the heading | select_block heading
select the first paragraph | select_block intro
pick the second paragraph | select_block schedule
choose the title | select_block heading
select the last paragraph | select_block schedule
click on the button | select_block cta
highlight the heading | select_block heading
please select the button | select_block cta
go to the first paragraph | select_block intro
select the paragraph about milongas | select_block intro
could you select the headline | select_block heading
Blue, select the button | select_block cta
focus on the second paragraph | select_block schedule
select the call to action | select_block cta
undo | undo -
undo that | undo -
undo the last change | undo -
please undo | undo -
can you undo that | undo -
go back | undo -
take that back | undo -
revert that | undo -
undo please | undo -
oops, undo | undo -
never mind, undo that | undo -
Blue, undo | undo -
undo what you just did | undo -
change it back | undo -
redo | redo -
redo that | redo -
redo please | redo -
please redo | redo -
can you redo that | redo -
redo the last change | redo -
bring it back | redo -
do that again | redo -
Blue, redo | redo -
undo the undo | redo -
what's on the page | describe_page -
describe the page | describe_page -
read me the page | describe_page -
what is on this page | describe_page -
tell me about this page | describe_page -
list the blocks | describe_page -
what does the page say | describe_page -
could you describe the page | describe_page -
make the paragraph red | update_style schedule color=red
delete the paragraph | delete_block schedule
change the color | ask
make it prettier | say
delete the image | say
make the third paragraph red | say
move the button | ask
change the text | ask
make something bigger | ask
change the color of the heading | ask
move the heading | ask
change the background | ask
add something | ask
delete | ask
make the button a different color | ask
rename the button | ask
make the heading bold | say
could you please make the title blue for me | update_style heading color=blue
hmm, turn the button purple | update_style cta color=purple
what's the weather like today | say
tell me a joke | say
hello | say
hi there | say
thanks | say
thank you | say
what can you do | say
how can you help me | say
who are you | say
book a flight to Buenos Aires | say
what time is it | say
sing me a song | say
good morning Mr. Blue | say
thanks a lot | say
perfect, thank you | say
help | say
make the heading blue and thank you | update_style heading color=blue
um, make the heading red | update_style heading color=red
so, could you turn the button green | update_style cta color=green
hey Blue, center the heading | update_style heading align=center
okay now delete the button | delete_block cta
would you mind making the heading purple | update_style heading color=purple
I think the heading should be blue | update_style heading color=blue
the button should be red | update_style cta color=red
the heading needs to be bigger | update_style heading font_size=40
can the title be green | update_style heading color=green
make the heading's text navy please | update_style heading color=navy
turn the header red | update_style heading color=red
make the headline smaller | update_style heading font_size=26
change the header to Tango Weekend | update_text heading text="Tango Weekend"
give the heading an orange background | update_style heading background=orange
give the second paragraph a gold background | update_style schedule background=gold
make the second paragraph's background white | update_style schedule background=white
set the button background to blue | update_style cta background=blue
make the first paragraph blue please | update_style intro color=blue
make the second paragraph bigger | update_style schedule font_size=20
make the first paragraph smaller | update_style intro font_size=13
center the second paragraph | update_style schedule align=center
align the button left | update_style cta align=left
delete the second paragraph | delete_block schedule
remove the first paragraph | delete_block intro
select the second paragraph | select_block schedule
"""


@dataclass(frozen=True)
class Case:
    """One request, and what it should give: a tool call, a question (`ask`) or words (`say`)."""

    said: str
    tool: str
    arguments: dict

    @property
    def intent(self) -> str:
        """The kind of request, for accuracy per intent: a tool (a style by its property)."""
        if self.tool == "update_style":
            return next(
                k for k in ("color", "background", "font_size", "align") if k in self.arguments
            )
        return self.tool


def _case(line: str) -> Case:
    said, expected = (part.strip() for part in line.split("|"))
    words = shlex.split(expected)
    tool, rest = words[0], words[1:]
    arguments = {}
    if rest and "=" not in rest[0]:
        if rest[0] != "-":
            arguments["block_id"] = rest[0]
        rest = rest[1:]
    for pair in rest:
        key, value = pair.split("=", 1)
        arguments[key] = int(value) if value.isdigit() else value
    return Case(said, tool, arguments)


CASES = tuple(_case(line) for line in ROWS.strip().splitlines())
