"""task and reminder_timer: one (instance_id, status) index instead of instance_id alone

Every action closes its instance's open tasks and cancels their pending timers. With only the
instance index and the (status, due_at) index, a cached generic plan may combine both and read
every open task or pending timer of the bank on each action; one index over both columns
leaves no such plan.

Revision ID: 5b7e2c1d9a40
Revises: 130b6af465aa
Create Date: 2026-11-23 09:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '5b7e2c1d9a40'
down_revision: str | Sequence[str] | None = '130b6af465aa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index('ix_task_instance_status', 'task', ['instance_id', 'status'], unique=False)
    op.drop_index('ix_task_instance_id', table_name='task')
    op.create_index('ix_reminder_timer_instance_status', 'reminder_timer',
                    ['instance_id', 'status'], unique=False)
    op.drop_index('ix_reminder_timer_instance_id', table_name='reminder_timer')


def downgrade() -> None:
    """Revert this revision."""
    op.create_index('ix_reminder_timer_instance_id', 'reminder_timer', ['instance_id'],
                    unique=False)
    op.drop_index('ix_reminder_timer_instance_status', table_name='reminder_timer')
    op.create_index('ix_task_instance_id', 'task', ['instance_id'], unique=False)
    op.drop_index('ix_task_instance_status', table_name='task')
