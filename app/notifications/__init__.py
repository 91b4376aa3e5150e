"""Outgoing messages: the outbox, email rendering and delivery, action links, preferences."""
