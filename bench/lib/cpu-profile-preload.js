// Preloaded into the service by `npm run bench -- --profile`, together with node --cpu-prof: SIGUSR2 ends the
// process with process.exit(), which writes the profile. (On SIGTERM Nest's shutdown hooks end the process by
// re-raising the signal, and --cpu-prof writes nothing then.)
process.on('SIGUSR2', () => process.exit(0));
