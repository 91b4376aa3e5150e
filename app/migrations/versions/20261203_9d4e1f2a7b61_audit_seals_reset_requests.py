"""audit seals and checkpoint times; reset requests recorded before they are resolved

audit_event gets the id of the key that sealed it and the seal (an HMAC of its hash);
audit_head gets the time it last moved (what the next signed checkpoint takes) and its seal.
Events written before this revision are sealed by `stepwise audit seal` (docs/security.md).
password_reset records the account as typed, its person found later by the sweep, so a
request does the same work whether the account exists or not. Password-reset mail that the
built-in mailbox kept with a live link loses its body: the mailbox never holds such mail now.

Revision ID: 9d4e1f2a7b61
Revises: 5b7e2c1d9a40
Create Date: 2026-12-03 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401 - autogenerate renders sqlmodel.sql.sqltypes.AutoString
from alembic import op


revision: str = '9d4e1f2a7b61'
down_revision: str | Sequence[str] | None = '5b7e2c1d9a40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=40),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('seal', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=''))
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('seal', sqlmodel.sql.sqltypes.AutoString(length=64),
                                      nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_audit_head_at'), ['at'], unique=False)
    op.execute("UPDATE audit_head SET at = (SELECT max(e.at) FROM audit_event e "
               "WHERE e.instance_id = audit_head.instance_id)")
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account', sqlmodel.sql.sqltypes.AutoString(length=60),
                                      nullable=False, server_default=''))
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=True)
    op.execute("UPDATE outbox_message SET body_text = '', body_html = '' "
               "WHERE kind = 'password_reset' AND transport = 'mailbox'")


def downgrade() -> None:
    """Revert this revision."""
    op.execute("DELETE FROM password_reset WHERE person_id IS NULL")
    with op.batch_alter_table('password_reset', schema=None) as batch_op:
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('account')
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_head_at'))
        batch_op.drop_column('seal')
        batch_op.drop_column('at')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_column('seal')
        batch_op.drop_column('key_id')
