// Writes docs/plan.md from the plan schema (run after `npm run build`; `npm run docs:plan` does both).
import { writeFileSync } from "node:fs";
import { renderPlanReference } from "../dist/plan/reference-doc.js";

const target = new URL("../docs/plan.md", import.meta.url);
writeFileSync(target, renderPlanReference());
console.log("wrote docs/plan.md");
