"""The organisation's working-day calendar: HR corrections over the official holidays."""
