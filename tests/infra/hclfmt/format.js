// Prints, as one JSON object {path: formatted text}, each given .tf file as hclwrite.Format
// (the layout `terraform fmt` writes) would write it. @cdktf/hcl-tools is hclwrite compiled to
// WebAssembly: no Terraform binary needed. Run by tests/infra/test_tfschema.py with NODE_PATH
// set to where tests/infra/run.sh installed this folder's package-lock.json.
"use strict";
const fs = require("fs");
const { format } = require("@cdktf/hcl-tools");

(async () => {
  const out = {};
  for (const path of process.argv.slice(2)) {
    out[path] = await format(fs.readFileSync(path, "utf8"));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((err) => {
  process.stderr.write(`format.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(2);
});
