"""Each customer row carries its tags (names and colours), kept by triggers, for lists and the picker.

A page of 30 search results read each customer's tags through customer_tag: 30 random index
probes, which on a book whose pages are not all in memory were a quarter of a search's disk reads.
The row a list reads anyway now holds "name\\x1fcolour" pairs joined by \\x1e, sorted by name (the
form the list's rows unpack). Triggers keep it in step with every write of customer_tag (the
services, merges and their undo, a tag's deletion) and of a tag's name or colour.

Revision ID: 0009_customer_tag_list
Revises: 0008_merged_into_index
Create Date: 2026-11-30 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0009_customer_tag_list"
down_revision = "0008_merged_into_index"
branch_labels = None
depends_on = None

# A customer's tag list, as each engine computes it (SQLite: the same as webapp/search/tag_lists.py
# SQLITE_LIST_OF, PostgreSQL: the function that tag_lists.rebuild calls; a test checks that a rebuild
# agrees with these triggers).
SQLITE_LIST_OF = (
    "(SELECT group_concat(face, char(30)) FROM (SELECT tag.name || char(31) || tag.color AS face "
    "FROM customer_tag JOIN tag ON tag.id = customer_tag.tag_id "
    "WHERE customer_tag.business_id = {b} AND customer_tag.customer_id = {c} ORDER BY tag.name))"
)
PG_LIST_OF = """
CREATE FUNCTION customer_tag_list_of(b integer, c uuid) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT string_agg(tag.name || chr(31) || tag.color, chr(30) ORDER BY tag.name COLLATE "C")
  FROM customer_tag JOIN tag ON tag.id = customer_tag.tag_id
  WHERE customer_tag.business_id = b AND customer_tag.customer_id = c
$$"""


def sqlite_triggers() -> list[str]:
    def refresh(row: str) -> str:
        list_of = SQLITE_LIST_OF.format(b=f"{row}.business_id", c=f"{row}.customer_id")
        return f"UPDATE customer SET tag_list = {list_of} WHERE id = {row}.customer_id;"

    tagged = SQLITE_LIST_OF.format(b="customer.business_id", c="customer.id")
    return [
        f"CREATE TRIGGER customer_tag_list_ai AFTER INSERT ON customer_tag BEGIN {refresh('new')} END",
        f"CREATE TRIGGER customer_tag_list_ad AFTER DELETE ON customer_tag BEGIN {refresh('old')} END",
        "CREATE TRIGGER customer_tag_list_au AFTER UPDATE ON customer_tag "
        f"BEGIN {refresh('old')} {refresh('new')} END",
        "CREATE TRIGGER tag_face_au AFTER UPDATE OF name, color ON tag "
        "WHEN old.name IS NOT new.name OR old.color IS NOT new.color BEGIN "
        f"UPDATE customer SET tag_list = {tagged} WHERE id IN (SELECT customer_id FROM customer_tag "
        "WHERE business_id = new.business_id AND tag_id = new.id); END",
    ]


def postgresql_triggers() -> list[str]:
    return [
        PG_LIST_OF,
        """
CREATE FUNCTION customer_tag_list_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE customer SET tag_list = customer_tag_list_of(OLD.business_id, OLD.customer_id)
    WHERE id = OLD.customer_id;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    UPDATE customer SET tag_list = customer_tag_list_of(NEW.business_id, NEW.customer_id)
    WHERE id = NEW.customer_id;
  END IF;
  RETURN NULL;
END $$""",
        """
CREATE FUNCTION tag_face_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE customer SET tag_list = customer_tag_list_of(customer.business_id, customer.id)
  WHERE id IN (SELECT customer_id FROM customer_tag WHERE business_id = NEW.business_id AND tag_id = NEW.id);
  RETURN NULL;
END $$""",
        "CREATE TRIGGER customer_tag_list_iud AFTER INSERT OR UPDATE OR DELETE ON customer_tag "
        "FOR EACH ROW EXECUTE FUNCTION customer_tag_list_refresh()",
        "CREATE TRIGGER tag_face_u AFTER UPDATE OF name, color ON tag FOR EACH ROW "
        "WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.color IS DISTINCT FROM NEW.color) "
        "EXECUTE FUNCTION tag_face_refresh()",
    ]


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column("customer", sa.Column("tag_list", sa.Text(), nullable=True))
    # Triggers first (on PostgreSQL their creation keeps writers out until this commits), then fill in
    # the customers who have tags, in one statement.
    for statement in sqlite_triggers() if dialect == "sqlite" else postgresql_triggers():
        op.execute(statement)
    if dialect == "sqlite":
        tagged = SQLITE_LIST_OF.format(b="customer.business_id", c="customer.id")
        op.execute(
            f"UPDATE customer SET tag_list = {tagged} WHERE id IN (SELECT customer_id FROM customer_tag)"
        )
    else:
        op.execute(
            "UPDATE customer SET tag_list = t.list FROM ("
            "SELECT customer_tag.business_id, customer_tag.customer_id, "
            'string_agg(tag.name || chr(31) || tag.color, chr(30) ORDER BY tag.name COLLATE "C") AS list '
            "FROM customer_tag JOIN tag ON tag.id = customer_tag.tag_id "
            "GROUP BY customer_tag.business_id, customer_tag.customer_id) AS t "
            "WHERE customer.business_id = t.business_id AND customer.id = t.customer_id"
        )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in (
            "customer_tag_list_ai",
            "customer_tag_list_ad",
            "customer_tag_list_au",
            "tag_face_au",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        op.execute("DROP TRIGGER IF EXISTS customer_tag_list_iud ON customer_tag")
        op.execute("DROP TRIGGER IF EXISTS tag_face_u ON tag")
        for function in (
            "customer_tag_list_refresh()",
            "tag_face_refresh()",
            "customer_tag_list_of(integer, uuid)",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.drop_column("customer", "tag_list")
