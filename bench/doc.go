// Package bench holds the hub's load benchmarks (load_test.go): they start the embedded runtime in
// the test process and drive it over HTTP with signed platform pushes. `make bench` runs them and
// appends the figures to docs/benchmarks.md through ./bench/benchdoc.
package bench
