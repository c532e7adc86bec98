//go:build race

package export_test

// raceEnabled reports a -race build: the volume test (COVID-19_NYT) is skipped there.
const raceEnabled = true
