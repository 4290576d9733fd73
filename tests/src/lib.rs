//! Support code shared by the integration tests: real peers started on loopback.
