// Validate GLB files with the Khronos glTF-Validator: `node tools/validate_gltf.mjs A.glb ...`
// prints one JSON line per file: {"file", "errors", "warnings", "messages": [first few]}.
import { readFile } from "node:fs/promises";
import validator from "gltf-validator";

for (const file of process.argv.slice(2)) {
  const report = await validator.validateBytes(new Uint8Array(await readFile(file)), {
    maxIssues: 50,
  });
  const messages = report.issues.messages
    .filter((m) => m.severity <= 1)
    .slice(0, 10)
    .map((m) => `${m.code} ${m.pointer ?? ""}: ${m.message}`);
  console.log(JSON.stringify({
    file, errors: report.issues.numErrors, warnings: report.issues.numWarnings, messages,
  }));
}
