// npm run docs:errors: rewrites README's error-code table from core/error-codes.ts.
// test/node/error-codes.test.ts fails while README is out of date.
import { readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { withErrorCodesTable } from "./error-codes-table";

const path = resolve(import.meta.dirname, "../../README.md");
const before = readFileSync(path, "utf8");
const after = withErrorCodesTable(before);
if (after === before) console.log("README.md error codes are up to date");
else {
  writeFileSync(path, after);
  console.log("README.md error codes rewritten");
}
