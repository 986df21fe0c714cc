"""Each customer row's copy of its tags (customer.tag_list, migration 0009's triggers): in step with
every way tags change, repaired by `flask recount`, written by the demo loader, shown by the list."""

import pytest
from flask_migrate import downgrade, upgrade
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import delete, insert, select, update

from helpers import HX, run_state_machine
from webapp.customers import services as customers
from webapp.demo import load_demo
from webapp.extensions import db
from webapp.merge import services as merging
from webapp.merge import undo
from webapp.models import AuditEvent, Customer, Tag
from webapp.models.customer import customer_tag
from webapp.search import tag_lists
from webapp.settings import named_lists as tag_settings


def stored(customer_id) -> str | None:
    return db.session.execute(
        select(Customer.__table__.c.tag_list).where(Customer.__table__.c.id == customer_id)
    ).scalar()


def truth() -> dict:
    """{customer id: the tag list its links give}, worked out in Python from the link rows."""
    rows = db.session.execute(
        select(customer_tag.c.customer_id, Tag.name, Tag.color).join(Tag, Tag.id == customer_tag.c.tag_id)
    ).all()
    faces: dict = {}
    for customer_id, name, color in rows:
        faces.setdefault(customer_id, []).append(tag_lists.TagChip(name, color))
    ids = db.session.scalars(select(Customer.id)).all()
    return {cid: tag_lists.list_of(faces.get(cid, [])) for cid in ids}


def all_stored() -> dict:
    table = Customer.__table__
    return dict(db.session.execute(select(table.c.id, table.c.tag_list)).all())


def test_the_list_follows_every_way_tags_change(business, make_customer, make_tag, make_user):
    owner = make_user("owner")
    vip, allergy, student = make_tag("VIP", "gold"), make_tag("Allergy", "red"), make_tag("Student", "blue")
    ann, bob = make_customer(first_name="Ann"), make_customer(first_name="Bob")
    assert stored(ann.id) is None

    customers.set_tags(ann, [vip.id, allergy.id], owner)
    db.session.commit()
    assert stored(ann.id) == "Allergy\x1fred\x1eVIP\x1fgold"
    customers.add_tags(bob, [vip.id], owner)
    db.session.commit()
    assert stored(bob.id) == "VIP\x1fgold"

    tag_settings.update_tag(vip, "Gold card", "purple", owner)  # renamed and recoloured: both follow
    db.session.commit()
    assert (stored(ann.id), stored(bob.id)) == (
        "Allergy\x1fred\x1eGold card\x1fpurple",
        "Gold card\x1fpurple",
    )
    tag_settings.update_tag(allergy, "Allergy", "red", owner)  # no change, no writes
    db.session.commit()

    customers.set_tags(ann, [student.id], owner)
    db.session.commit()
    assert stored(ann.id) == "Student\x1fblue"
    tag_settings.delete_tag(student, owner)
    db.session.commit()
    assert stored(ann.id) is None
    customers.set_tags(ann, [], owner)  # nothing to remove
    db.session.commit()
    assert all_stored() == truth()


def test_merge_and_undo_carry_the_lists(business, make_customer, make_tag, make_user):
    manager = make_user("manager")
    vip, allergy = make_tag("VIP", "gold"), make_tag("Allergy", "red")
    source = make_customer(first_name="Dup", tags=[allergy])
    target = make_customer(first_name="Keep", tags=[vip])
    event = merging.merge_customers(source, target, None, manager)
    db.session.commit()
    assert (stored(source.id), stored(target.id)) == (None, "Allergy\x1fred\x1eVIP\x1fgold")
    undo.undo_merge(event, manager)
    db.session.commit()
    assert (stored(source.id), stored(target.id)) == ("Allergy\x1fred", "VIP\x1fgold")


def test_deleting_a_tagged_customer_is_fine(business, make_customer, make_tag, make_user):
    vip = make_tag("VIP")
    doomed = make_customer(first_name="Gone", tags=[vip])
    keeper = make_customer(first_name="Stays", tags=[vip])
    assert customers.delete_or_anonymize(doomed, make_user("manager")) == "deleted"
    db.session.commit()
    assert db.session.get(Customer, doomed.id) is None and stored(keeper.id) == "VIP\x1fgrey"


def test_the_list_shows_the_stored_tags_sorted(business, make_customer, make_tag, login_as):
    make_customer(first_name="Cara", tags=[make_tag("Zed", "green"), make_tag("Alpha", "blue")])
    html = login_as("receptionist").get("/customers?q=cara", headers=HX).get_data(as_text=True)
    assert html.index('chip-blue">Alpha<') < html.index('chip-green">Zed<')


def test_rebuild_repairs_what_raw_sql_broke_and_agrees_with_the_triggers(business, make_customer, make_tag):
    vip, new = make_tag("VIP", "gold"), make_tag("New", "purple")
    tagged = [make_customer(first_name=f"T{i}", tags=[vip, new][: i % 3]) for i in range(9)]
    assert tag_lists.rebuild() == 0 and all_stored() == truth()
    table = Customer.__table__
    db.session.execute(update(table).where(table.c.id == tagged[0].id).values(tag_list="Stale\x1fred"))
    db.session.execute(update(table).where(table.c.id == tagged[1].id).values(tag_list=None))
    db.session.commit()
    assert tag_lists.rebuild(business.id) == 2
    db.session.commit()
    assert all_stored() == truth() and tag_lists.rebuild() == 0


