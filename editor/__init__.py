"""The visual editor: pages made of blocks, their revisions, the editor view."""
