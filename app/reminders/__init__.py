"""Deadlines that move the cycle: timers per task, reminders, escalations, the sweep."""
