"""The production set-up, as files: `python -m mrblue.deploy` writes them (see `__main__`)."""
