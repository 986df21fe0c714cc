"""Simulated front-desk staff for locust: sign in, type searches, open profiles, book, edit.

Run through tests/load/run.py (`make loadtest`), which starts gunicorn on 127.0.0.1, creates the staff
accounts and writes the plan this file reads from $LOADTEST_PLAN (JSON: accounts, password, customer
ids, location id, queries). Each simulated person signs in with an account of their own and works on
a slice of the customers of their own, so two of them never edit the same record at once (that would
be a genuine 409 "changed meanwhile", not a fault). Every response is checked; anything unexpected
is a failure, and locust then exits non-zero.
"""

import itertools
import json
import os
import random
import re
from datetime import date, timedelta
from urllib.parse import urlencode, urlsplit

from locust import FastHttpUser, between, events, task
from page_forms import form_fields, with_values

PLAN = json.loads(open(os.environ["LOADTEST_PLAN"]).read()) if os.environ.get("LOADTEST_PLAN") else {}
NEXT_ACCOUNT = itertools.count()
HX = {"HX-Request": "true"}
SERVER_TIMING = re.compile(r"dur=([\d.]+)")


@events.request.add_listener
def server_time(request_type, name, response=None, exception=None, **_):
    """Report the app's own time (its Server-Timing header) beside the time locust saw."""
    if request_type == "SERVER" or response is None or exception:
        return
    found = SERVER_TIMING.search(response.headers.get("Server-Timing") or "")
    if found:
        events.request.fire(
            request_type="SERVER",
            name=name,
            response_time=float(found.group(1)),
            response_length=0,
            exception=None,
            context={},
        )


class Receptionist(FastHttpUser):
    """One member of staff at the desk: between tasks a pause, as between two customers' calls."""

    wait_time = between(1, 3)

    def on_start(self):
        """Sign in with an account of one's own; take one's own slice of the customers."""
        n = next(NEXT_ACCOUNT)
        accounts, customers = PLAN["accounts"], PLAN["customers"]
        self.email = accounts[n % len(accounts)]
        share = max(1, len(customers) // len(accounts))
        self.customers = customers[(n % len(accounts)) * share :][:share] or customers
        self.rng = random.Random(n)
        page = self.client.get("/login", name="sign in (form)")
        token = dict(form_fields(page.text, lambda a: True)).get("csrf_token", "")
        with self.client.post(
            "/login",
            data={"email": self.email, "password": PLAN["password"], "csrf_token": token},
            name="sign in",
            allow_redirects=False,
            catch_response=True,
        ) as r:
            if r.status_code != 303 or "/login" in (r.headers.get("Location") or "/login"):
                r.failure(f"sign-in answered {r.status_code} {r.headers.get('Location')}")

    @task(5)
    def type_a_search(self):
        """Type a query a key at a time into the search box (htmx asks on each key: 150 ms debounce)."""
        query = self.rng.choice(PLAN["queries"])
        for i in range(1, len(query) + 1):
            if query[i - 1] == " ":
                continue  # the box's value only changes visibly on the next letter
            with self.client.get(
                "/customers?" + urlencode({"q": query[:i]}),
                headers=HX,
                name="search keystroke",
                catch_response=True,
            ) as r:
                if r.status_code != 200 or "<html" in r.text:
                    r.failure(f"search answered {r.status_code}")
            self.pause(0.18, 0.4)  # a receptionist types 3-5 keys a second

    @task(3)
    def open_profile(self):
        """Open a customer's profile."""
        with self.client.get(
            f"/customers/{self.rng.choice(self.customers)}", name="profile", catch_response=True
        ) as r:
            if r.status_code != 200:
                r.failure(f"profile answered {r.status_code}")

    @task(1)
    def book(self):
        """Open the booking form for a customer, fill it in and save it (an hour, some day ahead)."""
        customer = self.rng.choice(self.customers)
        page = self.client.get(f"/bookings/new?customer={customer}", name="booking form")
        fields = form_fields(page.text, lambda a: "booking-form" in a.get("class", ""))
        day = date.today() + timedelta(days=self.rng.randint(1, 120))
        hour = self.rng.randint(9, 17)
        fields = with_values(
            fields,
            customer_id=customer,
            service="Cut and finish (load test)",
            day=day.isoformat(),
            start_time=f"{hour:02d}:00",
            end_time=f"{hour + 1:02d}:00",
            price="45.00",
            allow_overlap="y",  # another simulated day may have booked this hour already
        )
        self.pause(2, 4)  # filling in the form
        self.expect_redirect("/bookings/new", fields, "book", "/bookings")

    @task(1)
    def edit_customer(self):
        """Open a customer's edit form, change the notes, save (with the version the form carried)."""
        customer = self.rng.choice(self.customers)
        page = self.client.get(f"/customers/{customer}/edit", name="edit form")
        fields = form_fields(page.text, lambda a: a.get("id") == "customer-edit")
        if "version" not in dict(fields):
            return self.fail_page("edit form", page)
        fields = with_values(fields, notes=f"Prefers mornings (load test {self.rng.randint(1, 10**6)})")
        self.pause(2, 4)
        self.expect_redirect(f"/customers/{customer}/edit", fields, "edit save", f"/customers/{customer}")

    def expect_redirect(self, path: str, fields: list, name: str, to: str) -> None:
        """POST a form and require the 303 to `to` that a saved form answers."""
        body, form = urlencode(fields), {"Content-Type": "application/x-www-form-urlencoded"}
        with self.client.post(
            path, data=body, headers=form, name=name, allow_redirects=False, catch_response=True
        ) as r:
            where = urlsplit(r.headers.get("Location") or "").path
            if r.status_code != 303 or not where.startswith(to):
                errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>([^<]{1,200})', r.text or "")
                r.failure(f"{name} answered {r.status_code} {where} {errors[:3]}")

    def fail_page(self, name: str, page) -> None:
        """Record a page that did not hold what it should."""
        events.request.fire(
            request_type="CHECK",
            name=name,
            response_time=0,
            response_length=0,
            exception=AssertionError(f"{name}: HTTP {page.status_code}, no form"),
            context={},
        )

    def pause(self, low: float, high: float) -> None:
        """Think time inside a task (locust's gevent sleep)."""
        import gevent

        gevent.sleep(self.rng.uniform(low, high))
