"""Browser tooling: a real app server and headless Chromium, for the bench, the soak and the
browser tests. Not imported by the app."""
