// Bundles the tests for Node's test runner (the sources are TypeScript).
import { build } from "esbuild";
import { readdirSync } from "node:fs";

await build({
  entryPoints: readdirSync("test").filter((f) => f.endsWith(".test.ts")).map((f) => `test/${f}`),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outdir: ".test",
  outExtension: { ".js": ".mjs" },
  logLevel: "warning",
});
