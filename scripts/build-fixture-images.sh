#!/usr/bin/env bash
# Builds (or finds up to date) the fixture task images the Docker tests use, so that the first test file does not
# spend its hook time on debootstrap. Needs root, a running Docker Engine, debootstrap and git; the Debian mirror is
# read from this machine's apt sources. Prints the images and their tasks.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx --input-type=module -e '
  const { ensureFixtureImages } = await import("./test/helpers/images.ts");
  const started = Date.now();
  const { base, tasks } = await ensureFixtureImages({ log: (s) => console.log(`[fixture-images] ${s}`) });
  console.log(`base image: ${base}`);
  for (const t of tasks) console.log(`${t.name.padEnd(14)} ${t.repo.padEnd(28)} ${t.image}`);
  console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
'
