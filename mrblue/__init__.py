"""Mr. Blue: the Django project and the assistant app (label `mrblue`)."""
