"""The tampered logs the Go tests write (client/consent/testdata/tampered).

Each <case>.json is a ListEventsResponse in protojson and <case>.expect.json
says whether it verifies, and if not which event, whose, and why: the Python
verifier must find the same first failure as the Go one.
"""

from __future__ import annotations

import json
import pathlib
import unittest

from google.protobuf import json_format

from parley.consentlog import verify_consents
from parley.v1 import negotiation_service_pb2 as api

DIR = pathlib.Path(__file__).resolve().parents[3] / "client" / "consent" / "testdata" / "tampered"


class TamperedLogs(unittest.TestCase):
    def test_fixtures_present(self):
        names = {p.stem for p in DIR.glob("*.json") if not p.name.endswith(".expect.json")}
        for c in ("honest", "forged-acceptance", "sign-off-replayed-onto-another-point", "sign-off-replayed-onto-another-revision",
                  "sign-off-moved-from-another-negotiation", "operators-own-key-registered-for-another-member"):
            self.assertIn(c, names)

    def test_each_log(self):
        for path in sorted(DIR.glob("*.json")):
            if path.name.endswith(".expect.json"):
                continue
            with self.subTest(path.stem):
                res = json_format.Parse(path.read_text("utf-8"), api.ListEventsResponse())
                expect = json.loads((DIR / f"{path.stem}.expect.json").read_text("utf-8"))
                report = verify_consents(res.events)
                if expect["verifies"]:
                    self.assertEqual(report.failures, [])
                    self.assertTrue(any(c.status == "signed" for c in report.checks))
                    continue
                self.assertTrue(report.failures, "the tampered log does not verify")
                f = report.failures[0]
                self.assertEqual(
                    (f.sequence, f.participant, f.member, f.reason),
                    (expect["sequence"], expect["participant"], expect["member"], expect["reason"]),
                    f.detail,
                )

    def test_own_keys_name_the_operators_key(self):
        # Russia's key is the second of the shared vectors; here the operator registered its own in Russia's name.
        keys = json.loads((DIR.parent / "vectors.json").read_text("utf-8"))["keys"]
        own = {"ukraine/ukraine": [keys[0]["key_id"]], "russia/russia": [keys[1]["key_id"]]}

        def read(name):
            return json_format.Parse((DIR / f"{name}.json").read_text("utf-8"), api.ListEventsResponse()).events

        f = verify_consents(read("operators-own-key-registered-for-another-member"), own).failures[0]
        self.assertEqual((f.sequence, f.participant, f.member, f.reason), (9, "russia", "russia", "KEY_REGISTRATION_FOREIGN"))
        self.assertEqual(verify_consents(read("honest"), own).failures, [])


if __name__ == "__main__":
    unittest.main()
