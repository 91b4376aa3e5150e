"""Generic pages and API for any workflow instance: state, timeline, tasks, actions."""
