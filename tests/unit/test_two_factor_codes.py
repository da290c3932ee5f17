"""The pure parts of two-factor authentication (sigillo.services.two_factor_codes): TOTP
steps against RFC 6238 as pyotp computes it, recovery codes and their hashes, the QR SVG."""

from __future__ import annotations

import re

import pyotp

from sigillo.services import two_factor_codes as codes

# RFC 6238 appendix B's SHA-1 key, "12345678901234567890", in base32
RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"


def test_a_secret_is_160_random_bits_of_base32() -> None:
    made = {codes.new_secret() for _ in range(20)}
    assert len(made) == 20
    assert all(re.fullmatch(r"[A-Z2-7]{32}", secret) for secret in made)


def test_the_step_of_a_code_within_one_step_either_way() -> None:
    now_ms = 1_111_111_109_000  # RFC 6238's test time; its 6-digit code is 081804
    totp = pyotp.TOTP(RFC_SECRET)
    step = now_ms // 1000 // 30
    assert totp.generate_otp(step) == "081804"
    assert codes.matching_step(RFC_SECRET, "081804", now_ms) == step
    assert codes.matching_step(RFC_SECRET, "081 804", now_ms) == step  # spaces ignored
    assert codes.matching_step(RFC_SECRET, totp.generate_otp(step + 1), now_ms) == step + 1
    assert codes.matching_step(RFC_SECRET, totp.generate_otp(step - 1), now_ms) == step - 1
    far = totp.generate_otp(step + 2)
    assert codes.matching_step(RFC_SECRET, far, now_ms) is None
    assert codes.matching_step(RFC_SECRET, "abcdef", now_ms) is None
    assert codes.matching_step(RFC_SECRET, "0818040", now_ms) is None


def test_recovery_codes_are_random_grouped_and_hashed_normalised() -> None:
    made = codes.new_recovery_codes()
    assert len(made) == codes.RECOVERY_CODES == 10
    assert len(set(made)) == 10
    assert all(re.fullmatch(r"[a-z2-7]{5}-[a-z2-7]{5}", code) for code in made)
    code = made[0]
    same = {code, code.upper(), code.replace("-", ""), " " + code.replace("-", " ") + " "}
    assert {codes.recovery_code_hash(typed) for typed in same} == {codes.recovery_code_hash(code)}
    assert all(codes.is_recovery_code(typed) for typed in same)
    assert code.replace("-", "") not in codes.recovery_code_hash(code)
    assert len(codes.recovery_code_hash(code)) == 64
    assert codes.recovery_code_hash(made[1]) != codes.recovery_code_hash(code)
    assert codes.is_totp_code("123 456")
    assert not codes.is_totp_code(code)
    assert not codes.is_recovery_code("123456")


def test_the_uri_names_the_issuer_and_account() -> None:
    uri = codes.provisioning_uri(RFC_SECRET, "ada@example.com")
    assert uri.startswith("otpauth://totp/Sigillo:ada%40example.com?")
    assert f"secret={RFC_SECRET}" in uri
    assert "issuer=Sigillo" in uri


def test_the_qr_code_is_an_inline_svg_without_script_style_or_text_of_the_secret() -> None:
    svg = codes.qr_svg(codes.provisioning_uri(RFC_SECRET, "ada@example.com"))
    assert svg.startswith("<svg ")
    assert svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg
    assert "<title>" in svg
    for forbidden in ("<script", "style=", "href", RFC_SECRET, "otpauth"):
        assert forbidden not in svg
