// The package deal draft: what a reload of the tab gives back, and the words
// a refusal is explained in, from the server's own messages.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AmendmentKind } from "../src/gen/parley/v1/negotiation_pb.js";
import { PackageDraft, explainPackageRefusal, type KeyValue } from "../src/packagedraft.js";

class MemoryStorage implements KeyValue {
  m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

const six = { kind: AmendmentKind.REPLACE, point: "negotiations/n/points/six", pointNumber: 6, baseRevision: 3n, text: "800,000 troops." };
const nineteen = { kind: AmendmentKind.DELETE, point: "negotiations/n/points/nineteen", pointNumber: 19, baseRevision: 1n, text: "" };

test("a draft survives a reload of the tab, and discarding it forgets it", () => {
  const storage = new MemoryStorage();
  const key = PackageDraft.keyFor("negotiations/n", "ukraine");
  const d = new PackageDraft(key, storage);
  assert.equal(d.started, false);
  assert.equal(d.add(six), 1);
  assert.equal(d.add(nineteen), 2);
  d.setRationale("We give on 6 if you give on 19.");
  d.setCounterTo("negotiations/n/amendments/a");

  const again = new PackageDraft(key, storage);
  assert.equal(again.started, true);
  assert.deepEqual(again.parts, [six, nineteen]);
  assert.equal(again.rationale, "We give on 6 if you give on 19.");
  assert.equal(again.counterTo, "negotiations/n/amendments/a");
  assert.deepEqual([...again.points()], [six.point, nineteen.point]);

  // Another participant signed in in the same tab sees no draft.
  assert.equal(new PackageDraft(PackageDraft.keyFor("negotiations/n", "russia"), storage).started, false);

  again.remove(0);
  assert.deepEqual(new PackageDraft(key, storage).parts, [nineteen]);
  again.discard();
  assert.equal(storage.m.size, 0);
  assert.equal(new PackageDraft(key, storage).started, false);
});

test("a started draft with no part is kept; an unreadable one is dropped", () => {
  const storage = new MemoryStorage();
  const key = PackageDraft.keyFor("negotiations/n", "ukraine");
  new PackageDraft(key, storage).start();
  const d = new PackageDraft(key, storage);
  assert.equal(d.started, true);
  assert.equal(d.parts.length, 0);

  storage.setItem(key, "{not json");
  assert.equal(new PackageDraft(key, storage).started, false);
  assert.equal(storage.getItem(key), null);
});

test("a draft works without storage", () => {
  const d = new PackageDraft("k", null);
  d.add(six);
  assert.equal(d.parts.length, 1);
});

test("refusals are explained in words, naming the parts at fault", () => {
  const point = (n: number) => `point ${[6, 19][n - 1]}`;
  const cases: [string, string, number, number[], RegExp][] = [
    ["PACKAGE_DUPLICATE_POINT", "part 2: part 1 changes point 6 already: a package changes each point once", 2, [1], /^Parts 1 and 2 both change point 6\. .*remove one/],
    ["PACKAGE_DUPLICATE_POINT", "part 3: part 1 inserts at the same place already: give both texts in one INSERT", 3, [1], /^Parts 1 and 3 both insert a new point at the same place/],
    ["PACKAGE_DUPLICATE_POINT", "part 2: it inserts after point 6, which part 1 deletes", 2, [1], /^Part 2 inserts a new point after point 6, which part 1 deletes/],
    ["PACKAGE_TOO_SMALL", "a package deal has 2 to 32 parts, not 1: propose a single change as an amendment of its own", 0, [], /at least two changes/],
    ["STALE_REVISION", "part 2: point 19 changed since the package was drafted", 2, [], /^Part 2 was drafted against a text of point 19 that has changed since/],
    ["POINT_DELETED", "part 1: point … is deleted", 1, [], /^Part 1 changes point 6, which has been deleted/],
    ["TEXT_UNCHANGED", "part 2: the new text is the same as point 19's current text", 2, [], /^Part 2 leaves point 19 as it reads now/],
    ["COUNTER_POINT_MISMATCH", "the amendment answered changes no point of this package", 0, [], /In answer to/],
  ];
  for (const [reason, message, part, others, words] of cases) {
    const got = explainPackageRefusal(reason, message, point);
    assert.equal(got.part, part, message);
    assert.deepEqual(got.others, others, message);
    assert.match(got.words, words);
  }
  // A reason the board has no words for: the server's message says it.
  assert.equal(explainPackageRefusal("SOMETHING_NEW", "part 1: something new", point).words, "");
  assert.equal(explainPackageRefusal("SOMETHING_NEW", "part 1: something new", point).part, 1);
});
