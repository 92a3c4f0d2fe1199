"""The production set-up, as files: `python -m mrblue.project.deploy` writes them (see
`__main__`)."""
