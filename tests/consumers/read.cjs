// Reads files the way Sigillo's users' Node programs do, and prints what they got as JSON.
// usage: node read.cjs dotenv|yaml FILE...   -> one JSON document per line, per file
"use strict";
const fs = require("fs");
const path = require("path");
const here = path.join(__dirname, "node_modules");
const dotenv = require(path.join(here, "dotenv"));
const YAML = require(path.join(here, "yaml"));

const [kind, ...files] = process.argv.slice(2);
for (const file of files) {
  const text = fs.readFileSync(file, { encoding: "utf8" });
  let result;
  if (kind === "dotenv") {
    result = dotenv.parse(text);
  } else if (kind === "yaml") {
    result = YAML.parse(text);
  } else {
    throw new Error(`unknown reader ${kind}`);
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}
