"""Admin screens for Mr. Blue: profiles, conversations, and Mr. Blue's part of the page screen.

The change forms of profiles and pages lead with what an admin sets (`layout`); their parts
live in modules of their own: the readable session preview (`preview`), the voice samples
(`voice_player`, `voice_samples`), what editors ask on a page (`outcomes`), the try-it console
(`console`), the turns' latency chart (`latency_chart`) and the workers' page
(`engine_workers`). Importing this package registers every screen.
"""

from mrblue.admin import conversations, engine_workers, pages, profiles  # noqa: F401
