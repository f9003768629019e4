// Builds the board into dist/: index.html, board.js and board.css, minified,
// with no source maps and no timestamps, so that the same sources always give
// the same bytes (CI rebuilds and compares with what is committed).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
await build({
  // main.tsx imports board.css, which esbuild writes beside as board.css.
  entryPoints: { board: "src/main.tsx" },
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome120", "firefox120", "safari17"],
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: "dist",
  legalComments: "none",
  charset: "utf8",
  logLevel: "info",
});
copyFileSync("index.html", "dist/index.html");
