// The tampered logs the Go tests write (client/consent/testdata/tampered):
// each <case>.json is a ListEventsResponse in protojson, and <case>.expect.json
// says whether it verifies, and if not which event, whose, and why. The
// TypeScript verifier must find the same first failure as the Go one.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromJson } from "@bufbuild/protobuf";
import { ListEventsResponseSchema } from "../src/gen/parley/v1/negotiation_service_pb.js";
import { loggedEvent, verifyConsents } from "../src/index.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "../../../../client/consent/testdata/tampered");
const cases = readdirSync(dir).filter((f) => f.endsWith(".json") && !f.endsWith(".expect.json"));

test("the fixtures are there: the honest log and the four tamperings of the issue", () => {
  for (const c of ["honest", "forged-acceptance", "sign-off-replayed-onto-another-point", "sign-off-replayed-onto-another-revision", "sign-off-moved-from-another-negotiation", "operators-own-key-registered-for-another-member"]) {
    assert.ok(cases.includes(`${c}.json`), `${c}.json`);
  }
});

for (const file of cases) {
  const name = file.replace(/\.json$/, "");
  test(`tampered log: ${name}`, async () => {
    const res = fromJson(ListEventsResponseSchema, JSON.parse(readFileSync(join(dir, file), "utf8")));
    const expect = JSON.parse(readFileSync(join(dir, `${name}.expect.json`), "utf8"));
    const report = await verifyConsents(res.events.map(loggedEvent));
    if (expect.verifies) {
      assert.deepEqual(report.failures, []);
      assert.ok(report.checks.some((c) => c.status === "signed"), "the honest log has signed consents");
      return;
    }
    assert.ok(report.failures.length > 0, "the tampered log does not verify");
    const f = report.failures[0];
    assert.deepEqual(
      { sequence: Number(f.sequence), participant: f.participant, member: f.member, reason: f.reason },
      { sequence: expect.sequence, participant: expect.participant, member: expect.member, reason: expect.reason },
      f.detail,
    );
  });
}

test("a verifier told its members' own keys names the operator's key registered for another member", async () => {
  // Russia's key is the second of the shared vectors; here the operator registered its own in Russia's name.
  const vectors = JSON.parse(readFileSync(join(dir, "../vectors.json"), "utf8"));
  const ownKeys = { "ukraine/ukraine": [vectors.keys[0].key_id], "russia/russia": [vectors.keys[1].key_id] };
  const read = (name: string) => fromJson(ListEventsResponseSchema, JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8"))).events.map(loggedEvent);
  const { failures } = await verifyConsents(read("operators-own-key-registered-for-another-member"), { ownKeys });
  assert.deepEqual(
    failures.slice(0, 1).map((f) => [Number(f.sequence), f.participant, f.member, f.reason]),
    [[9, "russia", "russia", "KEY_REGISTRATION_FOREIGN"]],
  );
  assert.deepEqual((await verifyConsents(read("honest"), { ownKeys })).failures, [], "the honest log registers only their own keys");
});
