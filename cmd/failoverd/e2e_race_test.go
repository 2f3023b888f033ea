//go:build race

package main

// raceEnabled: the test binary runs under the race detector, so the
// end-to-end tests race-build the daemon too.
const raceEnabled = true
