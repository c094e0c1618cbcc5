// What every server the benchmarks start as a child shares: it exits when the runner goes
// away (its stdin ends or closes), on SIGTERM or SIGINT, so that a crashed runner never leaves
// an orphan holding a port.

export function exitWithParent(name) {
  const shutdown = (reason) => {
    console.error(`${name}: exiting (${reason})`);
    process.exit(0);
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}
