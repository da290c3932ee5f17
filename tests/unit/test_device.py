"""The device flow's pure rules: behaviour.md 8.2's check order, slow_down, expiry."""

from __future__ import annotations

from dataclasses import replace

from sigillo.domain import device
from sigillo.domain.device import DeviceCode

NOW = 1_800_000_000_000


def code(**changes: object) -> DeviceCode:
    made = device.new_code("01J", "sigillo-cli", "", "127.0.0.1", now=NOW)
    return replace(made, **changes)  # type: ignore[arg-type]


def test_a_new_code_is_pending_for_ten_minutes_at_five_seconds() -> None:
    made = code()
    assert (made.status, made.expires_at, made.interval_ms) == ("pending", NOW + 600_000, 5000)
    assert made.last_polled_at is None


def test_checks_come_in_order() -> None:
    assert device.poll(None, "sigillo-cli", now=NOW).refusal == device.INVALID_DEVICE_CODE
    # a client mismatch wins over slow_down and expiry, and counts as no poll
    late = code(last_polled_at=NOW + 600_000, status="approved", user_id="u")
    mismatch = device.poll(late, "other", now=NOW + 600_001)
    assert (mismatch.refusal, mismatch.after) == (device.CLIENT_MISMATCH, late)
    # slow_down wins over expiry and over an approval
    too_soon = device.poll(late, "sigillo-cli", now=NOW + 600_001)
    assert too_soon.refusal == device.SLOW_DOWN
    assert too_soon.after == replace(late, interval_ms=10_000)  # last poll time unchanged


def test_outcomes_and_what_is_kept() -> None:
    at = NOW + 1000
    pending = device.poll(code(), "sigillo-cli", now=at)
    assert (pending.refusal, pending.after) == (device.PENDING, code(last_polled_at=at))
    expired = device.poll(code(status="approved"), "sigillo-cli", now=NOW + 600_000)
    assert (expired.refusal, expired.after) == (device.DEVICE_CODE_EXPIRED, None)
    denied = device.poll(code(status="denied", user_id="u"), "sigillo-cli", now=at)
    assert (denied.refusal, denied.after) == (device.DENIED, None)
    approved = device.poll(code(status="approved", user_id="u"), "sigillo-cli", now=at)
    assert (approved.refusal, approved.after, approved.before) == (
        None,
        None,
        code(status="approved", user_id="u"),
    )


def test_decisions() -> None:
    assert device.decide(None, "u", approve=True, now=NOW).refusal == device.INVALID_USER_CODE
    late = device.decide(code(), "u", approve=True, now=NOW + 600_000)
    assert late.refusal == device.USER_CODE_EXPIRED
    approved = device.decide(code(), "u", approve=True, now=NOW)
    assert approved.after == code(status="approved", user_id="u")
    denied = device.decide(code(), "u", approve=False, now=NOW)
    assert denied.after == code(status="denied", user_id="u")
    again = device.decide(approved.after, "v", approve=False, now=NOW)
    assert (again.refusal, again.after) == (device.PROCESSED, approved.after)
