"""The workflows page: every current definition with its states, actions and diagram."""
