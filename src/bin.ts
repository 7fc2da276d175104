#!/usr/bin/env node
// The executable behind `orchestrate`; everything else lives in cli.ts so tests can call main().
import { runCli } from "./cli.js";

runCli();
