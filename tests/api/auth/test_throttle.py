"""Sign-in throttling: guessers slow down, the real user is not locked out, and every failure and
throttle is in the audit trail."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from services.api.app import create_app
from services.api.audit.models import AuditEvent
from services.api.auth import throttle
from services.api.auth.errors import TooManyAttempts
from services.api.auth.models import LoginFailure
from services.common.db import create_sessionmaker, utcnow, writer_session
from services.common.settings import LoginThrottleSettings
from tests.factories import PASSWORD
from tests.helpers import assert_problem
from tests.live import committing_engine

TOKEN = "/api/v1/auth/token"


@pytest.fixture
def clients(settings, sessions):  # type: ignore[no-untyped-def]
    """A client per address, all on one app whose address limit is low enough to reach in a test."""
    limits = LoginThrottleSettings(address_free=6)
    app = create_app(settings.model_copy(update={"login_throttle": limits}))
    app.state.sessionmaker = sessions

    def client_from(address: str) -> TestClient:
        return TestClient(app, raise_server_exceptions=False, client=(address, 40000))

    return client_from


def sign_in(client: TestClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(TOKEN, data={"username": username, "password": password})


def let_time_pass(session, seconds: float) -> None:  # type: ignore[no-untyped-def]
    """Moves every recorded failure back in time, as if `seconds` had passed."""
    session.expire_all()
    for failure in session.scalars(select(LoginFailure)):
        failure.at -= timedelta(seconds=seconds)
    session.commit()


def fail(client: TestClient, session, username: str, times: int) -> list[int]:  # type: ignore[no-untyped-def]
    """`times` wrong passwords from this client, waiting out each backoff; the waits asked for."""
    waits = []
    while times:
        response = sign_in(client, username, "a-wrong-guess")
        if response.status_code == 429:
            assert_problem(response, 429, "auth.too_many_attempts")
            waits.append(int(response.headers["retry-after"]))
            let_time_pass(session, waits[-1])
            continue
        assert_problem(response, 401, "auth.invalid_credentials")
        times -= 1
    return waits


def test_a_guessing_client_waits_longer_after_each_failure(clients, factory, session):
    user = factory.user()
    factory.commit()
    guesser = clients("10.0.0.1")
    waits = fail(guesser, session, user.username, 7)
    # Three free tries, then 1 s, doubling with each further failure.
    assert waits == [1, 2, 4, 8]
    response = sign_in(guesser, user.username)  # even the right password waits, from this client
    assert_problem(response, 429, "auth.too_many_attempts")
    assert int(response.headers["retry-after"]) == 16
    let_time_pass(session, 16)
    assert sign_in(guesser, user.username).status_code == 200


def test_a_guesser_does_not_lock_the_right_password_out_from_another_client(clients, factory, session):
    user = factory.user()
    factory.commit()
    fail(clients("10.0.0.1"), session, user.username, 9)
    # The guesser's own client is slowed for minutes; the teacher's is not.
    assert_problem(sign_in(clients("10.0.0.1"), user.username), 429, "auth.too_many_attempts")
    response = sign_in(clients("192.168.5.20"), user.username)
    assert response.status_code == 200, response.text


def test_guessing_from_many_addresses_slows_the_username_only_gently(clients, factory, session):
    user = factory.user()
    factory.commit()
    waits = []
    for n in range(20):  # one guess from each of twenty addresses
        waits += fail(clients(f"10.1.0.{n}"), session, user.username, 1)
    assert waits and max(waits) <= 30  # LB_LOGIN_USER_MAX_S caps it
    teacher = clients("192.168.5.20")
    response = sign_in(teacher, user.username)
    assert_problem(response, 429, "auth.too_many_attempts")
    assert int(response.headers["retry-after"]) == 30
    let_time_pass(session, 30)
    assert sign_in(teacher, user.username).status_code == 200


def test_one_address_trying_many_usernames_is_slowed(clients, factory, session):
    users = [factory.user() for _ in range(8)]
    factory.commit()
    sprayer = clients("10.2.0.1")
    for user in users[:6]:
        assert_problem(sign_in(sprayer, user.username, "Summer2026!"), 401, "auth.invalid_credentials")
    response = sign_in(sprayer, users[6].username, "Summer2026!")
    body = assert_problem(response, 429, "auth.too_many_attempts")
    assert response.headers["retry-after"] == "1" and "1" in body["detail"]
    # Nobody else is held up by that address.
    assert sign_in(clients("10.2.0.2"), users[6].username).status_code == 200


def test_failures_throttles_and_sign_ins_are_audited_once_each(clients, factory, session):
    user = factory.user()
    factory.commit()
    guesser = clients("10.3.0.1")
    for _ in range(3):
        assert_problem(sign_in(guesser, user.username, "guess"), 401, "auth.invalid_credentials")
    for _ in range(4):  # hammering while it must wait: one audit row for the whole wait
        assert_problem(sign_in(guesser, user.username, "guess"), 429, "auth.too_many_attempts")
    assert_problem(sign_in(guesser, "no-such-user", "guess"), 401, "auth.invalid_credentials")
    assert sign_in(clients("10.3.0.2"), user.username).status_code == 200

    session.expire_all()
    events = session.scalars(select(AuditEvent).where(AuditEvent.details["client"].as_string().in_(
        ["10.3.0.1", "10.3.0.2"])).order_by(AuditEvent.seq)).all()
    assert [(e.action, e.target_id) for e in events] == [
        *[("auth.sign_in_failed", user.id)] * 3, ("auth.throttled", user.id),
        ("auth.sign_in_failed", "no-such-user"), ("auth.sign_in", user.id)]
    assert events[0].district_id == user.district_id and events[0].details["reason"] == "wrong_password"
    assert events[3].details == {"username": user.username, "client": "10.3.0.1",
                                 "scope": "username_and_address", "retry_after": 1}
    assert events[4].district_id is None and events[4].target_type == "username"
    assert events[5].actor_id == user.id


def test_attempts_still_being_checked_count_against_parallel_ones(session, settings):
    """Guesses sent all at once must not all pass on one count: each is written down before its
    password is checked."""
    subject = throttle.Subject(username="target", user_id=None, district_id=None)
    now = utcnow()
    for _ in range(3):
        throttle.admit(session, settings=settings.login_throttle, subject=subject, client_ip="10.4.0.1", now=now)
    with pytest.raises(TooManyAttempts):
        throttle.admit(session, settings=settings.login_throttle, subject=subject, client_ip="10.4.0.1", now=now)


def test_a_free_try_whose_clock_is_behind_a_racing_one_is_still_free(session, settings):
    """A sign-in reads the clock, then waits for the lock; one that raced past it may have
    written a later attempt. Its elapsed time is then zero, not negative: still a free try."""
    subject = throttle.Subject(username="racer", user_id=None, district_id=None)
    now = utcnow()
    throttle.admit(session, settings=settings.login_throttle, subject=subject, client_ip="10.4.0.2",
                   now=now + timedelta(milliseconds=300))
    throttle.admit(session, settings=settings.login_throttle, subject=subject, client_ip="10.4.0.2", now=now)


def test_backoff_doubles_up_to_its_cap():
    assert [throttle.backoff_s(n, free=3, base_s=1, max_s=900) for n in (0, 2, 3, 4, 5, 12, 13, 10_000)] == [
        0, 0, 1, 2, 4, 512, 900, 900]


def test_throttle_settings_are_checked():
    with pytest.raises(ValueError, match="LB_LOGIN_USER_MAX_S"):
        LoginThrottleSettings(user_max_s=120, pair_max_s=60)
    with pytest.raises(ValueError, match="LB_LOGIN_PAIR_BASE_S"):
        LoginThrottleSettings(pair_base_s=1000, pair_max_s=900)
    with pytest.raises(ValueError, match="WINDOW"):
        LoginThrottleSettings(window_s=600, pair_max_s=900)


def test_parallel_guesses_from_many_threads_get_only_the_free_tries(database_url, tmp_path, settings):
    """Real concurrent transactions on a database that commits: with twelve guesses racing, only
    the three free ones are let through to a password check."""
    with committing_engine(database_url, tmp_path) as engine:
        sessions = create_sessionmaker(engine)
        subject = throttle.Subject(username="target", user_id=None, district_id=None)
        start, outcomes = threading.Barrier(12), []
        # All twelve at one instant: on a loaded machine a thread may wait on the lock past the
        # 1 s backoff, and a guess that late is rightly let through; the race is what is tested.
        instant = utcnow()

        def guess() -> None:
            start.wait()
            with writer_session(sessions) as session:
                try:
                    throttle.admit(session, settings=settings.login_throttle, subject=subject,
                                   client_ip="10.5.0.1", now=instant)
                    session.commit()
                    outcomes.append("checked")
                except TooManyAttempts:
                    outcomes.append("throttled")
                except Exception as error:  # noqa: BLE001 - shown in the assertion, not lost with the thread
                    outcomes.append(f"error: {error!r}")

        threads = [threading.Thread(target=guess) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(outcomes) == ["checked"] * 3 + ["throttled"] * 9


def test_throttle_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("LB_LOGIN_PAIR_FREE", "5")
    monkeypatch.setenv("LB_LOGIN_USER_MAX_S", "20")
    limits = LoginThrottleSettings()
    assert (limits.pair_free, limits.user_max_s, limits.address_free) == (5, 20.0, 50)
