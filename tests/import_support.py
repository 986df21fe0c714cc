"""Shared bits of the import tests: CSV text in, a job out."""

from webapp.extensions import db
from webapp.imports import services


def csv_bytes(text: str, encoding: str = "utf-8", bom: bool = False) -> bytes:
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def uploaded(
    business, actor, text, *, encoding="utf-8", bom=False, filename="book.csv", mapping=None, policy="skip"
):
    """Upload `text` (or bytes), optionally re-map and set the policy; committed."""
    data = text if isinstance(text, bytes) else csv_bytes(text, encoding, bom)
    job = services.upload(business, actor, filename, data)
    if mapping is not None or policy != "skip":
        current = {int(k): v for k, v in job.mapping.items()}
        current.update(mapping or {})
        services.set_mapping(job, current, policy)
    db.session.commit()
    return job


def imported(business, actor, text, **kwargs):
    """Upload and run at once; returns (job, counts)."""
    job = uploaded(business, actor, text, **kwargs)
    counts = services.run(job.id)
    db.session.expire_all()
    return db.session.get(type(job), job.id), counts
