"""The visual editor: blocks, views, page tools, in Python and in Chromium."""
