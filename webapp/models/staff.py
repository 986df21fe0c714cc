"""Staff accounts that sign in to the desk."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.database import BigId, UTCDateTime, utcnow
from webapp.extensions import db
from webapp.models.business import Business, Location

ROLES = ("receptionist", "manager", "owner")
ROLE_LABELS = {"receptionist": "Receptionist", "manager": "Manager", "owner": "Owner"}


class StaffUser(UserMixin, db.Model):
    """A member of staff; the session id carries a version so old cookies can be refused."""

    __tablename__ = "staff_user"
    __table_args__ = (Index("ix_staff_user_business_email", "business_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("business.id"))
    email: Mapped[str] = mapped_column(String(255), unique=True)  # stored lower-cased
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="receptionist")
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    session_version: Mapped[int] = mapped_column(default=1)
    current_location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    business: Mapped[Business] = relationship(lazy="joined", innerjoin=True)
    # Loaded when asked for (today's bookings): every request loads its user, few need the location.
    current_location: Mapped[Location | None] = relationship(lazy="select")

    def get_id(self) -> str:
        """Flask-Login's id: user id and session version, so bumping the version ends sessions."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def has_role(self, role: str) -> bool:
        """True when this user's role is `role` or above (receptionist < manager < owner)."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def end_sessions(self) -> None:
        """Make every session cookie issued to this user so far useless."""
        self.session_version += 1


class SignInFailure(db.Model):
    """One failed (or not yet checked) sign-in, counted against one key."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (
        Index("ix_sign_in_failure_key_created", "key", "created_at"),
        Index("ix_sign_in_failure_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))
    attempt: Mapped[int] = mapped_column(BigInteger)  # the attempt's random id: its rows, together
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
