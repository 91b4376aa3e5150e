"""Web plumbing shared by every page and API route: sessions, CSRF, locale, templates, errors."""
