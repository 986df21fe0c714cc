"""Money and loyalty: sales and their reversals, receipt numbers, points, the store-credit ledger,
stamp-card programs, customer cards and their stamps, the mail outbox; customer.total_orders and
ledger_balance. Completed bookings with a price become their sales.

Revision ID: 0014_money
Revises: 0013_imports
Create Date: 2026-12-03 13:14:57.940965

"""

import sqlalchemy as sa
from alembic import op

from webapp.database import BigId, UTCDateTime

revision = "0014_money"
down_revision = "0013_imports"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "card_program",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("stamps_required", sa.Integer(), nullable=False),
        sa.Column("reward", sa.String(length=120), nullable=False),
        sa.Column("welcome_stamps", sa.Integer(), nullable=False),
        sa.Column("stamp_on_complete", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("stamps_required > 0", name=op.f("ck_card_program_stamps_required_positive")),
        sa.CheckConstraint("welcome_stamps >= 0", name=op.f("ck_card_program_welcome_stamps_not_negative")),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name=op.f("fk_card_program_business_id_business")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_program")),
    )
    with op.batch_alter_table("card_program", schema=None) as batch_op:
        batch_op.create_index("ix_card_program_business_name", ["business_id", "name"], unique=True)

    op.create_table(
        "receipt_sequence",
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name=op.f("fk_receipt_sequence_business_id_business")
        ),
        sa.PrimaryKeyConstraint("business_id", "day", name=op.f("pk_receipt_sequence")),
    )
    op.create_table(
        "customer_card",
        sa.Column("id", BigId, nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("program_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("stamps", sa.Integer(), nullable=False),
        sa.Column("rewards_redeemed", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("stamps >= 0", name=op.f("ck_customer_card_stamps_not_negative")),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name=op.f("fk_customer_card_business_id_business")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_user.id"], name=op.f("fk_customer_card_created_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_customer_card_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["program_id"], ["card_program.id"], name=op.f("fk_customer_card_program_id_card_program")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_card")),
    )
    with op.batch_alter_table("customer_card", schema=None) as batch_op:
        batch_op.create_index("ix_customer_card_business_code", ["business_id", "code"], unique=True)
        batch_op.create_index("ix_customer_card_customer", ["customer_id", "business_id", "id"], unique=False)

    op.create_table(
        "outbox_message",
        sa.Column("id", BigId, nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("to_address", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name=op.f("fk_outbox_message_business_id_business")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
            name=op.f("fk_outbox_message_customer_id_customer"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_message_business_created", ["business_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_outbox_message_customer",
            ["customer_id"],
            unique=False,
            sqlite_where=sa.text("customer_id IS NOT NULL"),
            postgresql_where=sa.text("customer_id IS NOT NULL"),
        )

    op.create_table(
        "card_stamp",
        sa.Column("id", BigId, nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("card_id", BigId, nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("stamps", sa.Integer(), nullable=False),
        sa.Column("stamps_after", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("stamps_after >= 0", name=op.f("ck_card_stamp_stamps_after_not_negative")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["booking.id"], name=op.f("fk_card_stamp_booking_id_booking")
        ),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name=op.f("fk_card_stamp_business_id_business")
        ),
        sa.ForeignKeyConstraint(
            ["card_id"], ["customer_card.id"], name=op.f("fk_card_stamp_card_id_customer_card")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_user.id"], name=op.f("fk_card_stamp_created_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_card_stamp_customer_id_customer")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_stamp")),
    )
    with op.batch_alter_table("card_stamp", schema=None) as batch_op:
        batch_op.create_index(
            "ix_card_stamp_booking",
            ["booking_id"],
            unique=False,
            sqlite_where=sa.text("booking_id IS NOT NULL"),
            postgresql_where=sa.text("booking_id IS NOT NULL"),
        )
        batch_op.create_index("ix_card_stamp_card", ["card_id", "id"], unique=False)
        batch_op.create_index("ix_card_stamp_customer", ["customer_id", "business_id", "id"], unique=False)

    op.create_table(
        "sale",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("receipt_number", sa.String(length=40), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("on_account", sa.Boolean(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=True),
        sa.Column("points_earned", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("total > 0", name=op.f("ck_sale_total_positive")),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"], name=op.f("fk_sale_booking_id_booking")),
        sa.ForeignKeyConstraint(["business_id"], ["business.id"], name=op.f("fk_sale_business_id_business")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_user.id"], name=op.f("fk_sale_created_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], name=op.f("fk_sale_customer_id_customer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale")),
    )
    with op.batch_alter_table("sale", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sale_booking",
            ["booking_id", "business_id"],
            unique=True,
            sqlite_where=sa.text("booking_id IS NOT NULL"),
            postgresql_where=sa.text("booking_id IS NOT NULL"),
        )
        batch_op.create_index("ix_sale_business_receipt", ["business_id", "receipt_number"], unique=True)
        batch_op.create_index(
            "ix_sale_customer_created", ["customer_id", "business_id", "created_at", "id"], unique=False
        )

    op.create_table(
        "ledger_entry",
        sa.Column("id", BigId, nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("reference_id", sa.String(length=64), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_ledger_entry_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name=op.f("fk_ledger_entry_business_id_business")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_user.id"], name=op.f("fk_ledger_entry_created_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_ledger_entry_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sale.id"], name=op.f("fk_ledger_entry_sale_id_sale")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index("ix_ledger_entry_customer", ["customer_id", "business_id", "id"], unique=False)
        batch_op.create_index(
            "ix_ledger_entry_customer_created", ["customer_id", "business_id", "created_at"], unique=False
        )
        batch_op.create_index(
            "ix_ledger_entry_sale",
            ["sale_id"],
            unique=False,
            sqlite_where=sa.text("sale_id IS NOT NULL"),
            postgresql_where=sa.text("sale_id IS NOT NULL"),
        )

    op.create_table(
        "points_transaction",
        sa.Column("id", BigId, nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("discount_amount", sa.Integer(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("balance_after >= 0", name=op.f("ck_points_transaction_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name=op.f("fk_points_transaction_business_id_business")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_user.id"], name=op.f("fk_points_transaction_created_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_points_transaction_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sale.id"], name=op.f("fk_points_transaction_sale_id_sale")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_transaction")),
    )
    with op.batch_alter_table("points_transaction", schema=None) as batch_op:
        batch_op.create_index(
            "ix_points_transaction_customer", ["customer_id", "business_id", "id"], unique=False
        )
        batch_op.create_index("ix_points_transaction_sale", ["sale_id"], unique=False)

    op.create_table(
        "sale_reversal",
        sa.Column("id", BigId, nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("sale_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"], ["business.id"], name=op.f("fk_sale_reversal_business_id_business")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff_user.id"], name=op.f("fk_sale_reversal_created_by_id_staff_user")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sale.id"], name=op.f("fk_sale_reversal_sale_id_sale")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_reversal")),
    )
    with op.batch_alter_table("sale_reversal", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sale_reversal_business_created", ["business_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_sale_reversal_sale", ["sale_id"], unique=True)

    # A customer's delete checks booking.customer_id (an import's undo deletes thousands of customers).
    op.create_index("ix_booking_customer", "booking", ["customer_id"], unique=False)

    # Plain ALTER TABLE on both engines: a batch copy of `customer` would rebuild the whole book.
    op.add_column("customer", sa.Column("total_orders", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("customer", sa.Column("ledger_balance", sa.Integer(), nullable=False, server_default="0"))

    # Spend is counted in one place, sales: every completed booking with a price becomes its sale
    # (receipt BKG-<booking id>, no points: none were earned then), set-based.
    bind = op.get_bind()
    booking_key = "replace(cast(b.id as text), '-', '')"
    new_id = "gen_random_uuid()" if bind.dialect.name == "postgresql" else "lower(hex(randomblob(16)))"
    bind.execute(
        sa.text(
            "INSERT INTO sale (id, business_id, customer_id, receipt_number, total, on_account, booking_id,"
            " points_earned, description, created_by_id, created_at)"
            f" SELECT {new_id}, b.business_id, b.customer_id, 'BKG-' || {booking_key}, b.price, false, b.id,"
            " 0, b.service, NULL, b.ends_at FROM booking b WHERE b.status = 'completed' AND b.price > 0"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE customer SET total_orders = (SELECT count(*) FROM sale s"
            " WHERE s.business_id = customer.business_id AND s.customer_id = customer.id)"
            " WHERE customer.total_spent > 0"  # one probe of ix_sale_business_customer_created each
        )
    )


def downgrade():
    op.drop_column("customer", "ledger_balance")
    op.drop_column("customer", "total_orders")
    op.drop_index("ix_booking_customer", table_name="booking")
    with op.batch_alter_table("sale_reversal", schema=None) as batch_op:
        batch_op.drop_index("ix_sale_reversal_sale")
        batch_op.drop_index("ix_sale_reversal_business_created")

    op.drop_table("sale_reversal")
    with op.batch_alter_table("points_transaction", schema=None) as batch_op:
        batch_op.drop_index("ix_points_transaction_sale")
        batch_op.drop_index("ix_points_transaction_customer")

    op.drop_table("points_transaction")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_ledger_entry_sale",
            sqlite_where=sa.text("sale_id IS NOT NULL"),
            postgresql_where=sa.text("sale_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_ledger_entry_customer_created")
        batch_op.drop_index("ix_ledger_entry_customer")

    op.drop_table("ledger_entry")
    with op.batch_alter_table("sale", schema=None) as batch_op:
        batch_op.drop_index("ix_sale_customer_created")
        batch_op.drop_index("ix_sale_business_receipt")
        batch_op.drop_index(
            "ix_sale_booking",
            sqlite_where=sa.text("booking_id IS NOT NULL"),
            postgresql_where=sa.text("booking_id IS NOT NULL"),
        )

    op.drop_table("sale")
    with op.batch_alter_table("card_stamp", schema=None) as batch_op:
        batch_op.drop_index("ix_card_stamp_customer")
        batch_op.drop_index("ix_card_stamp_card")
        batch_op.drop_index(
            "ix_card_stamp_booking",
            sqlite_where=sa.text("booking_id IS NOT NULL"),
            postgresql_where=sa.text("booking_id IS NOT NULL"),
        )

    op.drop_table("card_stamp")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_outbox_message_customer",
            sqlite_where=sa.text("customer_id IS NOT NULL"),
            postgresql_where=sa.text("customer_id IS NOT NULL"),
        )
        batch_op.drop_index("ix_outbox_message_business_created")

    op.drop_table("outbox_message")
    with op.batch_alter_table("customer_card", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_card_customer")
        batch_op.drop_index("ix_customer_card_business_code")

    op.drop_table("customer_card")
    op.drop_table("receipt_sequence")
    with op.batch_alter_table("card_program", schema=None) as batch_op:
        batch_op.drop_index("ix_card_program_business_name")

    op.drop_table("card_program")
