"""What features announce to each other (blinker, as Flask ships it). A feature that must react to
another's change connects a receiver in its own folder; no feature reaches into another's tables.

Every signal is sent inside the action's transaction, before the caller commits: a receiver writes
with the same session and its writes commit or roll back with the action.
"""

from blinker import Namespace

_signals = Namespace()

#: A customer's email or phone changed (a customer's edit, not a merge): sender is the customer;
#: `email_before`, `phone_before` are the former normalized email and E.164 phone (None if unchanged).
contact_changed = _signals.signal("customer.contact-changed")

#: A customer was anonymized: sender is the customer (already wiped). Sent once for the customer and
#: once for each merged-away record that pointed at it. Receivers forget what they keep about the
#: person (former contacts, match keys, booking notes, values in merge events).
customer_anonymized = _signals.signal("customer.anonymized")

#: A customer is about to be deleted for good: sender is the customer. Receivers remove their rows.
customer_deleting = _signals.signal("customer.deleting")

#: A duplicate was merged into a survivor: sender is the survivor; `source`, `actor`, and `moved`
#: ({table: [row ids]} of every row the merge moved to the survivor, as its audit event keeps them).
customers_merged = _signals.signal("customers.merged")

#: Bookings only moved from `source` to the sender ("Transfer bookings only"; money stays with the
#: source). The API's transfer, which moves everything, is a merge and sends `customers_merged`.
bookings_transferred = _signals.signal("customers.bookings-transferred")

#: A customer's profile is being drawn: sender is the customer; `events` are the history events shown.
#: Each receiver returns a dict of what its part of the page shows (template context), from one query
#: at most, so templates call nothing that queries and features the profile knows nothing of can add
#: to it.
profile_shown = _signals.signal("customer.profile-shown")

#: A merge or transfer was undone: sender is the survivor; `source` is the restored customer; `moved`
#: is what the merge had moved (the undo moves those rows back).
merge_undone = _signals.signal("customers.merge-undone")

#: A booking was completed (the customer came): sender is the booking (already `completed`); `actor`
#: is the staff user or API key. Receivers record what follows from a visit (its sale when it has a
#: price, a stamp on a card whose program says so) in the same transaction.
booking_completed = _signals.signal("booking.completed")
