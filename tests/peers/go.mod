// Test infrastructure only: peer migration tools, pinned, built from the Go
// module proxy for the tests that compare schemagate with them
// (tests/pg/peer_parity_test.cc) and for benchmarks. Separate from
// tests/cluster so building a peer never rebuilds the cluster binaries.
module schemagate.dev/tests/peers

go 1.25.11

require github.com/golang-migrate/migrate/v4 v4.20.1

require github.com/lib/pq v1.10.9 // indirect
