// Prints, as one JSON array, asl-validator's verdict ({isValid, errorsText}) on each state machine
// definition read as JSON from standard input (an array of definitions). asl-validator checks the
// Amazon States Language against its JSON schemas (the Distributed Map's ItemReader, ItemBatcher,
// ResultWriter and ProcessorConfig included) and the paths. Run by tests/infra/test_hub_sweep.py
// with NODE_PATH set to where tests/infra/run.sh installed this folder's package-lock.json.
"use strict";
const fs = require("fs");
const aslValidator = require("asl-validator");

try {
  const definitions = JSON.parse(fs.readFileSync(0, "utf8"));
  const verdicts = definitions.map((definition) => {
    const { isValid, errorsText } = aslValidator(definition);
    return { isValid, errorsText: isValid ? "" : errorsText("\n") };
  });
  process.stdout.write(JSON.stringify(verdicts));
} catch (err) {
  process.stderr.write(`validate.js: ${err && err.stack ? err.stack : err}\n`);
  process.exit(2);
}
