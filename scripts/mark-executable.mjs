// tsc writes dist/bin.js without its execute bit. npm sets the bit when it links a package's bin,
// but npx can keep a cached link to an earlier clone's dist/bin.js, and then the freshly built
// file is run as it is: "Permission denied". So the build itself leaves the executable executable.
import { chmodSync, statSync } from "node:fs";

const bin = new URL("../dist/bin.js", import.meta.url);
chmodSync(bin, statSync(bin).mode | 0o111);
