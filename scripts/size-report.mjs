// Prints the brotli-compressed size of what a browser downloads to show the Overview page
// (the hydration JS, the wasm and the stylesheet) and fails when it exceeds the budget.
//   node scripts/size-report.mjs [--budget-kb 300]
import { readFileSync } from "node:fs";
import { brotliCompressSync, constants } from "node:zlib";

const budgetArg = process.argv.indexOf("--budget-kb");
const budgetKb = budgetArg > 0 ? Number(process.argv[budgetArg + 1]) : 300;
const pkg = new URL("../target/site/pkg/", import.meta.url);
const files = ["tandem.wasm", "tandem.js", "tandem.css"];

let total = 0;
console.log("file           raw bytes   brotli -q 11");
for (const name of files) {
  const raw = readFileSync(new URL(name, pkg));
  const compressed = brotliCompressSync(raw, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
  }).length;
  total += compressed;
  console.log(`${name.padEnd(14)} ${String(raw.length).padStart(9)}   ${String(compressed).padStart(12)}`);
}
const kb = (total / 1000).toFixed(1);
console.log(`initial download (brotli): ${total} bytes = ${kb} KB; budget ${budgetKb} KB`);
if (total > budgetKb * 1000) {
  console.error(`over budget by ${((total - budgetKb * 1000) / 1000).toFixed(1)} KB`);
  process.exit(1);
}