def test_recount_reports_the_tag_lists(app, business, make_customer, make_tag):
    customer = make_customer(first_name="Raw", tags=[make_tag("VIP")])
    db.session.execute(
        update(Customer.__table__).where(Customer.__table__.c.id == customer.id).values(tag_list=None)
    )
    db.session.commit()
    out = app.test_cli_runner().invoke(args=["recount"]).output
    assert "Fixed the tag list of 1 customer" in out
    assert "tag lists were already right" in app.test_cli_runner().invoke(args=["recount"]).output


def test_the_migration_fills_the_lists_in(app, business, make_customer, make_tag):
    vip, allergy = make_tag("VIP", "gold"), make_tag("Allergy", "red")
    for i in range(6):
        make_customer(first_name=f"M{i}", tags=[vip, allergy][: i % 3])
    want = truth()
    db.session.commit()
    try:
        downgrade(revision="0008_merged_into_index")
    finally:
        upgrade()
    assert all_stored() == want


@pytest.mark.parametrize("bulk", [False, True], ids=["row-by-row", "bulk"])
def test_a_demo_load_writes_the_lists(app, monkeypatch, bulk):
    if bulk:  # triggers off (SQLite: dropped) for the load: the loader writes the lists itself
        monkeypatch.setattr("webapp.bulk.BULK_REBUILD_FROM", 100)
    load_demo(150, seed=8)
    lists = all_stored()
    assert lists == truth() and any(lists.values())
    demo_tag = db.session.scalar(select(Tag).where(Tag.name == "VIP"))
    demo_tag.color = "red"  # the triggers are back
    db.session.commit()
    assert all_stored() == truth()


def test_lists_always_equal_the_links(app, business, make_business):
    """Random links set by the service and with raw SQL, tags created, renamed, recoloured and deleted,
    in two businesses: every stored list equals the one its links give."""
    businesses = [business.id, make_business("Elsewhere").id]
    names = st.sampled_from(["VIP", "Allergy", "Student", "Åsa", "vip", "New"])
    colors = st.sampled_from(["gold", "red", "blue", "grey"])

    class Book(RuleBasedStateMachine):
        @initialize()
        def start(self):
            db.session.rollback()
            for table in (AuditEvent.__table__, customer_tag, Customer.__table__, Tag.__table__):
                db.session.execute(delete(table))
            for where in businesses:
                db.session.add_all(Customer(business_id=where, first_name=f"C{i}") for i in range(4))
                db.session.add(Tag(business_id=where, name="Start", color="green"))
            db.session.commit()

        def pick(self, model, index: int, where: int | None = None):
            scope = [model.business_id == where] if where else []
            rows = db.session.scalars(select(model).where(*scope).order_by(model.id)).all()
            return rows[index % len(rows)] if rows else None

        @rule(where=st.sampled_from(businesses), name=names, color=colors)
        def create_tag(self, where, name, color):
            if not db.session.scalar(select(Tag.id).where(Tag.business_id == where, Tag.name == name)):
                db.session.add(Tag(business_id=where, name=name, color=color))
                db.session.commit()

        @rule(index=st.integers(0, 20), name=names, color=colors)
        def change_tag(self, index, name, color):
            tag = self.pick(Tag, index)
            if tag is None:
                return
            taken = select(Tag.id).where(
                Tag.business_id == tag.business_id, Tag.name == name, Tag.id != tag.id
            )
            if db.session.scalar(taken) is None:
                tag.name, tag.color = name, color
                db.session.commit()

        @rule(index=st.integers(0, 20))
        def delete_tag(self, index):
            tag = self.pick(Tag, index)
            if tag is not None:
                tag_settings.delete_tag(tag, None)
                db.session.commit()

        @rule(index=st.integers(0, 20), picks=st.lists(st.integers(0, 20), max_size=3), raw=st.booleans())
        def tag_customer(self, index, picks, raw):
            customer = self.pick(Customer, index)
            tags = {t.id for p in picks if (t := self.pick(Tag, p, customer.business_id)) is not None}
            if raw:  # with SQL, as an import or a repair might
                db.session.execute(delete(customer_tag).where(customer_tag.c.customer_id == customer.id))
                rows = [
                    {"business_id": customer.business_id, "customer_id": customer.id, "tag_id": t}
                    for t in tags
                ]
                if rows:
                    db.session.execute(insert(customer_tag), rows)
            else:
                customers.set_tags(customer, sorted(tags), None)
            db.session.commit()

        @invariant()
        def lists_equal_the_links(self):
            assert all_stored() == truth()
            assert tag_lists.rebuild() == 0
            db.session.rollback()

    run_state_machine(Book, 40 if app.backend == "sqlite" else 20)


def test_the_stored_form_matches_the_sql_form(app, business, make_customer, make_tag):
    """Python's list_of (the demo loader) and the engine's aggregate (triggers, rebuild) agree, accents
    and all, and both order by name bytewise."""
    faces = [make_tag(n, c) for n, c in (("Zoë", "red"), ("alpha", "blue"), ("Émile", "gold"), ("B", "grey"))]
    customer = make_customer(first_name="Ord", tags=faces)
    assert stored(customer.id) == tag_lists.list_of(faces)
    assert stored(customer.id).split("\x1e")[0].startswith("B\x1f")  # capitals before small letters
