"""Settings: tags (add, rename, recolour, delete) and marketing preferences (add, rename, retire)."""

from sqlalchemy import func, select

from webapp.customers import services
from webapp.extensions import db
from webapp.models import AuditEvent, CustomerConsent, MarketingPreference, Tag, customer_tag


def test_tags_page_add_and_list_with_counts(login_as, make_tag, make_customer):
    owner = login_as("owner")
    vip = make_tag("VIP", "gold")
    make_customer()  # a customer without tags
    c = make_customer()
    services.set_tags(c, [vip.id], None)
    db.session.commit()
    page = owner.get("/settings/tags")
    assert page.status_code == 200 and b"chip-gold" in page.data and b">1<" in page.data
    r = owner.post("/settings/tags", data={"name": "  Allergy ", "color": "red"})
    assert r.status_code == 303
    tag = db.session.scalar(select(Tag).where(Tag.name == "Allergy"))
    assert tag.color == "red"


def test_tag_name_unique_case_insensitively_and_colour_checked(login_as, make_tag):
    owner = login_as("owner")
    make_tag("VIP")
    r = owner.post("/settings/tags", data={"name": "vip", "color": "grey"})
    assert r.status_code == 422 and b"already a tag called" in r.data
    r = owner.post("/settings/tags", data={"name": "New", "color": "pink"})
    assert r.status_code == 422
    r = owner.post("/settings/tags", data={"name": "<script>x</script>", "color": "blue"})
    assert r.status_code == 303
    page = owner.get("/settings/tags")
    assert b"<script>x" not in page.data and b"&lt;script&gt;x" in page.data
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 2


def test_rename_recolour_and_delete_tag(login_as, make_tag, make_customer):
    owner = login_as("owner")
    tag = make_tag("VIP")
    c = make_customer()
    services.set_tags(c, [tag.id], None)
    db.session.commit()
    r = owner.post(f"/settings/tags/{tag.id}", data={"name": "Very important", "color": "purple"})
    assert r.status_code == 303
    db.session.refresh(tag)
    assert (tag.name, tag.color) == ("Very important", "purple")
    tag_id = tag.id
    r = owner.post(f"/settings/tags/{tag_id}/delete")
    assert r.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(customer_tag)) == 0
    assert db.session.scalar(select(func.count()).select_from(Tag)) == 0
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["tag.updated", "tag.deleted"]
    flash = owner.get("/settings/tags").data
    assert b"removed from 1 customers" in flash


def test_tags_of_another_business_are_404(login_as, make_business, make_tag):
    other = make_business("Other")
    theirs = make_tag("Theirs", business_=other)
    owner = login_as("owner")
    assert owner.post(f"/settings/tags/{theirs.id}", data={"name": "x", "color": "grey"}).status_code == 404
    assert owner.post(f"/settings/tags/{theirs.id}/delete").status_code == 404


def test_managers_cannot_manage_tags(login_as, make_tag):
    tag = make_tag("VIP")
    manager = login_as("manager")
    assert manager.get("/settings/tags").status_code == 403
    assert manager.post(f"/settings/tags/{tag.id}/delete").status_code == 403


def test_preferences_add_rename_retire_restore(login_as, business, make_customer):
    owner = login_as("owner")
    r = owner.post("/settings/preferences", data={"name": "Email offers"})
    assert r.status_code == 303
    pref = db.session.scalar(select(MarketingPreference))
    assert owner.post("/settings/preferences", data={"name": "email OFFERS"}).status_code == 422
    c = make_customer()
    services.set_consents(c, {pref.id: True}, None)
    db.session.commit()
    page = owner.get("/settings/preferences").data.decode()
    assert "Email offers" in page and ">1<" in page
    assert owner.post(f"/settings/preferences/{pref.id}", data={"name": "Offers by email"}).status_code == 303
    assert owner.post(f"/settings/preferences/{pref.id}/retire").status_code == 303
    db.session.refresh(pref)
    assert pref.name == "Offers by email" and not pref.active
    assert db.session.scalar(select(func.count()).select_from(CustomerConsent)) == 1  # answers kept
    new_form = login_as("receptionist").get("/customers/new").data
    assert b"Offers by email" not in new_form
    assert owner.post(f"/settings/preferences/{pref.id}/restore").status_code == 303
    db.session.refresh(pref)
    assert pref.active
