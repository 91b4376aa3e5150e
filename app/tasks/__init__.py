"""My work: the open tasks waiting on a person, their seats, and those who delegated to them."""
