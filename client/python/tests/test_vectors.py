"""The Python encoding against the shared test vectors of the Go package (client/consent/testdata/vectors.json)."""

from __future__ import annotations

import json
import pathlib
import unittest

from parley.consent import (
    AcceptanceStatement,
    AmendmentPart,
    ConsentSigner,
    KeyRegistrationStatement,
    KeyRevocationStatement,
    SignOffStatement,
    VoteStatement,
    amendment_digest,
    consent_body,
    consent_message,
    sha256_hex,
    verify_consent,
)

VECTORS = json.loads(
    (pathlib.Path(__file__).resolve().parents[3] / "client" / "consent" / "testdata" / "vectors.json").read_text("utf-8")
)


def parts(ps):
    return [AmendmentPart(p["kind"], p["point"], p["base_revision"], p["text"]) for p in ps]


def statement_of(m):
    """The vector's "name: value" map as the client's statement type."""
    subject = dict(negotiation=m["negotiation"], member=m["member"], participant=m["participant"])
    checkpoint = dict(checkpoint_size=int(m.get("checkpoint-size", "0")), checkpoint_root=m.get("checkpoint-root", ""))
    kind = m["statement"]
    if kind == "vote":
        return VoteStatement(
            **subject, **checkpoint, amendment=m["amendment"], amendment_sha256=m["amendment-sha256"],
            choice=m["choice"], reason_sha256=m["reason-sha256"],
        )
    if kind == "sign-off":
        return SignOffStatement(**subject, **checkpoint, point=m["point"], revision=int(m["revision"]), text_sha256=m["text-sha256"])
    if kind == "acceptance":
        return AcceptanceStatement(**subject, **checkpoint, document_sha256=m["document-sha256"])
    if kind == "key-registration":
        return KeyRegistrationStatement(**subject, key=m["key"], replaces=m["replaces"])
    if kind == "key-revocation":
        return KeyRevocationStatement(**subject, key=m["key"])
    raise ValueError(kind)


class VectorsTest(unittest.TestCase):
    def test_keys(self):
        for k in VECTORS["keys"]:
            signer = ConsentSigner.from_seed(bytes.fromhex(k["seed_hex"]))
            self.assertEqual(signer.public_key.hex(), k["public_key_hex"])
            self.assertEqual(signer.key_id, k["key_id"])

    def test_amendment_digests(self):
        for d in VECTORS["amendment_digests"]:
            self.assertEqual(amendment_digest(parts(d["parts"])), d["digest"])

    def test_vectors(self):
        keys = VECTORS["keys"]
        for v in VECTORS["vectors"]:
            with self.subTest(v["name"]):
                s = statement_of(v["statement"])
                if "parts" in v:
                    self.assertEqual(amendment_digest(parts(v["parts"])), v["statement"]["amendment-sha256"])
                if "reason" in v:
                    self.assertEqual(sha256_hex(v["reason"]), v["statement"]["reason-sha256"])
                self.assertEqual(consent_body(s), v["body"])
                self.assertEqual(consent_message(s).hex(), v["pae_hex"])
                signer = ConsentSigner.from_seed(bytes.fromhex(keys[v["key"]]["seed_hex"]))
                self.assertEqual(signer.sign(s).hex(), v["signature_hex"])
                sig = bytes.fromhex(v["signature_hex"])
                self.assertTrue(verify_consent(bytes.fromhex(keys[v["key"]]["public_key_hex"]), s, sig))
                self.assertFalse(verify_consent(bytes.fromhex(keys[1 - v["key"]]["public_key_hex"]), s, sig))


if __name__ == "__main__":
    unittest.main()
