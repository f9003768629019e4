"""The consent encoding and Ed25519, against RFC 8032's vectors and DSSE's PAE example; no server needed."""

from __future__ import annotations

import dataclasses
import unittest

from parley.consent import (
    AmendmentPart,
    ConsentEncodingError,
    ConsentSigner,
    KeyRegistrationStatement,
    SignOffStatement,
    VoteStatement,
    amendment_digest,
    consent_body,
    consent_message,
    key_id,
    pae,
    sha256_hex,
    trim_reason,
    verify_consent,
    verify_ed25519,
)

# RFC 8032, section 7.1: TEST 1, 2 and 3 (secret key, public key, message, signature).
RFC8032 = [
    (
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "TEST 3",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]

H = lambda c: c * 64  # noqa: E731

VOTE = VoteStatement(
    negotiation="n1",
    member="ukraine",
    participant="ukraine",
    amendment="a1",
    amendment_sha256=H("a"),
    choice="APPROVE",
    reason_sha256=H("b"),
    checkpoint_size=12,
    checkpoint_root=H("c"),
)


class Ed25519Test(unittest.TestCase):
    def test_rfc8032(self):
        for name, secret, public, message, signature in RFC8032:
            with self.subTest(name):
                signer = ConsentSigner.from_seed(bytes.fromhex(secret))
                self.assertEqual(signer.public_key.hex(), public)
                self.assertEqual(signer.key_id, sha256_hex(bytes.fromhex(public)))
                self.assertEqual(signer.sign_bytes(bytes.fromhex(message)).hex(), signature)
                self.assertTrue(verify_ed25519(bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature)))
                flipped = bytearray.fromhex(signature)
                flipped[0] ^= 1
                self.assertFalse(verify_ed25519(bytes.fromhex(public), bytes.fromhex(message), bytes(flipped)))
                self.assertFalse(verify_ed25519(bytes.fromhex(public), bytes.fromhex(message + "00"), bytes.fromhex(signature)))
                self.assertNotIn(secret, repr(signer))


class EncodingTest(unittest.TestCase):
    def test_pae(self):
        self.assertEqual(pae("http://example.com/HelloWorld", "hello world"), b"DSSEv1 29 http://example.com/HelloWorld 11 hello world")
        self.assertEqual(pae("t", "é"), "DSSEv1 1 t 2 é".encode())
        self.assertEqual(pae("", b""), b"DSSEv1 0  0 ")

    def test_body(self):
        self.assertEqual(
            consent_body(VOTE),
            "parley-consent: v1\nstatement: vote\nnegotiation: n1\nmember: ukraine\nparticipant: ukraine\n"
            f"amendment: a1\namendment-sha256: {H('a')}\nchoice: APPROVE\nreason-sha256: {H('b')}\n"
            f"checkpoint-size: 12\ncheckpoint-root: {H('c')}\n",
        )
        self.assertEqual(
            consent_body(KeyRegistrationStatement("n1", "m", "p", key=H("d"))),
            f"parley-consent: v1\nstatement: key-registration\nnegotiation: n1\nmember: m\nparticipant: p\nkey: {H('d')}\nreplaces: \n",
        )
        self.assertEqual(
            consent_body(SignOffStatement("n1", "m", "p", "p7", 3, H("e"), 0, H("f"))),
            f"parley-consent: v1\nstatement: sign-off\nnegotiation: n1\nmember: m\nparticipant: p\npoint: p7\nrevision: 3\ntext-sha256: {H('e')}\ncheckpoint-size: 0\ncheckpoint-root: {H('f')}\n",
        )

    def test_err_encoding(self):
        for bad in (
            dict(amendment="a1\nchoice: REJECT"),
            dict(member="m "),
            dict(amendment_sha256=H("A")),
            dict(checkpoint_size=-1),
            dict(checkpoint_size=True),
            dict(choice="VOTE_CHOICE_APPROVE"),
        ):
            with self.subTest(bad):
                with self.assertRaises(ConsentEncodingError):
                    consent_body(dataclasses.replace(VOTE, **bad))

    def test_trim_reason(self):
        self.assertEqual(trim_reason(" \t\u0085\u00a0Not now.\u3000\n"), "Not now.")
        self.assertEqual(trim_reason("\ufeffx\x1c"), "\ufeffx\x1c")  # no white space to Go
        self.assertEqual(trim_reason("a  b"), "a  b")

    def test_amendment_digest(self):
        one = amendment_digest([AmendmentPart("REPLACE", "p1", 2, "New.")])
        self.assertEqual(one, sha256_hex(f"REPLACE p1 2 {sha256_hex('New.')}\n"))
        self.assertEqual(amendment_digest([AmendmentPart("DELETE", "p1", 2, "x")]), sha256_hex(f"DELETE p1 2 {sha256_hex('')}\n"))
        self.assertEqual(amendment_digest([AmendmentPart("INSERT", "", 0, "X")]), sha256_hex(f"INSERT  0 {sha256_hex('X')}\n"))
        self.assertNotEqual(one, amendment_digest([AmendmentPart("REPLACE", "p1", 3, "New.")]))

    def test_sign_verify(self):
        signer = ConsentSigner.generate()
        self.assertEqual(signer.key_id, key_id(signer.public_key))
        sig = signer.sign(VOTE)
        self.assertEqual(len(sig), 64)
        self.assertTrue(verify_consent(signer.public_key, VOTE, sig))
        self.assertFalse(verify_consent(signer.public_key, dataclasses.replace(VOTE, choice="REJECT"), sig))
        self.assertFalse(verify_consent(signer.public_key, dataclasses.replace(VOTE, checkpoint_size=13), sig))
        self.assertFalse(verify_ed25519(signer.public_key, consent_message(VOTE), sig[:63]))
        self.assertFalse(verify_ed25519(signer.public_key[:31], consent_message(VOTE), sig))
        self.assertFalse(verify_ed25519(b"\xff" * 32, consent_message(VOTE), sig))


if __name__ == "__main__":
    unittest.main()
