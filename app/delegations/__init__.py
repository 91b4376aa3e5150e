"""Out of office: a person names a delegate who acts for them between two dates."""
